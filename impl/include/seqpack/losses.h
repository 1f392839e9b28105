#pragma once
// The masked losses of transformertf (nn/_weighted_loss.py, nn/_quantile_loss.py, nn/functional/),
// computed with the same ATen operations in the same order, so that values and gradients match
// PyTorch's. `mask` and `weights` are optional (an undefined tensor: absent); both must broadcast to
// the elementwise loss's shape, where the original would fail or silently broadcast into a larger
// tensor.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <optional>
#include <string_view>
#include <vector>

namespace seqpack {

enum class Reduction { Mean, Sum, None };
Reduction parse_reduction(std::string_view text, std::string_view argument);

// What a masked mean returns when every step is masked. NaN is the original's 0/0 (MSE); Zero
// returns 0 with a zero gradient, so that one empty batch does not poison a training run.
enum class AllMasked { NaN, Zero };
AllMasked parse_all_masked(std::string_view text, std::string_view argument);

struct MaskAndWeights {
  at::Tensor mask;     // bool or numeric; 1 keeps a step, 0 drops it
  at::Tensor weights;  // numeric
};

struct MSELossOptions {
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  // Smoothness penalty: regularization * sum along regularization_dim of the squared finite
  // difference (order 1 to 3) of the masked, weighted loss. As in the original it applies only
  // when a mask or weights are given, and it must broadcast back onto the loss.
  TORCH_ARG(std::optional<double>, regularization) = std::nullopt;
  TORCH_ARG(int64_t, regularization_order) = 1;
  TORCH_ARG(int64_t, regularization_dim) = 0;
  TORCH_ARG(AllMasked, all_masked) = AllMasked::NaN;
};

// Squared error; target is viewed as y_pred's shape (same element count). Mean with a mask divides
// by sum(mask); sum is a nansum.
at::Tensor mse_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra = {},
                    const MSELossOptions& options = {});

struct PointwiseLossOptions {
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  TORCH_ARG(double, delta) = 1.0;  // Huber only
};

// MAE and Huber: mean with a mask = sum / sum(mask), 0 (no gradient) when all is masked.
// MAPE |(y - ŷ) / y| and SMAPE 2|ŷ - y| / (|y| + |ŷ|): the mean divides by every element, masked
// ones included. y_pred and target have the same shape.
at::Tensor mae_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra = {},
                    const PointwiseLossOptions& options = {});
at::Tensor huber_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra = {},
                      const PointwiseLossOptions& options = {});
at::Tensor mape_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra = {},
                     const PointwiseLossOptions& options = {});
at::Tensor smape_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra = {},
                      const PointwiseLossOptions& options = {});

// The original's default quantiles.
std::vector<double> default_quantiles();

struct QuantileLossOptions {
  // Sorted before use and held in float32, like the original's buffer (so 0.1 is 0.1f).
  TORCH_ARG(std::vector<double>, quantiles) = default_quantiles();
};

// Pinball loss. y_pred (..., m) with m = Q, or m = 1 or Q = 1 (broadcast to max(m, Q) columns, as
// the original does); target y_pred's shape with 1 for m, or without it when that leaves at most 2
// dims. w = weights * mask, e = (y - ŷ_q) * w, max((q - 1) e, q e) summed over dim 1, then the mean
// of the rest. weights: a scalar, y_pred's shape without Q, or with 1 or Q for Q.
at::Tensor quantile_loss(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra = {},
                         const QuantileLossOptions& options = {});

}  // namespace seqpack
