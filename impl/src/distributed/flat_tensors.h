#pragma once
// Tensors of one dtype and device as one flat tensor and back: a bucket travels in one collective.
#include <ATen/ATen.h>

#include <vector>

namespace seqpack::distributed {

inline at::Tensor flatten(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> rows;
  rows.reserve(tensors.size());
  for (const auto& t : tensors) rows.push_back(t.reshape({-1}));
  return at::cat(rows);
}

// Copies `flat`'s consecutive pieces back into `tensors` (in place, their shapes kept).
inline void unflatten_into(const at::Tensor& flat, const std::vector<at::Tensor>& tensors) {
  int64_t offset = 0;
  for (const auto& t : tensors) {
    const auto n = t.numel();
    t.copy_(flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

}  // namespace seqpack::distributed
