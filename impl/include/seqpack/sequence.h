#pragma once
// The sequence utilities of transformertf (utils/sequence.py) in C++: the packing rule, encoder
// re-alignment, the alignment check, and packing / unpacking for the LSTM family.
// All tensors are batch-first (B, T, *) unless an option says otherwise.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/utils/rnn.h>

#include <optional>
#include <tuple>

#include "seqpack/alignment.h"

namespace seqpack {

using PackedSequence = torch::nn::utils::rnn::PackedSequence;

// The original's rule: false for no lengths, an empty batch or equal lengths; otherwise true when
// (max - min) / max > 0.1 (in float32, as the original computes it) or B >= 8.
bool should_use_packing(const std::optional<at::Tensor>& lengths);

struct AlignOptions {
  // The source layout has no default: a caller says what it has, or asks for the original's guess.
  explicit AlignOptions(Source source) : source_(source) {}
  TORCH_ARG(Source, source);
  // Target layout (the original's `alignment`, default "right").
  TORCH_ARG(Alignment, alignment) = Alignment::Right;
  // Right target: the data ends at step max_length (default T). Unused for a left target.
  TORCH_ARG(std::optional<int64_t>, max_length) = std::nullopt;
};

// Moves every row's L real steps to the target alignment, zeros elsewhere; output shape = input.
// One gather over the whole batch. Rows of length 0 become zeros.
//   Explicit source: data read from [0, L) (left) or [T-L, T) (right) and written to [0, L) or
//   [m-L, m); requires L <= m <= T for a right target.
//   Auto source: the original exactly (guessed layout; a row that does not fit is copied unchanged;
//   max_length > T with a row to move is rejected where the original fails on a shape mismatch).
at::Tensor align_encoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                   const AlignOptions& options);

// Throws InvalidArgument naming the first row whose padding holds non-zero (not allclose to 0)
// values for the expected alignment. No lengths, or rows with L >= T, are not checked.
void validate_encoder_alignment(const at::Tensor& encoder_input, const std::optional<at::Tensor>& lengths,
                                Alignment expected_alignment);

struct PackOptions {
  TORCH_ARG(bool, batch_first) = true;
  // True: lengths must already be in non-increasing order and no permutation is stored.
  TORCH_ARG(bool, enforce_sorted) = false;
};

struct PackEncoderOptions {
  explicit PackEncoderOptions(Source source) : source_(source) {}
  // Layout the encoder arrives in; packing reads left-aligned rows.
  TORCH_ARG(Source, source);
  // Re-align to the left first (the original's default). Off: rows must already be left-aligned.
  TORCH_ARG(bool, align_first) = true;
  TORCH_ARG(bool, batch_first) = true;
  TORCH_ARG(bool, enforce_sorted) = false;
};

// Packs left-aligned rows like torch.nn.utils.rnn.pack_padded_sequence: data (sum L, *) time-major,
// longest row first; batch_sizes (max L,) int64 on CPU; sorted_indices ordered by descending length
// (a stable sort: tied rows keep their batch order) and unsorted_indices, its inverse.
// Unlike PyTorch, a length greater than T is rejected instead of building a corrupt pack, and a
// row of length 0 is rejected with the row named (PyTorch refuses it too).
PackedSequence pack_decoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                      const PackOptions& options = {});
PackedSequence pack_encoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                      const PackEncoderOptions& options);

struct UnpackOptions {
  TORCH_ARG(bool, batch_first) = true;
  // Pad to this many steps (at least the longest row); default the longest row.
  TORCH_ARG(std::optional<int64_t>, total_length) = std::nullopt;
};

// The inverse of packing (pad_packed_sequence): (padded, lengths) in the original batch order,
// zeros after each row's length; lengths int64 on CPU. The packed parts are checked to agree.
std::tuple<at::Tensor, at::Tensor> unpack_to_fixed_length(const PackedSequence& packed,
                                                          const UnpackOptions& options = {});

}  // namespace seqpack
