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
  // Returns the loss (detached) of this step, taken before the update.
  at::Tensor operator()(const ModelInputs& inputs, const at::Tensor& target);

 private:
  std::shared_ptr<ForecastModel> model_;
  Criterion criterion_;
  bool use_loss_masking_;
  torch::optim::Adam optimizer_;
};

}  // namespace seqpack::models
