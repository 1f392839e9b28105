#pragma once
// seqpack's own packed LSTM run. A pack sorted longest-first holds, for every run of steps with
// the same number of live rows b, one contiguous time-major block (steps x b x features). Each
// block goes through the fused padded LSTM kernel (oneDNN on the CPU, cuDNN on CUDA) as a view,
// starting from the live rows' state; the rows that end with the block keep its final state.
// Same result as PyTorch's packed LSTM, which instead runs every step on its own.
#include <torch/nn/modules/rnn.h>

#include <tuple>

#include "seqpack/sequence.h"

namespace seqpack::models {

struct SegmentedRun {
  PackedSequence output;                // same batch_sizes and order as the input
  std::tuple<at::Tensor, at::Tensor> state;  // (h, c), (layers, B, hidden), in the batch's order
};

// The pack must come from pack_*_sequences (batch_sizes on the CPU); the LSTM must be
// unidirectional without projections. initial: (h0, c0) in the batch's order, or zeros.
SegmentedRun run_segmented_lstm(torch::nn::LSTM& lstm, const PackedSequence& packed,
                                const std::optional<std::tuple<at::Tensor, at::Tensor>>& initial);

}  // namespace seqpack::models
