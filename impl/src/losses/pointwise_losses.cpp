// MAE, Huber (nn/_weighted_loss.py), MAPE and SMAPE (nn/functional/_functional.py).
#include <ATen/ATen.h>

#include "loss_checks.h"
#include "seqpack/errors.h"

namespace seqpack {
namespace {

void check_inputs(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra) {
  losses::require_prediction_and_target(y_pred, target);
  losses::require_same_shape(y_pred, target);
  losses::require_mask_and_weights_fit(extra, y_pred.sizes());
}

// MAE and Huber: weights, then mask; a masked mean over the valid steps.
at::Tensor reduce_over_valid(const at::Tensor& elementwise, const MaskAndWeights& extra, Reduction reduction) {
  const auto loss = losses::apply_weights_then_mask(elementwise, extra);
  switch (reduction) {
    case Reduction::Mean:
      return extra.mask.defined() ? losses::masked_mean_or_zero(loss, extra.mask) : loss.mean();
    case Reduction::Sum: return loss.sum();
    case Reduction::None: return loss;
  }
  return loss;
}

// MAPE and SMAPE: one combined factor (weights * mask), and a mean over every element.
at::Tensor reduce_over_all(at::Tensor elementwise, const MaskAndWeights& extra, Reduction reduction) {
  const auto mask = extra.mask.defined() ? extra.mask.to(at::kFloat) : at::Tensor();
  if (mask.defined() && extra.weights.defined()) {
    elementwise.mul_(extra.weights * mask);
  } else if (mask.defined()) {
    elementwise.mul_(mask);
  } else if (extra.weights.defined()) {
    elementwise.mul_(extra.weights);
  }
  switch (reduction) {
    case Reduction::Mean: return elementwise.mean();
    case Reduction::Sum: return elementwise.sum();
    case Reduction::None: return elementwise;
  }
  return elementwise;
}

}  // namespace

at::Tensor mae_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra,
                    const PointwiseLossOptions& options) {
  check_inputs(y_pred, target, extra);
  return reduce_over_valid(at::l1_loss(y_pred, target, at::Reduction::None), extra, options.reduction());
}

at::Tensor huber_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra,
                      const PointwiseLossOptions& options) {
  if (!(options.delta() > 0)) reject("delta", "must be positive (got {})", options.delta());
  check_inputs(y_pred, target, extra);
  return reduce_over_valid(losses::promoted_huber_loss(y_pred, target, at::Reduction::None, options.delta()), extra,
                           options.reduction());
}

at::Tensor mape_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra,
                     const PointwiseLossOptions& options) {
  check_inputs(y_pred, target, extra);
  return reduce_over_all(at::abs((target - y_pred) / target), extra, options.reduction());
}

at::Tensor smape_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra,
                      const PointwiseLossOptions& options) {
  check_inputs(y_pred, target, extra);
  return reduce_over_all(2 * at::abs(y_pred - target) / (at::abs(target) + at::abs(y_pred)), extra,
                         options.reduction());
}

}  // namespace seqpack
