#pragma once
// Data-parallel gradient averaging as PyTorch's DistributedDataParallel does it, minus its overlap
// with backward: the parameters are cut into buckets once, and after backward each bucket's
// gradients travel as one flat tensor, all-reduced (sum) over the ranks and divided by their
// number, so that every rank steps with the mean gradient of the global batch.
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace c10d {
class Backend;
}

namespace seqpack::distributed {

// DDP's defaults: a small first bucket (its all-reduce can start early) and 25 MiB after it.
struct BucketCaps {
  int64_t first_bytes = int64_t{1} << 20;   // torch.distributed._DEFAULT_FIRST_BUCKET_BYTES
  int64_t other_bytes = int64_t{25} << 20;  // DistributedDataParallel's bucket_cap_mb = 25
};

// The parameters' indices, bucket by bucket. From the last registered parameter to the first (the
// order in which backward roughly produces their gradients; DDP rebuilds its buckets in the order
// the first backward produced them, which these models' backward follows closely), a bucket takes
// parameters until its bytes reach its cap (the first bucket's cap, then the others'), as DDP's
// compute_bucket_assignment_by_size does; a change of dtype or device closes the bucket (a bucket
// is one flat tensor). InvalidArgument for an undefined parameter or a cap below 1.
std::vector<std::vector<size_t>> gradient_buckets(const std::vector<at::Tensor>& parameters,
                                                  const BucketCaps& caps = {});

class GradientBuckets {
 public:
  explicit GradientBuckets(std::vector<at::Tensor> parameters, const BucketCaps& caps = {});

  // Every parameter's gradient becomes its mean over the group's ranks: per bucket, the gradients
  // flattened, all-reduced (sum), divided by the group's size and copied back. A parameter without
  // a gradient counts as zeros and gets the mean. A collective: every rank calls it, in step.
  void average_gradients(c10d::Backend& group);

  const std::vector<std::vector<size_t>>& buckets() const { return buckets_; }

 private:
  std::vector<at::Tensor> parameters_;
  std::vector<std::vector<size_t>> buckets_;
};

}  // namespace seqpack::distributed
