#include "seqpack/tensor_checks.h"

#include "seqpack/errors.h"

namespace seqpack {

void require_rank_at_least(const at::Tensor& tensor, std::string_view argument, int64_t min_rank) {
  if (!tensor.defined()) reject(argument, "is required");
  if (tensor.dim() < min_rank) {
    reject(argument, "must have at least {} dimensions (got shape [{}])", min_rank, fmt::join(tensor.sizes(), ", "));
  }
}

void require_sequence_batch(const at::Tensor& tensor, std::string_view argument, int64_t batch_dim) {
  require_rank_at_least(tensor, argument, 2);
  if (tensor.size(batch_dim) == 0) reject(argument, "must hold at least one row (the batch is empty)");
}

}  // namespace seqpack
