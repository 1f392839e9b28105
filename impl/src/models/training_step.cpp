#include "seqpack/models/training_step.h"

namespace seqpack::models {

TrainingStep::TrainingStep(std::shared_ptr<ForecastModel> model, const TrainingStepOptions& options)
    : model_(std::move(model)),
      criterion_(options.criterion().value_or(model_->default_criterion())),
      use_loss_masking_(options.use_loss_masking().value_or(model_->default_use_loss_masking())),
      optimizer_(model_->parameters(), torch::optim::AdamOptions(options.learning_rate())) {}

at::Tensor TrainingStep::operator()(const ModelInputs& inputs, const at::Tensor& target) {
  model_->train();
  optimizer_.zero_grad();
  const auto output = model_->forward(inputs);
  const auto loss = calc_loss(output, target, inputs.decoder_lengths, criterion_, use_loss_masking_);
  loss.backward();
  optimizer_.step();
  return loss.detach();
}

}  // namespace seqpack::models
