#include "seqpack/models/lstm_path.h"

#include "seqpack/errors.h"
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

}  // namespace seqpack::models
