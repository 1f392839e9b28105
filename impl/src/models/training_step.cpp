#include "seqpack/models/training_step.h"

#include "seqpack/models/real_steps.h"
#include "seqpack/models/unique_parameters.h"

namespace seqpack::models {

TrainingStep::TrainingStep(std::shared_ptr<ForecastModel> model, const TrainingStepOptions& options)
    : model_(std::move(model)),
      criterion_(options.criterion().value_or(model_->default_criterion())),
      use_loss_masking_(options.use_loss_masking().value_or(model_->default_use_loss_masking())),
      precision_(options.precision()),
      optimizer_(unique_parameters(*model_), torch::optim::AdamOptions(options.learning_rate())) {
  if (precision_ == Precision::Float16) grad_scaler_.emplace();
}

at::Tensor TrainingStep::operator()(const ModelInputs& inputs, const at::Tensor& target) {
  auto loss = backward(inputs, target);
  update();
  return loss;
}

at::Tensor TrainingStep::backward(const ModelInputs& inputs, const at::Tensor& target) {
  model_->train();
  optimizer_.zero_grad();
  const auto loss = [&] {
    // Autocast where the parameters are, as `with torch.autocast(param.device.type, dtype)`; float32
    // (no autocast) skips collecting the parameters on every step.
    auto device_type = c10::DeviceType::CPU;
    if (precision_ != Precision::Float32) {
      const auto parameters = model_->parameters();
      if (!parameters.empty()) device_type = parameters.front().device().type();
    }
    const AutocastGuard autocast(device_type, precision_);
    const auto real = model_->forward_real_steps(inputs);
    return real ? padding_free_loss(*real, target, inputs.decoder_lengths, criterion_, use_loss_masking_)
                : calc_loss(model_->forward(inputs), target, inputs.decoder_lengths, criterion_, use_loss_masking_);
  }();
  // Backward outside autocast, as PyTorch recommends; its ops run in the dtypes forward chose.
  if (grad_scaler_) {
    grad_scaler_->scale(loss).backward();
  } else {
    loss.backward();
  }
  return loss.detach();
}

std::pair<at::Tensor, at::Tensor> TrainingStep::adam_moments(const at::Tensor& parameter) const {
  const auto& states = optimizer_.state();
  const auto found = states.find(static_cast<void*>(parameter.unsafeGetTensorImpl()));
  if (found == states.end()) return {at::zeros_like(parameter), at::zeros_like(parameter)};
  const auto& adam = static_cast<const torch::optim::AdamParamState&>(*found->second);
  return {adam.exp_avg().clone(), adam.exp_avg_sq().clone()};
}

void TrainingStep::update() {
  if (!grad_scaler_) {
    optimizer_.step();
    return;
  }
  grad_scaler_->step(optimizer_);
  grad_scaler_->update();
}

}  // namespace seqpack::models
