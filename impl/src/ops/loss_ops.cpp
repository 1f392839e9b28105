// `seqpack eval` entries for the losses and calc_loss. Params are the loss classes' constructor
// arguments; with --backward the op also writes grad.y_pred, the gradient of the loss (summed
// first when the reduction is "none") with respect to y_pred.
#include <ATen/ATen.h>

#include <string>

#include "seqpack/calc_loss.h"
#include "seqpack/errors.h"
#include "seqpack/ops/loss_registry.h"
#include "seqpack/ops/registry.h"

namespace seqpack::ops {
namespace {

// Runs `loss_of(y_pred)`; with backward, differentiates it with respect to y_pred.
template <typename LossOf>
TensorMap loss_with_gradient(const at::Tensor& y_pred, const EvalOptions& options, LossOf loss_of) {
  if (!options.backward) return {{"loss", loss_of(y_pred)}};
  if (!at::isFloatingType(y_pred.scalar_type())) reject("y_pred", "must be a floating tensor");
  const auto leaf = y_pred.detach().clone().requires_grad_(true);
  const auto loss = loss_of(leaf);
  // A loss with no graph (the original's constant 0 for an all-masked batch) has zero gradient.
  auto grad = at::zeros_like(leaf);
  if (loss.requires_grad()) {
    loss.sum().backward();
    grad = leaf.grad();
  }
  return {{"loss", loss.detach()}, {"grad.y_pred", grad}};
}

OpFunction loss_op(const LossEntry& entry) {
  return [&entry](Inputs& in, Params& params, const EvalOptions& options) {
    const auto criterion = entry.read(params);
    const auto y_pred = in.required("y_pred");
    const auto target = in.required("target");
    const MaskAndWeights extra{in.optional("mask").value_or(at::Tensor()), in.optional("weights").value_or(at::Tensor())};
    return loss_with_gradient(y_pred, options, [&](const at::Tensor& y) { return criterion(y, target, extra); });
  };
}

TensorMap calc_loss_op(Inputs& in, Params& params, const EvalOptions& options) {
  const auto criterion = find_criterion(params.get_required_string("criterion"), "params.criterion").read(params);
  const bool use_loss_masking = params.get_bool("use_loss_masking", true);
  const auto y_pred = in.required("y_pred");
  const auto target = in.required("target");
  const auto decoder_lengths = in.optional("decoder_lengths");
  return loss_with_gradient(y_pred, options, [&](const at::Tensor& y) {
    return calc_loss(y, target, decoder_lengths, criterion, use_loss_masking);
  });
}

// One line for `seqpack ops`: the parameters the entry's reader asks for (so the list cannot
// drift from what is read).
std::string summary(const LossEntry& entry) {
  std::string line = "y_pred, target, mask, weights; ";
  const auto parameters = entry.parameters();
  for (size_t i = 0; i < parameters.size(); ++i) line += (i ? ", " : "") + parameters[i].name;
  return line + " -> loss [, grad.y_pred]";
}

}  // namespace

void add_loss_ops(Registry& registry) {
  for (const auto& entry : loss_registry()) {
    if (!entry.op.empty()) registry[entry.op] = {loss_op(entry), summary(entry), /*has_backward=*/true};
  }
  registry["calc_loss"] = {calc_loss_op,
                           "y_pred, target, decoder_lengths; criterion, use_loss_masking and the criterion's "
                           "arguments -> loss [, grad.y_pred]",
                           true};
}

}  // namespace seqpack::ops
