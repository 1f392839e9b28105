// `seqpack eval model.*`: builds the model from its constructor hyperparameters (the original's
// names) plus `packing`, loads --weights strictly, and runs the forward on the original's forward
// inputs. Given a `target`, it also writes the loss as calc_loss computes it (the model's default
// criterion unless params.criterion names another); with --backward, grad.<parameter> for every
// parameter.
#include <map>
#include <set>

#include "seqpack/errors.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/encoder_decoder_lstm.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/models/transformer_lstm.h"
#include "seqpack/ops/criterion_params.h"
#include "seqpack/ops/model_factory.h"
#include "seqpack/ops/registry.h"

namespace seqpack::ops {
namespace {

using models::ForecastModel;

models::Packing packing_of(Params& params) {
  return models::parse_packing(params.get_string("packing", "auto"), "params.packing");
}

std::vector<int64_t> hidden_sizes(Params& params) {
  if (const auto one = params.get_optional_int_or_list("d_mlp_hidden")) return *one;
  return {};
}

std::shared_ptr<ForecastModel> attention_lstm(Params& p) {
  auto options = models::AttentionLSTMOptions(p.get_required_int("num_past_features"), p.get_required_int("num_future_features"))
                     .d_model(p.get_int("d_model", 128))
                     .num_layers(p.get_int("num_layers", 2))
                     .dropout(p.get_double("dropout", 0.1))
                     .num_heads(p.get_int("num_heads", 4))
                     .use_gating(p.get_bool("use_gating", true))
                     .trainable_add(p.get_bool("trainable_add", false))
                     .output_dim(p.get_int("output_dim", 1))
                     .causal_attention(p.get_bool("causal_attention", true))
                     .d_encoder(p.get_optional_int("d_encoder"))
                     .d_decoder(p.get_optional_int("d_decoder"))
                     .packing(packing_of(p));
  return std::make_shared<models::AttentionLSTMImpl>(options);
}

std::shared_ptr<ForecastModel> encoder_decoder_lstm(Params& p) {
  auto options =
      models::EncoderDecoderLSTMOptions(p.get_required_int("num_past_features"), p.get_required_int("num_future_features"))
          .d_encoder(p.get_int("d_encoder", 128))
          .d_decoder(p.get_int("d_decoder", 128))
          .num_encoder_layers(p.get_int("num_encoder_layers", 2))
          .num_decoder_layers(p.get_int("num_decoder_layers", 2))
          .dropout(p.get_double("dropout", 0.1))
          .d_mlp_hidden(hidden_sizes(p))
          .output_dim(p.get_int("output_dim", 1))
          .mlp_activation(p.get_string("mlp_activation", "relu"))
          .mlp_dropout(p.get_double("mlp_dropout", 0.1))
          .packing(packing_of(p));
  return std::make_shared<models::EncoderDecoderLSTMImpl>(options);
}

std::shared_ptr<ForecastModel> transformer_lstm(Params& p) {
  auto options =
      models::TransformerLSTMOptions(p.get_required_int("num_past_features"), p.get_required_int("num_future_features"))
          .d_model(p.get_int("d_model", 128))
          .num_layers(p.get_int("num_layers", 2))
          .num_transformer_blocks(p.get_int("num_transformer_blocks", 2))
          .dropout(p.get_double("dropout", 0.1))
          .num_heads(p.get_int("num_heads", 4))
          .output_dim(p.get_int("output_dim", 1))
          .causal_attention(p.get_bool("causal_attention", true))
          .share_lstm_weights(p.get_bool("share_lstm_weights", false))
          .packing(packing_of(p));
  return std::make_shared<models::TransformerLSTMImpl>(options);
}

using ModelFactory = std::shared_ptr<ForecastModel> (*)(Params&);

const std::map<std::string, ModelFactory, std::less<>>& factories() {
  static const std::map<std::string, ModelFactory, std::less<>> all{{"model.attention_lstm", attention_lstm},
                                                                    {"model.encoder_decoder_lstm", encoder_decoder_lstm},
                                                                    {"model.transformer_lstm", transformer_lstm}};
  return all;
}

OpFunction model_op(std::string name) {
  return [name](Inputs& in, Params& params, const EvalOptions& options) -> TensorMap {
    auto model = make_model(name, params);
    const auto criterion_name = params.get_string("criterion", "");
    const auto criterion =
        criterion_name.empty() ? model->default_criterion()
                               : read_criterion(parse_criterion(criterion_name, "params.criterion"), params);
    const bool use_loss_masking = params.get_bool("use_loss_masking", model->default_use_loss_masking());
    if (!options.weights) reject("--weights", "a model op needs the model's state_dict (safetensors)");
    models::load_state_dict(*model, *options.weights);
    model->eval();
    const models::ModelInputs inputs{in.required("past_sequence"), in.required("future_sequence"),
                                     in.optional("encoder_lengths"), in.optional("decoder_lengths")};
    const auto target = in.optional("target");
    if (options.backward && !target) reject("--backward", "needs a target to compute the loss");
    const auto output = model->forward(inputs);
    TensorMap out{{"output", output.detach()}};
    if (!target) return out;
    const auto loss = calc_loss(output, *target, inputs.decoder_lengths, criterion, use_loss_masking);
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

}  // namespace

std::shared_ptr<ForecastModel> make_model(std::string_view name, Params& params) {
  const auto found = factories().find(name);
  if (found == factories().end()) reject("model", "unknown model \"{}\"", name);
  return found->second(params);
}

void add_model_ops(Registry& registry) {
  const std::string inputs = "past_sequence, future_sequence, encoder_lengths, decoder_lengths [, target]; ";
  const std::string outputs = ", packing [, criterion, use_loss_masking] -> output [, loss, grad.<parameter>]";
  registry["model.attention_lstm"] = {
      model_op("model.attention_lstm"),
      inputs + "num_past_features, num_future_features, d_model, num_layers, dropout, num_heads, use_gating, "
               "trainable_add, output_dim, causal_attention, d_encoder, d_decoder" + outputs,
      true, true};
  registry["model.encoder_decoder_lstm"] = {
      model_op("model.encoder_decoder_lstm"),
      inputs + "num_past_features, num_future_features, d_encoder, d_decoder, num_encoder_layers, num_decoder_layers, "
               "dropout, d_mlp_hidden, output_dim, mlp_activation, mlp_dropout" + outputs,
      true, true};
  registry["model.transformer_lstm"] = {
      model_op("model.transformer_lstm"),
      inputs + "num_past_features, num_future_features, d_model, num_layers, num_transformer_blocks, dropout, "
               "num_heads, output_dim, causal_attention, share_lstm_weights" + outputs,
      true, true};
}

}  // namespace seqpack::ops
