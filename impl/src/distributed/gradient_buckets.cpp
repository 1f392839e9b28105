#include "seqpack/distributed/gradient_buckets.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>

#include "flat_tensors.h"
#include "seqpack/errors.h"

namespace seqpack::distributed {

std::vector<std::vector<size_t>> gradient_buckets(const std::vector<at::Tensor>& parameters, const BucketCaps& caps) {
  if (caps.first_bytes < 1 || caps.other_bytes < 1) {
    reject("caps", "bucket caps must be at least 1 byte, got {} and {}", caps.first_bytes, caps.other_bytes);
  }
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (!parameters[i].defined()) reject("parameters", "parameter {} is undefined", i);
  }
  std::vector<std::vector<size_t>> buckets;
  std::vector<size_t> open;
  int64_t open_bytes = 0;
  const auto close = [&] {
    if (open.empty()) return;
    buckets.push_back(std::move(open));
    open.clear();
    open_bytes = 0;
  };
  for (size_t i = parameters.size(); i-- > 0;) {
    const auto& p = parameters[i];
    if (!open.empty()) {
      const auto& last = parameters[open.back()];
      if (last.scalar_type() != p.scalar_type() || last.device() != p.device()) close();
    }
    open.push_back(i);
    open_bytes += static_cast<int64_t>(p.numel() * p.element_size());
    // As DDP's compute_bucket_assignment_by_size: a bucket closes once it reaches its cap.
    if (open_bytes >= (buckets.empty() ? caps.first_bytes : caps.other_bytes)) close();
  }
  close();
  return buckets;
}

GradientBuckets::GradientBuckets(std::vector<at::Tensor> parameters, const BucketCaps& caps)
    : parameters_(std::move(parameters)), buckets_(gradient_buckets(parameters_, caps)) {}

void GradientBuckets::average_gradients(c10d::Backend& group) {
  at::NoGradGuard no_grad;
  for (const auto& bucket : buckets_) {
    std::vector<at::Tensor> grads;
    for (const auto i : bucket) {
      auto& p = parameters_[i];
      if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
      grads.push_back(p.grad());
    }
    std::vector<at::Tensor> flat{flatten(grads)};
    group.allreduce(flat)->wait();
    flat[0].div_(group.getSize());
    unflatten_into(flat[0], grads);
  }
}

}  // namespace seqpack::distributed
