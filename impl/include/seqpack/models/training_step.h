#pragma once
// One training step of a forecasting model, as the benchmarks and users run it: forward, the loss
// as the original's calc_loss computes it (the model's default criterion and use_loss_masking
// unless given), backward, and an Adam step.
#include <torch/optim/adam.h>

#include <memory>
#include <optional>

#include "seqpack/models/forecast_model.h"

namespace seqpack::models {

struct TrainingStepOptions {
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(std::optional<Criterion>, criterion) = std::nullopt;     // default: the model's
  TORCH_ARG(std::optional<bool>, use_loss_masking) = std::nullopt;  // default: the model's
};

class TrainingStep {
 public:
  TrainingStep(std::shared_ptr<ForecastModel> model, const TrainingStepOptions& options = {});
  // Returns the loss (detached) of this step, taken before the update: backward, then update.
  at::Tensor operator()(const ModelInputs& inputs, const at::Tensor& target);
  // The two halves, for a caller that works on the gradients in between (data-parallel training
  // averages them over its ranks): gradients cleared, forward, loss, backward; returns the loss
  // (detached). Then the optimizer's step on whatever gradients the parameters hold.
  at::Tensor backward(const ModelInputs& inputs, const at::Tensor& target);
  void update();

 private:
  std::shared_ptr<ForecastModel> model_;
  Criterion criterion_;
  bool use_loss_masking_;
  torch::optim::Adam optimizer_;
};

}  // namespace seqpack::models
