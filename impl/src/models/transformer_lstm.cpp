#include "seqpack/models/transformer_lstm.h"

#include "seqpack/errors.h"
#include "seqpack/masks.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/input_checks.h"
#include "seqpack/models/lstm_path.h"
#include "seqpack/models/packing_policy.h"
#include "seqpack/models/real_step_attention.h"
#include "seqpack/models/real_steps.h"

namespace seqpack::models {

TransformerBlockImpl::TransformerBlockImpl(int64_t d_model, int64_t num_heads, double dropout) {
  encoder_self_attention =
      register_module("encoder_self_attention", nn::InterpretableMultiHeadAttention(d_model, num_heads, dropout));
  cross_attention = register_module("cross_attention", nn::InterpretableMultiHeadAttention(d_model, num_heads, dropout));
  encoder_gate_add_norm = register_module("encoder_gate_add_norm", nn::GateAddNorm(d_model, d_model, dropout));
  decoder_gate_add_norm = register_module("decoder_gate_add_norm", nn::GateAddNorm(d_model, d_model, dropout));
}

std::tuple<at::Tensor, at::Tensor> TransformerBlockImpl::forward(const at::Tensor& encoder_output,
                                                                 const at::Tensor& decoder_output,
                                                                 const std::optional<at::Tensor>& attention_mask,
                                                                 const std::optional<at::Tensor>& encoder_lengths) {
  std::optional<at::Tensor> self_mask;
  if (encoder_lengths) {
    // Every encoder step may attend the valid encoder steps only.
    const auto steps = encoder_output.size(1);
    self_mask = create_mask(steps, *encoder_lengths).unsqueeze(1).expand({-1, steps, -1});
  }
  const auto attended = encoder_self_attention(encoder_output, encoder_output, encoder_output, self_mask);
  const auto encoder = encoder_gate_add_norm(attended, encoder_output);
  const auto memory = torch::cat({encoder, decoder_output}, 1);
  const auto crossed = cross_attention(decoder_output, memory, memory, attention_mask);
  return {encoder, decoder_gate_add_norm(crossed, decoder_output)};
}

std::tuple<at::Tensor, at::Tensor> TransformerBlockImpl::forward_real_steps(const at::Tensor& encoder_steps,
                                                                 const at::Tensor& decoder_steps,
                                                                 const nn::AttentionPlan& self_plan,
                                                                 const nn::AttentionPlan& cross_plan) {
  const auto attended = encoder_self_attention->forward_planned(encoder_steps, encoder_steps, self_plan);
  const auto encoder = encoder_gate_add_norm(attended, encoder_steps);
  const auto crossed = cross_attention->forward_planned(decoder_steps, at::cat({encoder, decoder_steps}), cross_plan);
  return {encoder, decoder_gate_add_norm(crossed, decoder_steps)};
}

TransformerLSTMImpl::TransformerLSTMImpl(const TransformerLSTMOptions& opts) : options(opts) {
  for (auto [value, name] : {std::pair{opts.num_past_features(), "num_past_features"},
                             {opts.num_future_features(), "num_future_features"}, {opts.d_model(), "d_model"},
                             {opts.num_layers(), "num_layers"}, {opts.output_dim(), "output_dim"}}) {
    require_positive(value, name);
  }
  if (opts.num_transformer_blocks() < 0) reject("num_transformer_blocks", "must not be negative");
  if (opts.num_heads() < 1 || opts.d_model() % opts.num_heads() != 0) {
    reject("num_heads", "must divide d_model = {} (got {})", opts.d_model(), opts.num_heads());
  }
  auto grn = [&](int64_t input) {
    return nn::GatedResidualNetwork(
        nn::GatedResidualNetworkOptions(input, opts.d_model()).d_hidden(opts.d_model()).dropout(opts.dropout()));
  };
  encoder_grn = register_module("encoder_grn", grn(opts.num_past_features()));
  decoder_grn = register_module("decoder_grn", grn(opts.num_future_features()));
  auto lstm = [&] {
    return torch::nn::LSTM(family_lstm_options(opts.d_model(), opts.d_model(), opts.num_layers(), opts.dropout()));
  };
  encoder = register_module("encoder", lstm());
  decoder = register_module("decoder", opts.share_lstm_weights() ? encoder : lstm());
  for (int64_t i = 0; i < opts.num_transformer_blocks(); ++i) {
    transformer_blocks->push_back(TransformerBlock(opts.d_model(), opts.num_heads(), opts.dropout()));
  }
  register_module("transformer_blocks", transformer_blocks);
  output_head = register_module("output_head", torch::nn::Linear(opts.d_model(), opts.output_dim()));
}

at::Tensor TransformerLSTMImpl::forward(const ModelInputs& in) {
  check_model_inputs(in, {options.num_past_features(), options.num_future_features(), output_head->weight.scalar_type()});
  const auto packing = resolve_packing(options.packing(), "transformer_lstm", in.past_sequence, in.encoder_lengths);
  if (packing == Packing::PaddingFree) {
    const auto real = padding_free(in);
    return real.steps.scatter(real.values);
  }
  const auto encoder_embedding = encoder_grn(in.past_sequence);
  const auto encoded = run_lstm(encoder, encoder_embedding, in.encoder_lengths, packing, options.packed_lstm(),
                                LstmRole::Encoder);
  auto encoder_output = encoded.output + encoder_embedding;
  const auto decoder_embedding = decoder_grn(in.future_sequence);
  const auto decoded =
      run_lstm(decoder, decoder_embedding, in.decoder_lengths, packing, options.packed_lstm(), LstmRole::Decoder,
               encoded.state);
  auto decoder_output = decoded.output + decoder_embedding;
  std::optional<at::Tensor> mask;
  if (in.encoder_lengths && in.decoder_lengths) {
    mask = get_attention_mask(*in.encoder_lengths, *in.decoder_lengths, in.past_sequence.size(1),
                              in.future_sequence.size(1), AttentionMaskOptions().causal_attention(options.causal_attention()));
  }
  for (const auto& block : *transformer_blocks) {
    std::tie(encoder_output, decoder_output) =
        block->as<TransformerBlock>()->forward(encoder_output, decoder_output, mask, in.encoder_lengths);
  }
  return output_head(decoder_output);
}

std::optional<RealStepOutput> TransformerLSTMImpl::forward_real_steps(const ModelInputs& in) {
  // Only these two choices can take the path: the others skip the checks (forward makes them).
  if (options.packing() != Packing::PaddingFree && options.packing() != Packing::Calibrated) return std::nullopt;
  check_model_inputs(in, {options.num_past_features(), options.num_future_features(), output_head->weight.scalar_type()});
  if (resolve_packing(options.packing(), "transformer_lstm", in.past_sequence, in.encoder_lengths) != Packing::PaddingFree) {
    return std::nullopt;
  }
  return padding_free(in);
}

RealStepOutput TransformerLSTMImpl::padding_free(const ModelInputs& in) {
  const auto masked = padding_free_attention_masked(in);
  const auto [encoder_steps, decoder_steps] = RealStepBatch::of(in);
  const auto encoder_embedding = encoder_grn(encoder_steps.gather(in.past_sequence));
  const auto encoded = run_real_steps_lstm(encoder, encoder_steps, encoder_embedding, options.packed_lstm());
  auto encoder_output = encoded.output + encoder_embedding;
  const auto decoder_embedding = decoder_grn(decoder_steps.gather(in.future_sequence));
  const auto decoded =
      run_real_steps_lstm(decoder, decoder_steps, decoder_embedding, options.packed_lstm(), encoded.state);
  auto decoder_output = decoded.output + decoder_embedding;
  if (!transformer_blocks->is_empty()) {
    const auto self_plan = self_attention_plan(encoder_steps);
    const auto cross_plan =
        cross_attention_plan(encoder_steps, decoder_steps, padding_free_mask(masked, options.causal_attention()));
    for (const auto& block : *transformer_blocks) {
      std::tie(encoder_output, decoder_output) =
          block->as<TransformerBlock>()->forward_real_steps(encoder_output, decoder_output, self_plan, cross_plan);
    }
  }
  return {output_head(decoder_output), decoder_steps};
}

}  // namespace seqpack::models
