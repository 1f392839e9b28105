// `seqpack eval model.*`, one op per model_registry() entry: builds the model from its constructor
// hyperparameters (the original's names; the LSTM family adds packing and packed_lstm), loads
// --weights strictly, and runs the forward on the original's forward inputs. Given a `target`, it
// also writes the loss as calc_loss computes it (the model's default criterion unless
// params.criterion names another); with --backward, grad.<parameter> for every parameter. Given
// params.training_steps, it trains instead (models/training_run.h: Adam at params.learning_rate,
// default 1e-3) and writes each step's loss, the parameters and Adam's moments after the last
// step, and the output of the trained model.
#include <cmath>
#include <optional>
#include <set>
#include <string>

#include "seqpack/errors.h"
#include "seqpack/models/model_registry.h"
#include "seqpack/models/real_steps.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/models/training_run.h"
#include "seqpack/ops/loss_registry.h"
#include "seqpack/ops/model_factory.h"
#include "seqpack/ops/registry.h"

namespace seqpack::ops {
namespace {

using models::ForecastModel;
using models::ModelEntry;

// params.training_steps: train the loaded model, then run it once more (eval mode) on the batch.
TensorMap train(const std::shared_ptr<ForecastModel>& model, const models::ModelInputs& inputs,
                const std::optional<at::Tensor>& target, int64_t steps, Params& params, const Criterion& criterion,
                bool use_loss_masking, const EvalOptions& options) {
  if (steps < 1) reject("params.training_steps", "must be at least 1 (got {})", steps);
  if (!target) reject("params.training_steps", "needs a target to compute the loss");
  if (options.backward) reject("--backward", "is for one forward and backward; with params.training_steps the op trains");
  const auto learning_rate = params.get_double("learning_rate", 1e-3);
  if (!(learning_rate > 0 && std::isfinite(learning_rate))) {
    reject("params.learning_rate", "must be a finite number above 0 (got {})", learning_rate);
  }
  auto out = models::run_training(model, inputs, *target, steps,
                                  models::TrainingStepOptions()
                                      .learning_rate(learning_rate)
                                      .criterion(criterion)
                                      .use_loss_masking(use_loss_masking));
  model->eval();
  const at::NoGradGuard no_grad;
  const auto real = model->forward_real_steps(inputs);
  out["output"] = real ? real->steps.scatter(real->values) : model->forward(inputs);
  return out;
}

OpFunction model_op(const ModelEntry& entry) {
  return [&entry](Inputs& in, Params& params, const EvalOptions& options) -> TensorMap {
    auto model = entry.build(params);
    const auto criterion_name = params.get_optional_string("criterion");
    const auto criterion =
        criterion_name ? find_criterion(*criterion_name, "params.criterion").read(params) : model->default_criterion();
    const bool use_loss_masking = params.get_bool("use_loss_masking", model->default_use_loss_masking());
    if (!options.weights) reject("--weights", "a model op needs the model's state_dict (safetensors)");
    models::load_state_dict(*model, *options.weights);
    model->eval();
    // Only a model whose forward takes static_covariates reads them: given to another (whose
    // forward in the original raises a TypeError), Inputs::finish refuses them as unused.
    const auto static_covariates =
        entry.takes_static_covariates ? in.optional("static_covariates") : std::optional<at::Tensor>();
    const models::ModelInputs inputs{in.required(entry.past_input()), in.required(entry.future_input()),
                                     in.optional("encoder_lengths"), in.optional("decoder_lengths"),
                                     static_covariates};
    // The model computes where its inputs are (conformance on a GPU moves them there).
    if (inputs.past_sequence.device() != model->parameters().front().device()) model->to(inputs.past_sequence.device());
    const auto target = in.optional("target");
    if (options.backward && !target) reject("--backward", "needs a target to compute the loss");
    if (const auto steps = params.get_optional_int("training_steps", models::kMaxTrainingSteps)) {
      return train(model, inputs, target, *steps, params, criterion, use_loss_masking, options);
    }
    if (params.get_optional_double("learning_rate")) {
      reject("params.learning_rate", "is read only when the op trains (params.training_steps)");
    }
    // packing = padding_free: the output at the real steps, zeros at the padding, and the loss
    // over the real steps (models/real_steps.h).
    const auto real = model->forward_real_steps(inputs);
    const auto output = real ? real->steps.scatter(real->values) : model->forward(inputs);
    TensorMap out{{"output", output.detach()}};
    if (!target) return out;
    const auto loss = real ? models::padding_free_loss(*real, *target, inputs.decoder_lengths, criterion, use_loss_masking)
                           : calc_loss(output, *target, inputs.decoder_lengths, criterion, use_loss_masking);
    out["loss"] = loss.detach();
    if (options.backward) {
      loss.backward();
      std::set<const void*> seen;  // a shared module's parameters once, under their first name
      for (const auto& item : model->named_parameters()) {
        if (!seen.insert(item.value().unsafeGetTensorImpl()).second) continue;
        const auto& grad = item.value().grad();
        out["grad." + item.key()] = grad.defined() ? grad : at::zeros_like(item.value());
      }
    }
    return out;
  };
}

// One line for `seqpack ops`: the inputs, the parameters the model's reader asks for (so the list
// cannot drift from what is read), then what every model op adds.
std::string summary(const ModelEntry& entry) {
  std::string line = std::string(entry.past_input());
  if (entry.family == models::ModelFamily::TemporalFusion) line += " (right-aligned unless encoder_alignment = left)";
  line += std::string(", ") + entry.future_input() + ", encoder_lengths, decoder_lengths";
  if (entry.takes_static_covariates) line += " [, static_covariates]";
  line += " [, target]; ";
  const auto parameters = entry.parameters();
  for (size_t i = 0; i < parameters.size(); ++i) {
    line += (i ? ", " : "") + parameters[i].name + (parameters[i].required ? " (required)" : "");
  }
  return line + " [, criterion (default: the original's for this model) and its arguments, use_loss_masking]"
                " [, training_steps, learning_rate] -> output [, loss, grad.<parameter>; trained: loss per step,"
                " param.<name>, exp_avg.<name>, exp_avg_sq.<name>]";
}

}  // namespace

std::shared_ptr<ForecastModel> make_model(std::string_view name, Params& params) {
  constexpr std::string_view kPrefix = "model.";
  const auto* entry = name.starts_with(kPrefix) ? models::find_model(name.substr(kPrefix.size())) : nullptr;
  if (!entry) reject("model", "unknown model \"{}\"", name);
  return entry->build(params);
}

void add_model_ops(Registry& registry) {
  for (const auto& entry : models::model_registry()) {
    registry[entry.op()] = {model_op(entry), summary(entry), /*has_backward=*/true, /*takes_weights=*/true};
  }
}

}  // namespace seqpack::ops
