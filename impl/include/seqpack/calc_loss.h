#pragma once
// The loss step of transformertf's models (calc_loss in models/_base_transformer.py): a criterion,
// and a loss mask built from the decoder lengths.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <optional>
#include <string_view>

#include "seqpack/losses.h"

namespace seqpack {

enum class CriterionKind {
  MSE, MAE, Huber, MAPE, SMAPE, Quantile,  // transformertf's criteria: they take the mask themselves
  TorchMSE, TorchL1, TorchHuber, TorchSmoothL1,  // torch.nn's: masked afterwards if elementwise
};

// Names as in Python: "MSELoss", "MAELoss" (or "L1Loss"), "HuberLoss", "MAPELoss", "SMAPELoss",
// "QuantileLoss", and "torch.nn.MSELoss", "torch.nn.L1Loss", "torch.nn.HuberLoss",
// "torch.nn.SmoothL1Loss". Defined by the table of losses (ops/loss_registry.cpp), which holds
// each criterion's names, its op and its constructor arguments.
CriterionKind parse_criterion(std::string_view text, std::string_view argument);

// A criterion and its constructor arguments.
struct Criterion {
  TORCH_ARG(CriterionKind, kind) = CriterionKind::MSE;
  TORCH_ARG(MSELossOptions, mse) = {};               // MSE
  TORCH_ARG(PointwiseLossOptions, pointwise) = {};   // MAE, Huber, MAPE, SMAPE; torch.nn's reduction, delta
  TORCH_ARG(QuantileLossOptions, quantile) = {};     // Quantile
  TORCH_ARG(double, beta) = 1.0;                     // torch.nn.SmoothL1Loss

 public:  // (TORCH_ARG leaves the section private)
  // The criterion on its own, as the original's class computes it (torch.nn's with their reduction).
  at::Tensor operator()(const at::Tensor& y_pred, const at::Tensor& target, const MaskAndWeights& extra = {}) const;
  bool takes_mask() const;
};

// The original's calc_loss: target squeezed on its last dim when model_output has one dim fewer;
// with use_loss_masking and decoder_lengths ((B,) or (B, 1)), a mask of the valid decoder steps
// (create_mask(T, lengths, left, inverse)) given to the criterion, or applied to an elementwise
// torch.nn loss afterwards (sum / count, 0 when nothing is valid). A scalar torch.nn loss (the
// default reduction) is returned unmasked, as in the original.
at::Tensor calc_loss(const at::Tensor& model_output, const at::Tensor& target,
                     const std::optional<at::Tensor>& decoder_lengths, const Criterion& criterion,
                     bool use_loss_masking = true);

}  // namespace seqpack
