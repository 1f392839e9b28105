// The original's QuantileLoss (nn/_quantile_loss.py).
#include <ATen/ATen.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "loss_checks.h"
#include "seqpack/errors.h"

namespace seqpack {
namespace {

std::vector<float> sorted_float32(std::vector<double> quantiles) {
  if (quantiles.empty()) reject("quantiles", "must hold at least one quantile");
  for (const double q : quantiles) {
    if (!(q >= 0.0 && q <= 1.0)) reject("quantiles", "must each lie in [0, 1] (got {})", q);
  }
  std::sort(quantiles.begin(), quantiles.end());
  return {quantiles.begin(), quantiles.end()};
}

// The original's target: (B, T) gains a trailing 1; the result must be y_pred's shape with 1 for Q.
at::Tensor target_with_unit_quantile_dim(const at::Tensor& y_pred, const at::Tensor& target) {
  if (y_pred.dim() != target.dim() && y_pred.dim() != target.dim() + 1) {
    reject("y_pred", "must have the target's rank or one more, (..., n_quantiles) (got [{}] and target [{}])",
           fmt::join(y_pred.sizes(), ", "), fmt::join(target.sizes(), ", "));
  }
  const auto shaped = target.dim() <= 2 ? target.unsqueeze(-1) : target;
  auto want = y_pred.sizes().vec();
  want.back() = 1;
  if (shaped.sizes() != at::IntArrayRef(want)) {
    reject("target", "must be y_pred's shape without the quantile dim, or with 1 there: [{}] (got [{}])",
           fmt::join(want, ", "), fmt::join(target.sizes(), ", "));
  }
  return shaped;
}

// The original subtracts y_pred (..., m) from the target repeated n_quantiles = n times, so
// torch broadcasting decides: m == n, one quantile spread over m columns, or one column
// scored at n quantiles. The loss has max(m, n) columns.
int64_t loss_columns(const at::Tensor& y_pred, int64_t quantiles) {
  const auto columns = y_pred.size(-1);
  if (columns != quantiles && columns != 1 && quantiles != 1) {
    reject("y_pred", "must end in a dim of size n_quantiles = {} or 1, or be scored at one quantile (got [{}])",
           quantiles, fmt::join(y_pred.sizes(), ", "));
  }
  return std::max(columns, quantiles);
}

// weights * mask, shaped to broadcast over the loss's quantile dim.
at::Tensor combined_weights(const MaskAndWeights& extra, const at::Tensor& y_pred, int64_t quantiles,
                            at::IntArrayRef loss_shape) {
  at::Tensor weights;
  if (extra.mask.defined() && extra.weights.defined()) {
    try {
      at::infer_size(extra.weights.sizes(), extra.mask.sizes());
    } catch (const c10::Error&) {
      reject("mask", "must broadcast with weights (got [{}] and weights [{}])", fmt::join(extra.mask.sizes(), ", "),
             fmt::join(extra.weights.sizes(), ", "));
    }
    weights = extra.weights * extra.mask.to(at::kFloat);
  } else if (extra.mask.defined()) {
    weights = extra.mask.to(at::kFloat);
  } else {
    weights = extra.weights;
  }
  if (!weights.defined() || weights.dim() == 0) return weights;
  if (weights.dim() == y_pred.dim() - 1) {
    weights = weights.unsqueeze(-1);  // the same weight for every quantile
  } else if (weights.dim() == y_pred.dim() && weights.size(-1) != 1 && weights.size(-1) != quantiles) {
    reject("weights", "must have 1 or n_quantiles = {} in its last dim (got [{}])", quantiles,
           fmt::join(weights.sizes(), ", "));
  }
  losses::require_broadcasts_to(weights, loss_shape, "weights * mask", "the loss");
  return weights;
}

}  // namespace

std::vector<double> default_quantiles() { return {0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98}; }

at::Tensor quantile_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra,
                         const QuantileLossOptions& options) {
  const auto levels = sorted_float32(options.quantiles());
  const auto count = static_cast<int64_t>(levels.size());
  losses::require_prediction_and_target(y_pred, target);
  if (y_pred.dim() < 2) reject("y_pred", "must have a time dim (dim 1) to sum over (got rank {})", y_pred.dim());
  auto loss_shape = y_pred.sizes().vec();
  loss_shape.back() = loss_columns(y_pred, count);
  const auto shaped_target = target_with_unit_quantile_dim(y_pred, target);
  const auto weights = combined_weights(extra, y_pred, count, loss_shape);

  auto error = shaped_target.expand(y_pred.sizes()) - y_pred;
  if (weights.defined()) error = error * weights;
  // Held in float32 like the original's buffer; promoted when multiplied by a float64 error.
  const auto q = at::tensor(at::ArrayRef<float>(levels), y_pred.options().dtype(at::kFloat));
  const auto loss = at::max((q - 1) * error, q * error);
  return loss.sum(1).mean();
}

}  // namespace seqpack
