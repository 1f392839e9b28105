#pragma once
// seqpack's stepwise packed LSTM (CPU). The pack, sorted longest-first, holds step t's live rows
// as one contiguous slice of b_t rows, and those rows are the first b_t of step t-1's. Each layer
// projects every input row at once (one GEMM), then walks the steps on those shrinking slices
// with one GEMM for the recurrence and a few fused element-wise passes; its backward, written by
// hand, walks them back the same way and computes the weight gradients with one GEMM each over
// all rows. The work follows the real timesteps, and no step builds a PackedSequence or a copy.
// Same result as PyTorch's packed LSTM (to rounding).
#include <torch/nn/modules/rnn.h>

#include "seqpack/models/segmented_lstm.h"

namespace seqpack::models {

// The pack must come from pack_*_sequences (batch_sizes on the CPU) and live on the CPU; the LSTM
// must be unidirectional without projections. initial: (h0, c0) in the batch's order, or zeros.
// Dropout between layers applies to the packed rows, as PyTorch's packed LSTM does.
SegmentedRun run_stepwise_lstm(torch::nn::LSTM& lstm, const PackedSequence& packed,
                               const std::optional<std::tuple<at::Tensor, at::Tensor>>& initial);

}  // namespace seqpack::models
