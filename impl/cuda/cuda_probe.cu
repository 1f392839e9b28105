// The home of seqpack's CUDA kernels. For now one tiny kernel that proves the toolchain compiles
// .cu files against LibTorch and links them into the library; real kernels follow.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>

#include "seqpack/cuda_probe.h"

namespace seqpack::cuda {
namespace {
__global__ void fill_iota(int64_t* out, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = i;
}
}  // namespace

bool compiled_with_cuda() { return true; }

at::Tensor iota(int64_t n) {
  auto out = at::empty({n}, at::TensorOptions().dtype(at::kLong).device(at::kCUDA));
  constexpr int threads = 256;
  const auto blocks = static_cast<unsigned>((n + threads - 1) / threads);
  if (n > 0) {
    fill_iota<<<blocks, threads, 0, at::cuda::getCurrentCUDAStream()>>>(out.data_ptr<int64_t>(), n);
  }
  return out;
}
}  // namespace seqpack::cuda
