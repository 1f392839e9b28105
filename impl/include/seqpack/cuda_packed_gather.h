#pragma once
// The CUDA kernels of fused align-and-pack: one kernel moves each element of a padded batch
// straight to its place in the pack (no index tensor, no aligned copy), and its mirror moves a
// pack's gradient back. Built with nvcc into the library; a build without CUDA rejects the call.
#include <ATen/core/Tensor.h>

namespace seqpack::cuda {

// Where the pack's elements come from. Step t of rank r (longest row first) is padded row
// sorted[r], step sources[sorted[r]] + t. All int64 on the batch's CUDA device.
struct PackedPlacement {
  at::Tensor offsets;  // (steps + 1,): the pack's first element of each step, then its size
  at::Tensor sorted;   // (B,): rank -> row
  at::Tensor sources;  // (B,): each row's first step
  int64_t batch = 0;
  int64_t steps = 0;   // the padded batch's T
  bool batch_first = true;
};

// padded: contiguous (B, T, *) or (T, B, *) on CUDA -> (sum of lengths, *).
at::Tensor gather_packed(const at::Tensor& padded, const PackedPlacement& place);
// packed: (sum of lengths, *) -> the padded batch's shape, zeros where nothing was packed.
at::Tensor scatter_packed(const at::Tensor& packed, const PackedPlacement& place, at::IntArrayRef padded_shape);

}  // namespace seqpack::cuda
