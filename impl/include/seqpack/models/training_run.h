#pragma once
// Several training steps in a row, as a training loop runs them: what a fault that only shows from
// the second step on (optimiser state, a layout cached across batches) changes. Step k trains on the
// batch with its rows rolled by k (torch.roll(x, k, dims=0) on every per-row input), so each step
// packs its rows in another order. Returns the loss of each step ("loss", shape (steps,)), and after
// the last step every parameter ("param.<name>") and Adam's moments ("exp_avg.<name>",
// "exp_avg_sq.<name>"); a module shared by two owners appears once, under its first name.
#include <memory>

#include "seqpack/models/training_step.h"
#include "seqpack/safetensors.h"

namespace seqpack::models {

// Bound on params.training_steps: a golden trains for a few steps, and a typo must not ask for days.
constexpr int64_t kMaxTrainingSteps = 1000;

TensorMap run_training(const std::shared_ptr<ForecastModel>& model, const ModelInputs& inputs, const at::Tensor& target,
                       int64_t steps, const TrainingStepOptions& options);

}  // namespace seqpack::models
