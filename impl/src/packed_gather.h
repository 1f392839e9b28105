#pragma once
// Fused align-and-pack's data on a CUDA device: the CUDA gather kernel, made differentiable by
// its mirror scatter kernel, so that a packed model trains through it.
#include <ATen/ATen.h>

namespace seqpack::detail {

// sequences: (B, T, *) [batch_first] or (T, B, *) on CUDA. batch_sizes: int64 CPU. sorted: rank
// -> row, or undefined for the identity; sources: each row's first step, or undefined for zeros.
at::Tensor gather_packed_on_cuda(const at::Tensor& sequences, const at::Tensor& batch_sizes, const at::Tensor& sorted,
                                 const at::Tensor& sources, bool batch_first);

}  // namespace seqpack::detail
