// Stands in for the CUDA sources in a build without nvcc.
#include "seqpack/cuda_packed_gather.h"
#include "seqpack/cuda_probe.h"
#include "seqpack/errors.h"

namespace seqpack::cuda {
bool compiled_with_cuda() { return false; }
at::Tensor iota(int64_t) { throw InvalidArgument("device: this seqpack was built without CUDA"); }
at::Tensor gather_packed(const at::Tensor&, const PackedPlacement&) {
  throw InvalidArgument("sequences: on a CUDA device, but this seqpack was built without CUDA");
}
at::Tensor scatter_packed(const at::Tensor&, const PackedPlacement&, at::IntArrayRef) {
  throw InvalidArgument("sequences: on a CUDA device, but this seqpack was built without CUDA");
}
}  // namespace seqpack::cuda
