#include "seqpack/models/encoder_decoder_lstm.h"

#include <torch/nn/modules/linear.h>

#include "seqpack/errors.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/input_checks.h"
#include "seqpack/models/lstm_path.h"
#include "seqpack/models/packing_policy.h"
#include "seqpack/models/real_steps.h"
#include "seqpack/nn/mlp.h"

namespace seqpack::models {

EncoderDecoderLSTMImpl::EncoderDecoderLSTMImpl(const EncoderDecoderLSTMOptions& opts) : options(opts) {
  for (auto [value, name] : {std::pair{opts.num_past_features(), "num_past_features"},
                             {opts.num_future_features(), "num_future_features"}, {opts.d_encoder(), "d_encoder"},
                             {opts.d_decoder(), "d_decoder"}, {opts.num_encoder_layers(), "num_encoder_layers"},
                             {opts.num_decoder_layers(), "num_decoder_layers"}, {opts.output_dim(), "output_dim"}}) {
    require_positive(value, name);
  }
  // The decoder starts from the encoder's per-layer state; the original fails in forward otherwise.
  if (opts.num_decoder_layers() != opts.num_encoder_layers()) {
    reject("num_decoder_layers", "must equal num_encoder_layers = {}: the decoder starts from the encoder's state (got {})",
           opts.num_encoder_layers(), opts.num_decoder_layers());
  }
  for (const auto width : opts.d_mlp_hidden()) require_positive(width, "d_mlp_hidden");
  encoder = register_module("encoder", torch::nn::LSTM(family_lstm_options(opts.num_past_features(), opts.d_encoder(),
                                                                           opts.num_encoder_layers(), opts.dropout())));
  decoder = register_module("decoder", torch::nn::LSTM(family_lstm_options(opts.num_future_features(), opts.d_decoder(),
                                                                           opts.num_decoder_layers(), opts.dropout())));
  if (opts.d_encoder() != opts.d_decoder()) {
    state_projection = register_module("state_projection", make_state_projection(opts.d_encoder(), opts.d_decoder()));
  }
  if (opts.d_mlp_hidden().empty()) {
    mlp_head = torch::nn::AnyModule(register_module("mlp_head", torch::nn::Linear(opts.d_decoder(), opts.output_dim())));
  } else {
    mlp_head = torch::nn::AnyModule(register_module(
        "mlp_head", nn::MLP(opts.d_decoder(), opts.d_mlp_hidden(), opts.output_dim(), opts.mlp_dropout(), opts.mlp_activation())));
  }
}

c10::ScalarType EncoderDecoderLSTMImpl::dtype() const { return parameters().front().scalar_type(); }

at::Tensor EncoderDecoderLSTMImpl::forward(const ModelInputs& in) {
  check_model_inputs(in, {options.num_past_features(), options.num_future_features(), dtype()});
  const auto packing = resolve_packing(options.packing(), "encoder_decoder_lstm", in.past_sequence, in.encoder_lengths);
  if (packing == Packing::PaddingFree) {
    const auto real = padding_free(in);
    return real.steps.scatter(real.values);
  }
  const auto encoded = run_lstm(encoder, in.past_sequence, in.encoder_lengths, packing, options.packed_lstm(),
                                LstmRole::Encoder);
  const auto decoded = run_lstm(decoder, in.future_sequence, in.decoder_lengths, packing, options.packed_lstm(),
                                LstmRole::Decoder,
                                project_state(state_projection, encoded.state));
  return mlp_head.forward(decoded.output);
}

std::optional<RealStepOutput> EncoderDecoderLSTMImpl::forward_real_steps(const ModelInputs& in) {
  // Only these two choices can take the path: the others skip the checks (forward makes them).
  if (options.packing() != Packing::PaddingFree && options.packing() != Packing::Calibrated) return std::nullopt;
  check_model_inputs(in, {options.num_past_features(), options.num_future_features(), dtype()});
  if (resolve_packing(options.packing(), "encoder_decoder_lstm", in.past_sequence, in.encoder_lengths) !=
      Packing::PaddingFree) {
    return std::nullopt;
  }
  return padding_free(in);
}

RealStepOutput EncoderDecoderLSTMImpl::padding_free(const ModelInputs& in) {
  const auto steps = RealStepBatch::of(in);
  const auto [encoded, decoded] =
      run_lstm_pair_on_real_steps(encoder, decoder, state_projection, steps, in, options.packed_lstm());
  return {mlp_head.forward(decoded.output), steps.decoder};
}

}  // namespace seqpack::models
