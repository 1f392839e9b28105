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
#include "seqpack/models/temporal_fusion_transformer.h"
#include "seqpack/models/transformer_lstm.h"
#include "seqpack/models/xtft.h"
#include "seqpack/ops/criterion_params.h"
#include "seqpack/ops/model_factory.h"
#include "seqpack/ops/registry.h"

namespace seqpack::ops {
namespace {

using models::ForecastModel;

// Bounds on the sizes `--params` may ask for, so that a typo (num_layers = 5000, d_model = 10^9)
// is refused at once instead of allocating for minutes or past the machine's memory. Each is far
// above the original's configurations (d_model 300, 2 layers); together they keep a model under
// a few GB of parameters.
constexpr int64_t kMaxWidth = 4096;      // d_model, d_encoder, d_decoder, hidden sizes, output_dim
constexpr int64_t kMaxFeatures = 4096;   // num_*_features
constexpr int64_t kMaxDepth = 16;        // LSTM layers, transformer blocks
constexpr int64_t kMaxHeads = 64;
constexpr int64_t kMaxContinuousWidth = 256;  // d_hidden_continuous: one GRN per feature
constexpr int64_t kMaxSequenceLength = 100'000;

int64_t features(Params& params, const char* name) { return params.get_required_int(name, kMaxFeatures); }

models::Packing packing_of(Params& params) {
  return models::parse_packing(params.get_string("packing", "auto"), "params.packing");
}

models::PackedLstm packed_lstm_of(Params& params) {
  return models::parse_packed_lstm(params.get_string("packed_lstm", "pytorch"), "params.packed_lstm");
}

std::vector<int64_t> hidden_sizes(Params& params) {
  if (const auto one = params.get_optional_int_or_list("d_mlp_hidden", kMaxWidth, kMaxDepth)) return *one;
  return {};
}

std::shared_ptr<ForecastModel> attention_lstm(Params& p) {
  auto options = models::AttentionLSTMOptions(features(p, "num_past_features"), features(p, "num_future_features"))
                     .d_model(p.get_int("d_model", 128, kMaxWidth))
                     .num_layers(p.get_int("num_layers", 2, kMaxDepth))
                     .dropout(p.get_probability("dropout", 0.1))
                     .num_heads(p.get_int("num_heads", 4, kMaxHeads))
                     .use_gating(p.get_bool("use_gating", true))
                     .trainable_add(p.get_bool("trainable_add", false))
                     .output_dim(p.get_int("output_dim", 1, kMaxWidth))
                     .causal_attention(p.get_bool("causal_attention", true))
                     .d_encoder(p.get_optional_int("d_encoder", kMaxWidth))
                     .d_decoder(p.get_optional_int("d_decoder", kMaxWidth))
                     .packing(packing_of(p))
                     .packed_lstm(packed_lstm_of(p));
  return std::make_shared<models::AttentionLSTMImpl>(options);
}

std::shared_ptr<ForecastModel> encoder_decoder_lstm(Params& p) {
  auto options =
      models::EncoderDecoderLSTMOptions(features(p, "num_past_features"), features(p, "num_future_features"))
          .d_encoder(p.get_int("d_encoder", 128, kMaxWidth))
          .d_decoder(p.get_int("d_decoder", 128, kMaxWidth))
          .num_encoder_layers(p.get_int("num_encoder_layers", 2, kMaxDepth))
          .num_decoder_layers(p.get_int("num_decoder_layers", 2, kMaxDepth))
          .dropout(p.get_probability("dropout", 0.1))
          .d_mlp_hidden(hidden_sizes(p))
          .output_dim(p.get_int("output_dim", 1, kMaxWidth))
          .mlp_activation(p.get_string("mlp_activation", "relu"))
          .mlp_dropout(p.get_probability("mlp_dropout", 0.1))
          .packing(packing_of(p))
          .packed_lstm(packed_lstm_of(p));
  return std::make_shared<models::EncoderDecoderLSTMImpl>(options);
}

std::shared_ptr<ForecastModel> transformer_lstm(Params& p) {
  auto options =
      models::TransformerLSTMOptions(features(p, "num_past_features"), features(p, "num_future_features"))
          .d_model(p.get_int("d_model", 128, kMaxWidth))
          .num_layers(p.get_int("num_layers", 2, kMaxDepth))
          .num_transformer_blocks(p.get_int("num_transformer_blocks", 2, kMaxDepth))
          .dropout(p.get_probability("dropout", 0.1))
          .num_heads(p.get_int("num_heads", 4, kMaxHeads))
          .output_dim(p.get_int("output_dim", 1, kMaxWidth))
          .causal_attention(p.get_bool("causal_attention", true))
          .share_lstm_weights(p.get_bool("share_lstm_weights", false))
          .packing(packing_of(p))
          .packed_lstm(packed_lstm_of(p));
  return std::make_shared<models::TransformerLSTMImpl>(options);
}

models::TemporalFusionOptions temporal_fusion_options(Params& p, bool static_features) {
  auto options =
      models::TemporalFusionOptions(features(p, "num_past_features"), features(p, "num_future_features"))
          .d_model(p.get_int("d_model", 300, kMaxWidth))
          .d_hidden_continuous(p.get_int("d_hidden_continuous", 8, kMaxContinuousWidth))
          .num_heads(p.get_int("num_heads", 4, kMaxHeads))
          .num_lstm_layers(p.get_int("num_lstm_layers", 2, kMaxDepth))
          .dropout(p.get_probability("dropout", 0.1))
          .output_dim(p.get_int("output_dim", 7, kMaxWidth))
          .causal_attention(p.get_bool("causal_attention", true))
          .encoder_alignment(parse_alignment(p.get_string("encoder_alignment", "right"), "params.encoder_alignment"));
  if (static_features) options.num_static_features(p.get_int("num_static_features", 1, kMaxFeatures));
  return options;
}

std::shared_ptr<ForecastModel> tft(Params& p) {
  auto options = temporal_fusion_options(p, true)
                     .ctxt_seq_len(p.get_required_int("ctxt_seq_len", kMaxSequenceLength))
                     .tgt_seq_len(p.get_required_int("tgt_seq_len", kMaxSequenceLength));
  return std::make_shared<models::TemporalFusionTransformerImpl>(options);
}

std::shared_ptr<ForecastModel> pftft(Params& p) {
  return std::make_shared<models::PFTemporalFusionTransformerImpl>(temporal_fusion_options(p, true));
}

std::shared_ptr<ForecastModel> xtft(Params& p) {
  return std::make_shared<models::xTFTImpl>(temporal_fusion_options(p, false));
}

using ModelFactory = std::shared_ptr<ForecastModel> (*)(Params&);

// How a model's forward names its two sequences: the LSTM family's and the TFT family's words.
struct ModelKind {
  ModelFactory make;
  const char* past;
  const char* future;
};

const std::map<std::string, ModelKind, std::less<>>& factories() {
  static const std::map<std::string, ModelKind, std::less<>> all{
      {"model.attention_lstm", {attention_lstm, "past_sequence", "future_sequence"}},
      {"model.encoder_decoder_lstm", {encoder_decoder_lstm, "past_sequence", "future_sequence"}},
      {"model.transformer_lstm", {transformer_lstm, "past_sequence", "future_sequence"}},
      {"model.tft", {tft, "past_covariates", "future_covariates"}},
      {"model.pftft", {pftft, "past_covariates", "future_covariates"}},
      {"model.xtft", {xtft, "past_covariates", "future_covariates"}}};
  return all;
}

OpFunction model_op(std::string name) {
  return [name](Inputs& in, Params& params, const EvalOptions& options) -> TensorMap {
    auto model = make_model(name, params);
    const auto criterion_name = params.get_optional_string("criterion");
    const auto criterion = criterion_name ? read_criterion(parse_criterion(*criterion_name, "params.criterion"), params)
                                          : model->default_criterion();
    const bool use_loss_masking = params.get_bool("use_loss_masking", model->default_use_loss_masking());
    if (!options.weights) reject("--weights", "a model op needs the model's state_dict (safetensors)");
    models::load_state_dict(*model, *options.weights);
    model->eval();
    const auto& kind = factories().find(name)->second;
    const models::ModelInputs inputs{in.required(kind.past), in.required(kind.future), in.optional("encoder_lengths"),
                                     in.optional("decoder_lengths"), in.optional("static_covariates")};
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
  return found->second.make(params);
}

void add_model_ops(Registry& registry) {
  const std::string inputs = "past_sequence, future_sequence, encoder_lengths, decoder_lengths [, target]; ";
  const std::string outputs = ", packing [, packed_lstm, criterion, use_loss_masking] -> output [, loss, grad.<parameter>]";
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
  const std::string tft_inputs =
      "past_covariates (right-aligned unless encoder_alignment = left), future_covariates, encoder_lengths, "
      "decoder_lengths";
  const std::string tft_params = "num_past_features, num_future_features, d_model, d_hidden_continuous, num_heads, "
                                 "num_lstm_layers, dropout, output_dim, causal_attention, encoder_alignment";
  const std::string tft_outputs = " [, criterion (default QuantileLoss), quantiles, use_loss_masking (default false)]"
                                  " -> output [, loss, grad.<parameter>]";
  registry["model.tft"] = {model_op("model.tft"),
                           tft_inputs + " [, static_covariates] [, target]; " + tft_params +
                               ", ctxt_seq_len, tgt_seq_len, num_static_features" + tft_outputs,
                           true, true};
  registry["model.pftft"] = {model_op("model.pftft"),
                             tft_inputs + " [, static_covariates] [, target]; " + tft_params +
                                 ", num_static_features" + tft_outputs,
                             true, true};
  registry["model.xtft"] = {model_op("model.xtft"), tft_inputs + " [, target]; " + tft_params + tft_outputs, true, true};
}

}  // namespace seqpack::ops
