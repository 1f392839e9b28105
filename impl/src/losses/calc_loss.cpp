#include "seqpack/calc_loss.h"

#include <ATen/ATen.h>

#include "loss_checks.h"
#include "seqpack/errors.h"
#include "seqpack/masks.h"

namespace seqpack {
namespace {

at::Tensor torch_criterion(const Criterion& criterion, const at::Tensor& y_pred, const at::Tensor& target) {
  losses::require_prediction_and_target(y_pred, target);
  losses::require_same_shape(y_pred, target);
  const auto reduction = criterion.pointwise().reduction() == Reduction::Mean  ? at::Reduction::Mean
                         : criterion.pointwise().reduction() == Reduction::Sum ? at::Reduction::Sum
                                                                              : at::Reduction::None;
  switch (criterion.kind()) {
    case CriterionKind::TorchMSE: return at::mse_loss(y_pred, target, reduction);
    case CriterionKind::TorchL1: return at::l1_loss(y_pred, target, reduction);
    case CriterionKind::TorchHuber:
      if (!(criterion.pointwise().delta() > 0)) reject("delta", "must be positive (got {})", criterion.pointwise().delta());
      return losses::promoted_huber_loss(y_pred, target, reduction, criterion.pointwise().delta());
    default:
      if (criterion.beta() < 0) reject("beta", "must not be negative (got {})", criterion.beta());
      return at::smooth_l1_loss(y_pred, target, reduction, criterion.beta());
  }
}

// The valid decoder steps, shaped like the target (the original's rules).
at::Tensor loss_mask(const at::Tensor& target, const at::Tensor& decoder_lengths) {
  if (target.dim() < 2) reject("target", "must have a time dim (dim 1) for loss masking (got rank {})", target.dim());
  if (decoder_lengths.numel() != target.size(0)) {
    reject("decoder_lengths", "must have one length per row: batch size is {} (got {} lengths)", target.size(0),
           decoder_lengths.numel());
  }
  auto mask = create_mask(target.size(1), decoder_lengths, CreateMaskOptions().inverse(true));
  if (target.dim() > 2) {
    while (mask.dim() < target.dim()) mask = mask.unsqueeze(-1);
    if (target.size(-1) > 1) mask = mask.expand(target.sizes());
  }
  return mask;
}

}  // namespace

bool Criterion::takes_mask() const {
  return kind() != CriterionKind::TorchMSE && kind() != CriterionKind::TorchL1 &&
         kind() != CriterionKind::TorchHuber && kind() != CriterionKind::TorchSmoothL1;
}

at::Tensor Criterion::operator()(const at::Tensor& y_pred, const at::Tensor& target,
                                 const MaskAndWeights& extra) const {
  switch (kind()) {
    case CriterionKind::MSE: return mse_loss(y_pred, target, extra, mse());
    case CriterionKind::MAE: return mae_loss(y_pred, target, extra, pointwise());
    case CriterionKind::Huber: return huber_loss(y_pred, target, extra, pointwise());
    case CriterionKind::MAPE: return mape_loss(y_pred, target, extra, pointwise());
    case CriterionKind::SMAPE: return smape_loss(y_pred, target, extra, pointwise());
    case CriterionKind::Quantile: return quantile_loss(y_pred, target, extra, quantile());
    default:
      if (extra.mask.defined() || extra.weights.defined()) {
        reject("criterion", "torch.nn criteria take no mask or weights of their own");
      }
      return torch_criterion(*this, y_pred, target);
  }
}

at::Tensor calc_loss(const at::Tensor& model_output, const at::Tensor& target,
                     const std::optional<at::Tensor>& decoder_lengths, const Criterion& criterion,
                     bool use_loss_masking) {
  losses::require_prediction_and_target(model_output, target);
  const auto shaped_target = model_output.dim() == target.dim() - 1 ? target.squeeze(-1) : target;
  at::Tensor mask;
  if (use_loss_masking && decoder_lengths && decoder_lengths->defined()) {
    mask = loss_mask(shaped_target, *decoder_lengths);
  }
  if (criterion.takes_mask()) return criterion(model_output, shaped_target, {.mask = mask, .weights = {}});
  const auto loss = criterion(model_output, shaped_target);
  if (!mask.defined() || loss.dim() == 0) return loss;
  losses::require_broadcasts_to(mask, loss.sizes(), "decoder_lengths (as a loss mask)", "the loss");
  return losses::masked_mean_or_zero(loss * mask.to(at::kFloat), mask);
}

}  // namespace seqpack
