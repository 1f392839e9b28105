#include "seqpack/models/lstm_path.h"

#include <fmt/ranges.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/sequence.h"

namespace seqpack::models {

Packing parse_packing(std::string_view text, std::string_view argument) {
  if (text == "auto") return Packing::Auto;
  if (text == "always") return Packing::Always;
  if (text == "never") return Packing::Never;
  reject(argument, "must be \"auto\", \"always\" or \"never\" (got \"{}\")", text);
}

bool packs(Packing packing, const std::optional<at::Tensor>& lengths) {
  if (packing == Packing::Never || !lengths) return false;
  return packing == Packing::Always || should_use_packing(*lengths);
}

LstmRun run_lstm(torch::nn::LSTM& lstm, const at::Tensor& input, const std::optional<at::Tensor>& lengths,
                 Packing packing, LstmRole role, const std::optional<LstmState>& initial) {
  if (!packs(packing, lengths)) {
    auto [output, state] = lstm->forward(input, initial);
    return {output, state};
  }
  const auto packed = role == LstmRole::Encoder
                          ? pack_encoder_sequences(input, *lengths, PackEncoderOptions(Source::Left).align_first(false))
                          : pack_decoder_sequences(input, *lengths);
  auto [packed_output, state] = lstm->forward_with_packed_input(packed, initial);
  auto [output, unused_lengths] = unpack_to_fixed_length(packed_output, UnpackOptions().total_length(input.size(1)));
  return {output, state};
}

namespace {

void check_sequence(const at::Tensor& x, std::string_view name, int64_t features, c10::ScalarType dtype) {
  if (!x.defined()) reject(name, "is required");
  if (x.dim() != 3) reject(name, "must be (B, T, features) (got shape [{}])", fmt::join(x.sizes(), ", "));
  if (x.size(0) < 1 || x.size(1) < 1) reject(name, "must hold at least one row and one step");
  if (x.size(2) != features) reject(name, "must have {} features (got {})", features, x.size(2));
  if (x.scalar_type() != dtype) {
    reject(name, "must have the model's dtype {} (got {})", c10::toString(dtype), c10::toString(x.scalar_type()));
  }
}

}  // namespace

void check_model_inputs(const ModelInputs& in, int64_t num_past_features, int64_t num_future_features,
                        c10::ScalarType dtype) {
  check_sequence(in.past_sequence, "past_sequence", num_past_features, dtype);
  check_sequence(in.future_sequence, "future_sequence", num_future_features, dtype);
  const auto batch = in.past_sequence.size(0);
  if (in.future_sequence.size(0) != batch) {
    reject("future_sequence", "must have past_sequence's batch size {} (got {})", batch, in.future_sequence.size(0));
  }
  if (in.encoder_lengths) {
    checked_lengths(*in.encoder_lengths, "encoder_lengths",
                    {.batch = batch, .max_length = in.past_sequence.size(1), .allow_zero = false});
  }
  if (in.decoder_lengths) {
    checked_lengths(*in.decoder_lengths, "decoder_lengths",
                    {.batch = batch, .max_length = in.future_sequence.size(1), .allow_zero = false});
  }
}

}  // namespace seqpack::models
