// Fused align-and-pack on CUDA. One thread per packed element: a binary search over the steps'
// offsets finds its step and rank, and the placement says which padded element it is.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>

#include "seqpack/cuda_packed_gather.h"

namespace seqpack::cuda {
namespace {

struct Placement {
  const int64_t* offsets;
  const int64_t* sorted;
  const int64_t* sources;
  int64_t num_steps, batch, steps, features;
  bool batch_first;

  // The padded element that packed element i (flat, features innermost) comes from.
  __device__ int64_t padded_of(int64_t i) const {
    const int64_t p = i / features;
    int64_t lo = 0, hi = num_steps;  // the last step whose offset is <= p
    while (hi - lo > 1) {
      const int64_t mid = (lo + hi) / 2;
      if (offsets[mid] <= p) lo = mid; else hi = mid;
    }
    const int64_t row = sorted[p - offsets[lo]];
    const int64_t step = sources[row] + lo;
    return (batch_first ? row * steps + step : step * batch + row) * features + i % features;
  }
};

template <typename T>
__global__ void gather(const T* padded, T* packed, Placement place, int64_t total) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    packed[i] = padded[place.padded_of(i)];
}

// Each padded element receives from at most one packed element: no atomics needed.
template <typename T>
__global__ void scatter(const T* packed, T* padded, Placement place, int64_t total) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    padded[place.padded_of(i)] = packed[i];
}

Placement device_placement(const PackedPlacement& place, int64_t features) {
  return {place.offsets.const_data_ptr<int64_t>(), place.sorted.const_data_ptr<int64_t>(),
          place.sources.const_data_ptr<int64_t>(), place.offsets.numel() - 1, place.batch, place.steps, features,
          place.batch_first};
}

constexpr int kThreads = 256;
unsigned blocks_for(int64_t total) {
  return static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
}

}  // namespace

at::Tensor gather_packed(const at::Tensor& padded, const PackedPlacement& place) {
  const auto source = padded.contiguous();
  const int64_t features = source.numel() / std::max<int64_t>(place.batch * place.steps, 1);
  std::vector<int64_t> shape{0};
  shape.insert(shape.end(), source.sizes().begin() + 2, source.sizes().end());
  const int64_t packed_rows = place.offsets.numel() > 1 ? place.offsets[-1].item<int64_t>() : 0;
  shape[0] = packed_rows;
  auto packed = at::empty(shape, source.options());
  const int64_t total = packed.numel();
  if (total == 0) return packed;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, source.scalar_type(), "gather_packed", [&] {
    gather<scalar_t><<<blocks_for(total), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
        source.const_data_ptr<scalar_t>(), packed.mutable_data_ptr<scalar_t>(), device_placement(place, features), total);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return packed;
}

at::Tensor scatter_packed(const at::Tensor& packed, const PackedPlacement& place, at::IntArrayRef padded_shape) {
  const auto source = packed.contiguous();
  auto padded = at::zeros(padded_shape, source.options());
  const int64_t total = source.numel();
  if (total == 0) return padded;
  const int64_t features = total / source.size(0);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, source.scalar_type(), "scatter_packed", [&] {
    scatter<scalar_t><<<blocks_for(total), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
        source.const_data_ptr<scalar_t>(), padded.mutable_data_ptr<scalar_t>(), device_placement(place, features), total);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return padded;
}

}  // namespace seqpack::cuda
