#pragma once
// One training step of a forecasting model, as the benchmarks and users run it: forward, the loss
// as the original's calc_loss computes it (the model's default criterion and use_loss_masking
// unless given), backward, and an Adam step; in float32, or with forward and loss under autocast
// (bfloat16, or float16 with loss scaling), as a PyTorch training loop under torch.autocast does.
#include <torch/optim/adam.h>

#include <memory>
#include <optional>
#include <utility>

#include "seqpack/grad_scaler.h"
#include "seqpack/models/forecast_model.h"
#include "seqpack/precision.h"

namespace seqpack::models {

struct TrainingStepOptions {
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(std::optional<Criterion>, criterion) = std::nullopt;     // default: the model's
  TORCH_ARG(std::optional<bool>, use_loss_masking) = std::nullopt;  // default: the model's
  // Autocast on the device type of the model's parameters around forward and loss; Float16 also
  // scales the loss (GradScaler's defaults) and skips a step whose gradients hold inf/nan.
  TORCH_ARG(Precision, precision) = Precision::Float32;
};

class TrainingStep {
 public:
  TrainingStep(std::shared_ptr<ForecastModel> model, const TrainingStepOptions& options = {});
  // Returns the loss (detached) of this step, taken before the update: backward, then update.
  at::Tensor operator()(const ModelInputs& inputs, const at::Tensor& target);
  // The two halves, for a caller that works on the gradients in between (data-parallel training
  // averages them over its ranks): gradients cleared, forward, loss, backward; returns the loss
  // (detached, unscaled). Then the optimizer's step on whatever gradients the parameters hold;
  // in float16 these are the scaled gradients (a sum or mean of them over ranks stays scaled): the
  // scaler unscales them, steps unless one is inf/nan, and updates its scale.
  at::Tensor backward(const ModelInputs& inputs, const at::Tensor& target);
  void update();
  // Float16 only: the scaler (its scale_value(), for a caller that reports skipped steps).
  const std::optional<GradScaler>& grad_scaler() const { return grad_scaler_; }
  // Adam's first and second moments of one parameter (zeros before its first step).
  std::pair<at::Tensor, at::Tensor> adam_moments(const at::Tensor& parameter) const;

 private:
  std::shared_ptr<ForecastModel> model_;
  Criterion criterion_;
  bool use_loss_masking_;
  Precision precision_;
  torch::optim::Adam optimizer_;
  std::optional<GradScaler> grad_scaler_;
};

}  // namespace seqpack::models
