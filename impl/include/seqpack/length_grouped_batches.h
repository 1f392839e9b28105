#pragma once
// Batches of samples with similar lengths, so that a collated batch carries little padding: the
// data set is shuffled, cut into buckets of `bucket_batches` batches, each bucket sorted by
// length (longest first, stable) and cut into batches, and the batches shuffled. Seeded with
// PyTorch's CPU generator, so that Python's torch.randperm with the same seed makes the same
// batches (reference/seqpack_reference/batching.py).
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <vector>

namespace seqpack {

struct BatchingOptions {
  explicit BatchingOptions(int64_t batch_size) : batch_size_(batch_size) {}
  TORCH_ARG(int64_t, batch_size);
  // Samples sorted together: this many batches' worth. 1 sorts within each batch only (no
  // grouping); the data set's size sorts it whole (least padding, least randomness).
  TORCH_ARG(int64_t, bucket_batches) = 16;
  // Off: the data set's order is bucketed as it is and the batches come in bucket order.
  TORCH_ARG(bool, shuffle) = true;
  // Change it each epoch (seed + epoch) for a new grouping.
  TORCH_ARG(uint64_t, seed) = 0;
  // Drop the one batch smaller than batch_size, if there is one.
  TORCH_ARG(bool, drop_last) = false;
};

struct BatchPlan {
  std::vector<at::Tensor> batches;  // each (b,) int64: indices into the data set
  double fill_ratio = 1.0;          // sum of lengths / sum over batches of (b x longest length)
};

// lengths: (N,) or (N, 1), integral and non-negative (docs/contract.md, "Words"). InvalidArgument
// for an empty data set, batch_size < 1 or bucket_batches < 1.
BatchPlan length_grouped_batches(const at::Tensor& lengths, const BatchingOptions& options);

// The usual random batches (shuffled, cut in order; bucket_batches is not used), to compare with.
BatchPlan random_batches(const at::Tensor& lengths, const BatchingOptions& options);

// sum(L) / sum over batches of (batch size x its longest length); 1 when nothing is padded.
double fill_ratio(const at::Tensor& lengths, const std::vector<at::Tensor>& batches);

}  // namespace seqpack
