#include "seqpack/models/training_step.h"

#include "seqpack/models/real_steps.h"

namespace seqpack::models {

TrainingStep::TrainingStep(std::shared_ptr<ForecastModel> model, const TrainingStepOptions& options)
    : model_(std::move(model)),
      criterion_(options.criterion().value_or(model_->default_criterion())),
      use_loss_masking_(options.use_loss_masking().value_or(model_->default_use_loss_masking())),
      optimizer_(model_->parameters(), torch::optim::AdamOptions(options.learning_rate())) {}

at::Tensor TrainingStep::operator()(const ModelInputs& inputs, const at::Tensor& target) {
  auto loss = backward(inputs, target);
  update();
  return loss;
}

at::Tensor TrainingStep::backward(const ModelInputs& inputs, const at::Tensor& target) {
  model_->train();
  optimizer_.zero_grad();
  const auto real = model_->forward_real_steps(inputs);
  const auto loss = real ? padding_free_loss(*real, target, inputs.decoder_lengths, criterion_, use_loss_masking_)
                         : calc_loss(model_->forward(inputs), target, inputs.decoder_lengths, criterion_, use_loss_masking_);
  loss.backward();
  return loss.detach();
}

void TrainingStep::update() { optimizer_.step(); }

}  // namespace seqpack::models
