#include "loss_checks.h"

#include <ATen/ATen.h>
#include <fmt/ranges.h>

#include "seqpack/errors.h"

namespace seqpack::losses {

void require_prediction_and_target(const at::Tensor& y_pred, const at::Tensor& target) {
  if (!y_pred.defined()) reject("y_pred", "is required");
  if (!target.defined()) reject("target", "is required");
  if (!at::isFloatingType(y_pred.scalar_type())) {
    reject("y_pred", "must be a floating tensor (got {})", c10::toString(y_pred.scalar_type()));
  }
  if (target.scalar_type() == at::kBool || at::isComplexType(target.scalar_type())) {
    reject("target", "must be a real numeric tensor (got {})", c10::toString(target.scalar_type()));
  }
}

at::Tensor promoted_huber_loss(const at::Tensor& y_pred, const at::Tensor& target, int64_t reduction, double delta) {
  const auto common = at::promote_types(y_pred.scalar_type(), target.scalar_type());
  return at::huber_loss(y_pred.to(common), target.to(common), reduction, delta);
}

void require_same_shape(const at::Tensor& y_pred, const at::Tensor& target) {
  if (y_pred.sizes() != target.sizes()) {
    reject("target", "must have y_pred's shape [{}] (got [{}])", fmt::join(y_pred.sizes(), ", "),
           fmt::join(target.sizes(), ", "));
  }
}

bool broadcasts_to(at::IntArrayRef from, at::IntArrayRef to) {
  if (from.size() > to.size()) return false;
  for (size_t i = 1; i <= from.size(); ++i) {
    const auto have = from[from.size() - i];
    if (have != 1 && have != to[to.size() - i]) return false;
  }
  return true;
}

void require_broadcasts_to(const at::Tensor& tensor, at::IntArrayRef shape, std::string_view argument,
                           std::string_view onto) {
  if (tensor.defined() && !broadcasts_to(tensor.sizes(), shape)) {
    reject(argument, "of shape [{}] must broadcast to {} of shape [{}]", fmt::join(tensor.sizes(), ", "), onto,
           fmt::join(shape, ", "));
  }
}

void require_mask_and_weights_fit(const MaskAndWeights& extra, at::IntArrayRef loss_shape) {
  require_broadcasts_to(extra.mask, loss_shape, "mask", "the loss");
  require_broadcasts_to(extra.weights, loss_shape, "weights", "the loss");
  if (extra.weights.defined() && !at::isFloatingType(extra.weights.scalar_type()) &&
      !at::isIntegralType(extra.weights.scalar_type(), /*includeBool=*/false)) {
    reject("weights", "must be a real numeric tensor (got {})", c10::toString(extra.weights.scalar_type()));
  }
}

at::Tensor masked_mean_or_zero(const at::Tensor& masked_loss, const at::Tensor& mask) {
  if (!mask.any().item<bool>()) return at::zeros({}, masked_loss.options());
  return masked_loss.sum() / mask.to(at::kFloat).sum();
}

at::Tensor apply_weights_then_mask(const at::Tensor& loss, const MaskAndWeights& extra) {
  auto out = loss;
  if (extra.weights.defined()) out = out * extra.weights;
  if (extra.mask.defined()) out = out * extra.mask.to(at::kFloat);
  return out;
}

}  // namespace seqpack::losses
