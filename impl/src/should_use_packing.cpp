#include <ATen/ATen.h>

#include "seqpack/lengths.h"
#include "seqpack/sequence.h"

namespace seqpack {

bool should_use_packing(const std::optional<at::Tensor>& lengths) {
  if (!lengths || !lengths->defined()) return false;
  const auto checked = checked_lengths(*lengths, "lengths", {});
  if (checked.numel() == 0) return false;
  const int64_t min_length = checked.min().item<int64_t>();
  const int64_t max_length = checked.max().item<int64_t>();
  if (min_length == max_length) return false;
  // The original divides in float32 and compares with 0.1 cast to float32: keep both, or a
  // borderline batch (say lengths 10 and 9) would flip.
  const float variation = static_cast<float>(max_length - min_length) / static_cast<float>(max_length);
  return variation > 0.1F || checked.numel() >= 8;
}

}  // namespace seqpack
