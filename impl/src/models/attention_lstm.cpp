#include "seqpack/models/attention_lstm.h"

#include "seqpack/errors.h"
#include "seqpack/masks.h"
#include "seqpack/models/input_checks.h"
#include "seqpack/models/lstm_path.h"
#include "seqpack/models/packing_policy.h"
#include "seqpack/models/real_step_attention.h"
#include "seqpack/models/real_steps.h"

namespace seqpack::models {

torch::nn::LSTMOptions family_lstm_options(int64_t input_size, int64_t hidden_size, int64_t layers, double dropout) {
  return torch::nn::LSTMOptions(input_size, hidden_size).num_layers(layers).dropout(layers > 1 ? dropout : 0.0).batch_first(true);
}

torch::nn::ModuleDict make_state_projection(int64_t d_encoder, int64_t d_decoder) {
  using Entries = std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>;
  return torch::nn::ModuleDict(Entries{{"h_proj", torch::nn::Linear(d_encoder, d_decoder).ptr()},
                                       {"c_proj", torch::nn::Linear(d_encoder, d_decoder).ptr()}});
}

std::tuple<at::Tensor, at::Tensor> project_state(torch::nn::ModuleDict projection,
                                                 const std::tuple<at::Tensor, at::Tensor>& state) {
  if (!projection) return state;
  const auto& [h, c] = state;
  return {projection["h_proj"]->as<torch::nn::Linear>()->forward(h),
          projection["c_proj"]->as<torch::nn::Linear>()->forward(c)};
}

std::pair<RealStepsLstmRun, RealStepsLstmRun> run_lstm_pair_on_real_steps(torch::nn::LSTM& encoder,
                                                                         torch::nn::LSTM& decoder,
                                                                         torch::nn::ModuleDict projection,
                                                                         const RealStepBatch& steps,
                                                                         const ModelInputs& in, PackedLstm packed_lstm) {
  auto encoded = run_real_steps_lstm(encoder, steps.encoder, steps.encoder.gather(in.past_sequence), packed_lstm);
  auto decoded = run_real_steps_lstm(decoder, steps.decoder, steps.decoder.gather(in.future_sequence), packed_lstm,
                                     project_state(projection, encoded.state));
  return {std::move(encoded), std::move(decoded)};
}

void require_positive(int64_t value, std::string_view name) {
  if (value < 1) reject(name, "must be at least 1 (got {})", value);
}

AttentionLSTMImpl::AttentionLSTMImpl(const AttentionLSTMOptions& opts) : options(opts) {
  const auto d_encoder = opts.d_encoder().value_or(opts.d_model());
  const auto d_decoder = opts.d_decoder().value_or(opts.d_model());
  for (auto [value, name] : {std::pair{opts.num_past_features(), "num_past_features"},
                             {opts.num_future_features(), "num_future_features"},
                             // d_model is the width of whichever of the two is not given
                             {d_encoder, opts.d_encoder() ? "d_encoder" : "d_model"},
                             {d_decoder, opts.d_decoder() ? "d_decoder" : "d_model"}, {opts.num_layers(), "num_layers"},
                             {opts.output_dim(), "output_dim"}}) {
    require_positive(value, name);
  }
  if (opts.num_heads() < 1 || d_decoder % opts.num_heads() != 0) {
    reject("num_heads", "must divide d_decoder = {} (got {})", d_decoder, opts.num_heads());
  }
  encoder = register_module(
      "encoder", torch::nn::LSTM(family_lstm_options(opts.num_past_features(), d_encoder, opts.num_layers(), opts.dropout())));
  decoder = register_module("decoder", torch::nn::LSTM(family_lstm_options(opts.num_future_features(), d_decoder,
                                                                           opts.num_layers(), opts.dropout())));
  if (d_encoder != d_decoder) {
    state_projection = register_module("state_projection", make_state_projection(d_encoder, d_decoder));
    encoder_output_projection = register_module("encoder_output_projection", torch::nn::Linear(d_encoder, d_decoder));
  }
  attention = register_module("attention", nn::InterpretableMultiHeadAttention(d_decoder, opts.num_heads(), opts.dropout()));
  if (opts.use_gating()) {
    gate_add_norm = register_module("gate_add_norm", nn::GateAddNorm(d_decoder, std::nullopt, opts.dropout(), opts.trainable_add()));
  } else {
    layer_norm = register_module("layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_decoder})));
  }
  output_head = register_module("output_head", torch::nn::Linear(d_decoder, opts.output_dim()));
}

at::Tensor AttentionLSTMImpl::forward(const ModelInputs& in) {
  check_model_inputs(in, {options.num_past_features(), options.num_future_features(),
                          output_head->weight.scalar_type()});
  const auto packing = resolve_packing(options.packing(), "attention_lstm", in.past_sequence, in.encoder_lengths);
  if (packing == Packing::PaddingFree) {
    const auto real = padding_free(in);
    return real.steps.scatter(real.values);
  }
  const auto encoded = run_lstm(encoder, in.past_sequence, in.encoder_lengths, packing, options.packed_lstm(),
                                LstmRole::Encoder);
  const auto decoded = run_lstm(decoder, in.future_sequence, in.decoder_lengths, packing, options.packed_lstm(),
                                LstmRole::Decoder,
                                project_state(state_projection, encoded.state));
  std::optional<at::Tensor> mask;
  if (in.encoder_lengths && in.decoder_lengths) {
    mask = get_attention_mask(*in.encoder_lengths, *in.decoder_lengths, in.past_sequence.size(1),
                              in.future_sequence.size(1), AttentionMaskOptions().causal_attention(options.causal_attention()));
  }
  const auto memory = encoder_output_projection ? encoder_output_projection(encoded.output) : encoded.output;
  const auto keys = torch::cat({memory, decoded.output}, -2);
  const auto attended = attention(decoded.output, keys, keys, mask);
  const auto combined = gate_add_norm ? gate_add_norm(attended, decoded.output) : layer_norm(decoded.output + attended);
  return output_head(combined);
}

std::optional<RealStepOutput> AttentionLSTMImpl::forward_real_steps(const ModelInputs& in) {
  // Only these two choices can take the path: the others skip the checks (forward makes them).
  if (options.packing() != Packing::PaddingFree && options.packing() != Packing::Calibrated) return std::nullopt;
  check_model_inputs(in, {options.num_past_features(), options.num_future_features(),
                          output_head->weight.scalar_type()});
  if (resolve_packing(options.packing(), "attention_lstm", in.past_sequence, in.encoder_lengths) != Packing::PaddingFree) {
    return std::nullopt;
  }
  return padding_free(in);
}

RealStepOutput AttentionLSTMImpl::padding_free(const ModelInputs& in) {
  const auto masked = padding_free_attention_masked(in);
  const auto steps = RealStepBatch::of(in);
  const auto [encoded, decoded] =
      run_lstm_pair_on_real_steps(encoder, decoder, state_projection, steps, in, options.packed_lstm());
  const auto plan = cross_attention_plan(steps.encoder, steps.decoder, padding_free_mask(masked, options.causal_attention()));
  const auto memory = encoder_output_projection ? encoder_output_projection(encoded.output) : encoded.output;
  const auto attended = attention->forward_planned(decoded.output, at::cat({memory, decoded.output}), plan);
  const auto combined = gate_add_norm ? gate_add_norm(attended, decoded.output) : layer_norm(decoded.output + attended);
  return {output_head(combined), steps.decoder};
}

}  // namespace seqpack::models
