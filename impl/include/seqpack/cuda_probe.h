#pragma once
// Whether the library was built with its CUDA sources, and one trivial kernel that tests use to
// prove a GPU build runs (they skip, saying why, where no GPU is present).
#include <ATen/core/Tensor.h>

namespace seqpack::cuda {
bool compiled_with_cuda();
// [0, 1, ..., n-1] as int64 on the current CUDA device. Only in a build with CUDA.
at::Tensor iota(int64_t n);
}  // namespace seqpack::cuda
