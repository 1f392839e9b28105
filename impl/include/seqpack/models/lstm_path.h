#pragma once
// One LSTM run the way the original's LSTM-family models run it: packed (pack with the rows read
// from step 0, run, unpack to the input's T) or padded, by the model's Packing choice.
#include <torch/nn/modules/rnn.h>

#include <optional>
#include <tuple>

#include "seqpack/models/forecast_model.h"

namespace seqpack::models {

using LstmState = std::tuple<at::Tensor, at::Tensor>;

struct LstmRun {
  at::Tensor output;  // (B, T, hidden), zeros after each row's length when packed
  LstmState state;    // (h, c), each (layers, B, hidden): at each row's last real step when packed
};

enum class LstmRole { Encoder, Decoder };

bool packs(Packing packing, const std::optional<at::Tensor>& lengths);

LstmRun run_lstm(torch::nn::LSTM& lstm, const at::Tensor& input, const std::optional<at::Tensor>& lengths,
                 Packing packing, PackedLstm packed_lstm, LstmRole role, const std::optional<LstmState>& initial = std::nullopt);

}  // namespace seqpack::models
