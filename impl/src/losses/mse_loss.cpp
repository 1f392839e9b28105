// The original's mse_loss (nn/functional/_masked_mse.py), including its smoothness term.
#include <ATen/ATen.h>
#include <fmt/ranges.h>

#include <vector>

#include "loss_checks.h"
#include "seqpack/errors.h"

namespace seqpack {
namespace {

int64_t to_aten(Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return at::Reduction::Mean;
    case Reduction::Sum: return at::Reduction::Sum;
    case Reduction::None: return at::Reduction::None;
  }
  return at::Reduction::Mean;
}

// Squared finite difference of the given order along `dim` (shape shrinks by `order` there).
at::Tensor squared_difference(const at::Tensor& e, int64_t order, int64_t dim) {
  at::Tensor diff;
  if (order == 1) {
    diff = e.slice(dim, 1) - e.slice(dim, 0, -1);
  } else if (order == 2) {
    diff = e.slice(dim, 2) - 2 * e.slice(dim, 1, -1) + e.slice(dim, 0, -2);
  } else {
    diff = e.slice(dim, 3) - 3 * e.slice(dim, 2, -1) + 3 * e.slice(dim, 1, -2) - e.slice(dim, 0, -3);
  }
  return diff.pow(2);
}

void check_regularization(const MSELossOptions& options, at::IntArrayRef loss_shape) {
  if (!options.regularization()) return;
  const auto order = options.regularization_order();
  if (order < 1 || order > 3) reject("regularization_order", "must be 1, 2 or 3 (got {})", order);
  const auto rank = static_cast<int64_t>(loss_shape.size());
  const auto dim = options.regularization_dim();
  if (dim < -rank || dim >= rank) {
    reject("regularization_dim", "must be a dim of the loss, in [{}, {}) (got {})", -rank, rank, dim);
  }
  // The term, summed over `dim`, is added back onto the loss: it must broadcast there.
  std::vector<int64_t> term(loss_shape.begin(), loss_shape.end());
  term.erase(term.begin() + (dim < 0 ? dim + rank : dim));
  if (!losses::broadcasts_to(term, loss_shape)) {
    reject("regularization_dim",
           "the smoothness term along dim {} has shape [{}], which does not broadcast onto the loss [{}] "
           "(the original fails here too)",
           dim, fmt::join(term, ", "), fmt::join(loss_shape, ", "));
  }
}

}  // namespace

at::Tensor mse_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra,
                    const MSELossOptions& options) {
  losses::require_prediction_and_target(y_pred, target);
  if (target.numel() != y_pred.numel()) {
    reject("target", "must have as many elements as y_pred ({}; got {})", y_pred.numel(), target.numel());
  }
  const auto shape = y_pred.sizes();
  losses::require_broadcasts_to(extra.mask, shape, "mask", "the loss");
  if (extra.weights.defined()) {
    // The original gives weights trailing dims until they match the loss's rank.
    auto weights = extra.weights;
    while (weights.dim() < y_pred.dim()) weights = weights.unsqueeze(-1);
    losses::require_broadcasts_to(weights, shape, "weights", "the loss (after adding trailing dims)");
  }
  check_regularization(options, shape);

  const auto target_as_pred = target.reshape(shape);
  if (!extra.mask.defined() && !extra.weights.defined()) {
    // The original returns here: no smoothness term without a mask or weights.
    return at::mse_loss(y_pred, target_as_pred, to_aten(options.reduction()));
  }
  auto loss = at::mse_loss(y_pred, target_as_pred, at::Reduction::None);
  if (extra.mask.defined()) loss = loss * extra.mask;
  if (extra.weights.defined()) {
    auto weights = extra.weights;
    while (weights.dim() < loss.dim()) weights = weights.unsqueeze(-1);
    loss.mul_(weights);
  }
  if (const auto strength = options.regularization()) {
    const auto dim = options.regularization_dim();
    loss.add_(*strength * squared_difference(loss, options.regularization_order(), dim).sum(dim));
  }
  switch (options.reduction()) {
    case Reduction::Mean: {
      if (!extra.mask.defined()) return loss.mean();
      auto count = extra.mask.sum();
      // Zero: an all-masked batch divides 0 by 1, so loss and gradient are 0 (not 0/0).
      if (options.all_masked() == AllMasked::Zero) count = at::where(count == 0, at::ones_like(count), count);
      return loss.sum() / count;
    }
    case Reduction::Sum: return at::nansum(loss);
    case Reduction::None: return loss;
  }
  return loss;
}

}  // namespace seqpack
