#include "seqpack/models/model_registry.h"

#include "seqpack/alignment.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/encoder_decoder_lstm.h"
#include "seqpack/models/temporal_fusion_transformer.h"
#include "seqpack/models/transformer_lstm.h"
#include "seqpack/models/xtft.h"

namespace seqpack::models {
namespace {

using ops::Params;

// Bounds on the sizes params may ask for, so that a typo (num_layers = 5000, d_model = 10^9) is
// refused at once instead of allocating for minutes or past the machine's memory. Each is far
// above the original's configurations (d_model 300, 2 layers); together they keep a model under
// a few GB of parameters.
constexpr int64_t kMaxWidth = 4096;      // d_model, d_encoder, d_decoder, hidden sizes, output_dim
constexpr int64_t kMaxFeatures = 4096;   // num_*_features
constexpr int64_t kMaxDepth = 16;        // LSTM layers, transformer blocks, MLP hidden layers
constexpr int64_t kMaxHeads = 64;
constexpr int64_t kMaxContinuousWidth = 256;  // d_hidden_continuous: one GRN per feature
constexpr int64_t kMaxSequenceLength = 100'000;

// The two feature counts every model's options take in their constructor: required.
template <typename Options>
Options with_features(Params& p) {
  const auto past = p.get_required_int("num_past_features", kMaxFeatures);
  const auto future = p.get_required_int("num_future_features", kMaxFeatures);
  return Options(past, future);
}

// The LSTM family's path through its LSTMs (forecast_model.h).
template <typename Options>
void read_lstm_path(Params& p, Options& o) {
  p.read("packing", o.packing(), parse_packing);
  p.read("packed_lstm", o.packed_lstm(), parse_packed_lstm);
}

AttentionLSTMOptions read_attention_lstm(Params& p) {
  auto o = with_features<AttentionLSTMOptions>(p);
  p.read("d_model", o.d_model(), kMaxWidth);
  p.read("num_layers", o.num_layers(), kMaxDepth);
  p.read_probability("dropout", o.dropout());
  p.read("num_heads", o.num_heads(), kMaxHeads);
  p.read("use_gating", o.use_gating());
  p.read("trainable_add", o.trainable_add());
  p.read("output_dim", o.output_dim(), kMaxWidth);
  p.read("causal_attention", o.causal_attention());
  p.read("d_encoder", o.d_encoder(), kMaxWidth);
  p.read("d_decoder", o.d_decoder(), kMaxWidth);
  read_lstm_path(p, o);
  return o;
}

EncoderDecoderLSTMOptions read_encoder_decoder_lstm(Params& p) {
  auto o = with_features<EncoderDecoderLSTMOptions>(p);
  p.read("d_encoder", o.d_encoder(), kMaxWidth);
  p.read("d_decoder", o.d_decoder(), kMaxWidth);
  p.read("num_encoder_layers", o.num_encoder_layers(), kMaxDepth);
  p.read("num_decoder_layers", o.num_decoder_layers(), kMaxDepth);
  p.read_probability("dropout", o.dropout());
  p.read("d_mlp_hidden", o.d_mlp_hidden(), kMaxWidth, kMaxDepth);
  p.read("output_dim", o.output_dim(), kMaxWidth);
  p.read("mlp_activation", o.mlp_activation());
  p.read_probability("mlp_dropout", o.mlp_dropout());
  read_lstm_path(p, o);
  return o;
}

TransformerLSTMOptions read_transformer_lstm(Params& p) {
  auto o = with_features<TransformerLSTMOptions>(p);
  p.read("d_model", o.d_model(), kMaxWidth);
  p.read("num_layers", o.num_layers(), kMaxDepth);
  p.read("num_transformer_blocks", o.num_transformer_blocks(), kMaxDepth);
  p.read_probability("dropout", o.dropout());
  p.read("num_heads", o.num_heads(), kMaxHeads);
  p.read("output_dim", o.output_dim(), kMaxWidth);
  p.read("causal_attention", o.causal_attention());
  p.read("share_lstm_weights", o.share_lstm_weights());
  read_lstm_path(p, o);
  return o;
}

// What TFT, PFTFT and xTFT share (xTFT reads only this).
TemporalFusionOptions read_temporal_fusion(Params& p) {
  auto o = with_features<TemporalFusionOptions>(p);
  p.read("d_model", o.d_model(), kMaxWidth);
  p.read("d_hidden_continuous", o.d_hidden_continuous(), kMaxContinuousWidth);
  p.read("num_heads", o.num_heads(), kMaxHeads);
  p.read("num_lstm_layers", o.num_lstm_layers(), kMaxDepth);
  p.read_probability("dropout", o.dropout());
  p.read("output_dim", o.output_dim(), kMaxWidth);
  p.read("causal_attention", o.causal_attention());
  p.read("encoder_alignment", o.encoder_alignment(), parse_alignment);
  return o;
}

TemporalFusionOptions read_pftft(Params& p) {
  auto o = read_temporal_fusion(p);
  p.read("num_static_features", o.num_static_features(), kMaxFeatures);
  return o;
}

TemporalFusionOptions read_tft(Params& p) {
  auto o = read_pftft(p);
  o.ctxt_seq_len(p.get_required_int("ctxt_seq_len", kMaxSequenceLength));
  o.tgt_seq_len(p.get_required_int("tgt_seq_len", kMaxSequenceLength));
  return o;
}

template <typename Model, typename Options>
ModelEntry entry(std::string name, std::string original_class, ModelFamily family, bool takes_static_covariates,
                 Options (*read)(Params&), nlohmann::json small_config) {
  ModelEntry e;
  e.name = std::move(name);
  e.original_class = std::move(original_class);
  e.family = family;
  e.takes_static_covariates = takes_static_covariates;
  e.build = [read](Params& p) -> std::shared_ptr<ForecastModel> { return std::make_shared<Model>(read(p)); };
  e.read_options = [read](Params& p) { read(p); };
  e.small_config = std::move(small_config);
  return e;
}

// The small configurations: three past and two future features, widths 8 or less, dropout 0.
nlohmann::json small_lstm(nlohmann::json sizes) {
  nlohmann::json config{{"num_past_features", 3}, {"num_future_features", 2}, {"dropout", 0.0}};
  config.update(sizes);
  return config;
}

nlohmann::json small_temporal_fusion(nlohmann::json extra) {
  nlohmann::json config{{"num_past_features", 3}, {"num_future_features", 2}, {"d_model", 8},
                        {"d_hidden_continuous", 4}, {"num_heads", 2},        {"num_lstm_layers", 2},
                        {"dropout", 0.0}};
  config.update(extra);
  return config;
}

}  // namespace

std::vector<ops::AskedParam> ModelEntry::parameters() const {
  auto listing = Params::listing();
  read_options(listing);
  return listing.asked();
}

const std::vector<ModelEntry>& model_registry() {
  using enum ModelFamily;
  constexpr bool kStatic = true;  // takes_static_covariates
  static const std::vector<ModelEntry> all{
      entry<AttentionLSTMImpl>("attention_lstm", "AttentionLSTM", Lstm, !kStatic, read_attention_lstm,
                               small_lstm({{"d_model", 8}, {"num_heads", 2}})),
      entry<EncoderDecoderLSTMImpl>("encoder_decoder_lstm", "EncoderDecoderLSTM", Lstm, !kStatic,
                                    read_encoder_decoder_lstm,
                                    small_lstm({{"d_encoder", 6},
                                                {"d_decoder", 8},
                                                {"d_mlp_hidden", nlohmann::json::array({5})},
                                                {"mlp_dropout", 0.0}})),
      entry<TransformerLSTMImpl>("transformer_lstm", "TransformerLSTM", Lstm, !kStatic, read_transformer_lstm,
                                 small_lstm({{"d_model", 8}, {"num_heads", 2}})),
      // TFT and PFTFT: one static feature, as their Lightning modules build them.
      entry<TemporalFusionTransformerImpl>(
          "tft", "TemporalFusionTransformer", TemporalFusion, kStatic, read_tft,
          small_temporal_fusion({{"num_static_features", 1}, {"ctxt_seq_len", 7}, {"tgt_seq_len", 5}})),
      entry<PFTemporalFusionTransformerImpl>("pftft", "PFTemporalFusionTransformer", TemporalFusion, kStatic,
                                             read_pftft, small_temporal_fusion({{"num_static_features", 1}})),
      entry<xTFTImpl>("xtft", "xTFT", TemporalFusion, !kStatic, read_temporal_fusion,
                      small_temporal_fusion(nlohmann::json::object())),
  };
  return all;
}

std::vector<const ModelEntry*> models_of(ModelFamily family) {
  std::vector<const ModelEntry*> found;
  for (const auto& e : model_registry()) {
    if (e.family == family) found.push_back(&e);
  }
  return found;
}

const ModelEntry* find_model(std::string_view name) {
  for (const auto& e : model_registry()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace seqpack::models
