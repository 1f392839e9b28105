#pragma once
// Shape checks shared by the sequence functions, each throwing InvalidArgument that names the
// argument and the rule.
#include <ATen/core/Tensor.h>

#include <string_view>

namespace seqpack {

// A defined tensor of rank >= min_rank.
void require_rank_at_least(const at::Tensor& tensor, std::string_view argument, int64_t min_rank);

// A defined, non-empty batch: rank >= 2 and B >= 1 along `batch_dim`.
void require_sequence_batch(const at::Tensor& tensor, std::string_view argument, int64_t batch_dim);

}  // namespace seqpack
