#include "seqpack/models/lstm_path.h"

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/models/segmented_lstm.h"
#include "seqpack/models/stepwise_lstm.h"
#include "seqpack/sequence.h"

namespace seqpack::models {

Packing parse_packing(std::string_view text, std::string_view argument) {
  if (text == "auto") return Packing::Auto;
  if (text == "always") return Packing::Always;
  if (text == "never") return Packing::Never;
  if (text == "calibrated") return Packing::Calibrated;
  if (text == "padding_free") return Packing::PaddingFree;
  reject(argument, "must be \"auto\", \"always\", \"never\", \"calibrated\" or \"padding_free\" (got \"{}\")", text);
}

PackedLstm parse_packed_lstm(std::string_view text, std::string_view argument) {
  if (text == "pytorch") return PackedLstm::PyTorch;
  if (text == "segments") return PackedLstm::Segments;
  if (text == "stepwise") return PackedLstm::Stepwise;
  reject(argument, "must be \"pytorch\", \"segments\" or \"stepwise\" (got \"{}\")", text);
}

std::string_view to_string(Packing packing) {
  switch (packing) {
    case Packing::Always: return "always";
    case Packing::Never: return "never";
    case Packing::Calibrated: return "calibrated";
    case Packing::PaddingFree: return "padding_free";
    default: return "auto";
  }
}

std::string_view to_string(PackedLstm packed_lstm) {
  switch (packed_lstm) {
    case PackedLstm::Segments: return "segments";
    case PackedLstm::Stepwise: return "stepwise";
    default: return "pytorch";
  }
}

bool packs(Packing packing, const std::optional<at::Tensor>& lengths) {
  // Calibrated is resolved by the model's forward (resolve_packing); here it would mean Never.
  // PaddingFree never reaches run_lstm (run_real_steps_lstm runs its LSTMs).
  if (packing == Packing::Never || packing == Packing::Calibrated || packing == Packing::PaddingFree || !lengths) {
    return false;
  }
  return packing == Packing::Always || should_use_packing(*lengths);
}

namespace {

at::Tensor padded(const PackedSequence& packed, int64_t steps) {
  return std::get<0>(unpack_to_fixed_length(packed, UnpackOptions().total_length(steps)));
}

LstmRun run_packed(torch::nn::LSTM& lstm, const at::Tensor& input, const at::Tensor& lengths, PackedLstm packed_lstm,
                   LstmRole role, const std::optional<LstmState>& initial) {
  const auto packed = role == LstmRole::Encoder
                          ? pack_encoder_sequences(input, lengths, PackEncoderOptions(Source::Left).align_first(false))
                          : pack_decoder_sequences(input, lengths);
  if (packed_lstm != PackedLstm::PyTorch) {
    const auto run = packed_lstm == PackedLstm::Segments ? run_segmented_lstm(lstm, packed, initial)
                                                         : run_stepwise_lstm(lstm, packed, initial);
    return {padded(run.output, input.size(1)), run.state};
  }
  auto [packed_output, state] = lstm->forward_with_packed_input(packed, initial);
  return {padded(packed_output, input.size(1)), state};
}

}  // namespace

LstmRun run_lstm(torch::nn::LSTM& lstm, const at::Tensor& input, const std::optional<at::Tensor>& lengths,
                 Packing packing, PackedLstm packed_lstm, LstmRole role, const std::optional<LstmState>& initial) {
  // A model that takes the padding-free path runs its LSTMs by run_real_steps_lstm; reaching here
  // with it means a model without that path, which must not quietly run padded instead.
  if (packing == Packing::PaddingFree) {
    reject("packing", "\"padding_free\" needs a model that runs on the real steps (forward_real_steps); this LSTM "
           "run has no padding-free path");
  }
  if (!packs(packing, lengths)) {
    auto [output, state] = lstm->forward(input, initial);
    return {output, state};
  }
  const auto checked = checked_lengths(*lengths, "lengths", {.batch = input.size(0), .max_length = input.size(1)});
  const auto present = checked > 0;
  if (present.all().item<bool>()) return run_packed(lstm, input, checked, packed_lstm, role, initial);
  // PyTorch refuses rows of length 0. Such a row runs no step, as if it were absent: zero output,
  // and its state stays the initial one (zeros without one). The other rows run packed alone.
  const auto& o = lstm->options;
  const auto state_shape = std::vector<int64_t>{o.num_layers() * (o.bidirectional() ? 2 : 1), input.size(0), o.hidden_size()};
  const auto h0 = initial ? std::get<0>(*initial) : at::zeros(state_shape, input.options());
  const auto c0 = initial ? std::get<1>(*initial) : at::zeros(state_shape, input.options());
  auto output = at::zeros({input.size(0), input.size(1), o.hidden_size()}, input.options());
  const auto rows = present.nonzero().squeeze(1);
  if (rows.numel() == 0) return {output, {h0, c0}};
  const auto rows_here = rows.to(input.device());
  std::optional<LstmState> initial_rows;
  if (initial) initial_rows = LstmState{h0.index_select(1, rows_here), c0.index_select(1, rows_here)};
  const auto run = run_packed(lstm, input.index_select(0, rows_here), checked.index_select(0, rows), packed_lstm, role,
                              initial_rows);
  return {output.index_copy(0, rows_here, run.output),
          {h0.index_copy(1, rows_here, std::get<0>(run.state)), c0.index_copy(1, rows_here, std::get<1>(run.state))}};
}

}  // namespace seqpack::models
