#include "seqpack/models/temporal_fusion_core.h"

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/masks.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/input_checks.h"
#include "seqpack/sequence.h"

namespace seqpack::models {
namespace {

// (B,) int64 lengths: the given ones, or every row full.
at::Tensor lengths_or_full(const std::optional<at::Tensor>& lengths, std::string_view name, int64_t batch,
                           int64_t steps) {
  if (!lengths) return at::full({batch}, steps, at::kLong);
  return checked_lengths(*lengths, name, {.batch = batch, .max_length = steps});
}

}  // namespace

nn::GatedResidualNetwork square_grn(int64_t d_model, double dropout, std::optional<int64_t> context_dim) {
  return nn::GatedResidualNetwork(nn::GatedResidualNetworkOptions(d_model, d_model)
                                      .d_hidden(d_model)
                                      .context_dim(context_dim)
                                      .dropout(dropout)
                                      .projection(nn::Projection::Interpolate));
}

TemporalFusionCore::TemporalFusionCore(const TemporalFusionOptions& opts) : options(opts) {
  for (auto [value, name] : {std::pair{opts.num_past_features(), "num_past_features"},
                             {opts.num_future_features(), "num_future_features"}, {opts.d_model(), "d_model"},
                             {opts.d_hidden_continuous(), "d_hidden_continuous"},
                             {opts.num_lstm_layers(), "num_lstm_layers"}, {opts.output_dim(), "output_dim"}}) {
    require_positive(value, name);
  }
  if (opts.num_heads() < 1 || opts.d_model() % opts.num_heads() != 0) {
    reject("num_heads", "must divide d_model = {} (got {})", opts.d_model(), opts.num_heads());
  }
  if (opts.dropout() < 0 || opts.dropout() >= 1) reject("dropout", "must be in [0, 1) (got {})", opts.dropout());
}

void TemporalFusionCore::register_selection(bool context) {
  auto selection = [&](int64_t features) {
    auto vs = nn::VariableSelectionOptions(features)
                  .d_hidden(options.d_hidden_continuous())
                  .d_model(options.d_model())
                  .dropout(options.dropout());
    if (context) vs.context_size(options.d_model());
    return nn::VariableSelection(vs);
  };
  enc_vs = register_module("enc_vs", selection(options.num_past_features()));
  dec_vs = register_module("dec_vs", selection(options.num_future_features()));
}

void TemporalFusionCore::register_lstms() {
  const auto d = options.d_model();
  enc_lstm = register_module("enc_lstm", torch::nn::LSTM(family_lstm_options(d, d, options.num_lstm_layers(), options.dropout())));
  dec_lstm = register_module("dec_lstm", torch::nn::LSTM(family_lstm_options(d, d, options.num_lstm_layers(), options.dropout())));
  enc_gate1 = register_module("enc_gate1", nn::GatedLinearUnit(d, std::nullopt, options.dropout()));
  register_module("dec_gate1", enc_gate1);
  enc_norm1 = register_module("enc_norm1", nn::AddNorm(d, false));
  register_module("dec_norm1", enc_norm1);
}

void TemporalFusionCore::register_attention() {
  const auto d = options.d_model();
  attn = register_module("attn", nn::InterpretableMultiHeadAttention(d, options.num_heads(), options.dropout()));
  attn_gate1 = register_module("attn_gate1", nn::GatedLinearUnit(d, std::nullopt, options.dropout()));
  attn_norm1 = register_module("attn_norm1", nn::AddNorm(d, false));
  attn_grn = register_module("attn_grn", square_grn(d, options.dropout()));
  attn_gate2 = register_module("attn_gate2", nn::GatedLinearUnit(d, std::nullopt, 0.0));
  attn_norm2 = register_module("attn_norm2", nn::AddNorm(d, false));
  output_layer = register_module("output_layer", torch::nn::Linear(d, options.output_dim()));
}

std::tuple<at::Tensor, at::Tensor> TemporalFusionCore::run_lstms(
    const at::Tensor& past_vs, const at::Tensor& future_vs, const std::optional<std::tuple<at::Tensor, at::Tensor>>& state) {
  const auto [encoded, encoder_state] = enc_lstm->forward(past_vs, state);
  const auto decoded = std::get<0>(dec_lstm->forward(future_vs, encoder_state));
  return {enc_norm1(enc_gate1(encoded), past_vs), enc_norm1(enc_gate1(decoded), future_vs)};
}

at::Tensor TemporalFusionCore::forward(const ModelInputs& in) {
  check_model_inputs(in, {.num_past_features = options.num_past_features(),
                          .num_future_features = options.num_future_features(),
                          .dtype = dtype(),
                          .past_name = "past_covariates",
                          .future_name = "future_covariates"});
  check_static(in);
  const auto batch = in.past_sequence.size(0);
  const auto te = in.past_sequence.size(1);
  const auto td = in.future_sequence.size(1);
  const auto encoder_lengths = lengths_or_full(in.encoder_lengths, "encoder_lengths", batch, te);
  const auto decoder_lengths = lengths_or_full(in.decoder_lengths, "decoder_lengths", batch, td);
  auto past = in.past_sequence;
  if (options.encoder_alignment() == Alignment::Left) {
    past = align_encoder_sequences(past, encoder_lengths, AlignOptions(Source::Left).alignment(Alignment::Right));
  }
  // Padding is not data: read it as the zeros the original's data module writes there.
  const auto valid = create_mask(te, encoder_lengths, CreateMaskOptions().alignment(Alignment::Right).inverse(true));
  past = at::where(valid.to(past.device()).unsqueeze(-1), past, 0);

  const auto [attention_input, decoder_output] = encode(past, in.future_sequence, in.static_covariates);
  const auto mask = get_attention_mask(encoder_lengths, decoder_lengths, te, td,
                                       AttentionMaskOptions()
                                           .causal_attention(options.causal_attention())
                                           .encoder_alignment(Alignment::Right))
                        .to(past.device());
  const auto queries = attention_input.slice(1, te);
  const auto attended = attn_norm1(attn_gate1(attn(queries, attention_input, attention_input, mask)), queries);
  return output_layer(attn_norm2(attn_gate2(attn_grn(attended)), decoder_output));
}

}  // namespace seqpack::models
