#pragma once
// Where each element of a PackedSequence's data lives in the padded batch, shared by pack and
// unpack so that the two are inverses by construction.
#include <ATen/ATen.h>

namespace seqpack::detail {

// batch_sizes[t] = number of rows longer than t, for t < max length. lengths_sorted: (B,) int64
// CPU, non-increasing.
at::Tensor batch_sizes_of(const at::Tensor& lengths_sorted);

// For packed element k (time-major, longest row first): its index into the padded batch seen as
// rows of (B * steps) [batch_first] or (steps * B) [time-major]. sorted: rank -> row, or undefined
// for the identity. All int64 CPU.
at::Tensor padded_index(const at::Tensor& batch_sizes, const at::Tensor& sorted, int64_t batch, int64_t steps,
                        bool batch_first);

}  // namespace seqpack::detail
