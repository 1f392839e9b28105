#include "seqpack/models/training_run.h"

#include <set>
#include <vector>

namespace seqpack::models {
namespace {

at::Tensor rolled(const at::Tensor& rows, int64_t shift) { return at::roll(rows, {shift}, {0}); }

std::optional<at::Tensor> rolled(const std::optional<at::Tensor>& rows, int64_t shift) {
  return rows ? std::optional<at::Tensor>(rolled(*rows, shift)) : std::nullopt;
}

ModelInputs rolled(const ModelInputs& inputs, int64_t shift) {
  return {rolled(inputs.past_sequence, shift), rolled(inputs.future_sequence, shift),
          rolled(inputs.encoder_lengths, shift), rolled(inputs.decoder_lengths, shift),
          rolled(inputs.static_covariates, shift)};
}

}  // namespace

TensorMap run_training(const std::shared_ptr<ForecastModel>& model, const ModelInputs& inputs, const at::Tensor& target,
                       int64_t steps, const TrainingStepOptions& options) {
  TrainingStep step(model, options);
  std::vector<at::Tensor> losses;
  for (int64_t k = 0; k < steps; ++k) losses.push_back(step(rolled(inputs, k), rolled(target, k)));
  TensorMap out{{"loss", at::stack(losses)}};
  std::set<const void*> seen;
  for (const auto& item : model->named_parameters()) {
    if (!seen.insert(item.value().unsafeGetTensorImpl()).second) continue;
    out["param." + item.key()] = item.value().detach().clone();
    const auto moments = step.adam_moments(item.value());
    out["exp_avg." + item.key()] = moments.first;
    out["exp_avg_sq." + item.key()] = moments.second;
  }
  return out;
}

}  // namespace seqpack::models
