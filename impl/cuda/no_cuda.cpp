// Stands in for the CUDA sources in a build without nvcc.
#include "seqpack/cuda_probe.h"
#include "seqpack/errors.h"

namespace seqpack::cuda {
bool compiled_with_cuda() { return false; }
at::Tensor iota(int64_t) { throw InvalidArgument("device: this seqpack was built without CUDA"); }
}  // namespace seqpack::cuda
