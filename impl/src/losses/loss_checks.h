#pragma once
// Input checks shared by the losses: each throws InvalidArgument naming the argument and the rule
// before anything is computed.
#include <ATen/core/Tensor.h>

#include <string_view>

#include "seqpack/losses.h"

namespace seqpack::losses {

// y_pred a floating tensor, target a defined numeric one.
void require_prediction_and_target(const at::Tensor& y_pred, const at::Tensor& target);

// at::huber_loss on both inputs cast to their promoted dtype: the forward PyTorch computes, and a
// backward where PyTorch's own kernel fails on mixed dtypes ("Found dtype Long but expected
// Double", an int64 target found by the bad-input campaign as exit 4).
at::Tensor promoted_huber_loss(const at::Tensor& y_pred, const at::Tensor& target, int64_t reduction, double delta);
void require_same_shape(const at::Tensor& y_pred, const at::Tensor& target);

// Whether a tensor of shape `from` broadcasts to `to` without growing it.
bool broadcasts_to(at::IntArrayRef from, at::IntArrayRef to);

// `tensor` (if defined) broadcasts to `shape` without growing it.
void require_broadcasts_to(const at::Tensor& tensor, at::IntArrayRef shape, std::string_view argument,
                           std::string_view onto);

// mask and weights each broadcast to the elementwise loss's shape.
void require_mask_and_weights_fit(const MaskAndWeights& extra, at::IntArrayRef loss_shape);

// `value` reduced as the original's MAE, Huber and generic path do: mean over the valid steps
// (sum / sum(mask as float32)), 0 without gradient when no step is valid.
at::Tensor masked_mean_or_zero(const at::Tensor& masked_loss, const at::Tensor& mask);

// x * weights * mask.float(), the original's order of products, skipping absent factors.
at::Tensor apply_weights_then_mask(const at::Tensor& loss, const MaskAndWeights& extra);

}  // namespace seqpack::losses
