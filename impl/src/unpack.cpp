#include <ATen/ATen.h>

#include "packed_layout.h"
#include "seqpack/errors.h"
#include "seqpack/limits.h"
#include "seqpack/sequence.h"

namespace seqpack {
namespace {

void require_int64_vector(const at::Tensor& tensor, std::string_view argument) {
  if (tensor.dim() != 1 || tensor.scalar_type() != at::kLong) {
    reject(argument, "must be a 1-D int64 tensor (got {} of shape [{}])", c10::toString(tensor.scalar_type()),
           fmt::join(tensor.sizes(), ", "));
  }
}

// batch_sizes must describe a real pack: 1-D int64 on the CPU, each in [1, B], non-increasing,
// summing to the number of packed elements.
void check_batch_sizes(const at::Tensor& batch_sizes, const at::Tensor& data) {
  if (!batch_sizes.defined()) reject("batch_sizes", "is required");
  require_int64_vector(batch_sizes, "batch_sizes");
  if (!batch_sizes.device().is_cpu()) reject("batch_sizes", "must be on the CPU (got {})", batch_sizes.device().str());
  if (batch_sizes.numel() == 0) reject("batch_sizes", "must not be empty");
  if ((batch_sizes < 1).any().item<bool>()) reject("batch_sizes", "must hold positive counts");
  if ((batch_sizes.slice(0, 1) > batch_sizes.slice(0, 0, -1)).any().item<bool>()) {
    reject("batch_sizes", "must be non-increasing");
  }
  const int64_t total = batch_sizes.sum().item<int64_t>();
  if (!data.defined() || data.dim() < 1) reject("data", "must have at least 1 dimension");
  if (data.size(0) != total) {
    reject("data", "must have sum(batch_sizes) = {} rows (got {})", total, data.size(0));
  }
}

// sorted_indices and unsorted_indices: both absent, or permutations of [0, B) inverse to each other.
void check_permutations(const PackedSequence& packed, int64_t batch) {
  const auto& sorted = packed.sorted_indices();
  const auto& unsorted = packed.unsorted_indices();
  if (sorted.defined() != unsorted.defined()) {
    reject("sorted_indices", "and unsorted_indices must be given together");
  }
  if (!sorted.defined()) return;
  for (const auto& [tensor, name] : {std::pair{sorted, "sorted_indices"}, std::pair{unsorted, "unsorted_indices"}}) {
    require_int64_vector(tensor, name);
    if (tensor.size(0) != batch) reject(name, "must have batch_sizes[0] = {} entries (got {})", batch, tensor.size(0));
    const auto host = tensor.cpu();
    if (!at::equal(std::get<0>(host.sort()), at::arange(batch, host.options()))) {
      reject(name, "must be a permutation of 0..{}", batch - 1);
    }
  }
  if (!at::equal(unsorted.cpu().index_select(0, sorted.cpu()), at::arange(batch, at::kLong))) {
    reject("unsorted_indices", "must be the inverse permutation of sorted_indices");
  }
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> unpack_to_fixed_length(const PackedSequence& packed, const UnpackOptions& options) {
  const auto& data = packed.data();
  const auto& batch_sizes = packed.batch_sizes();
  check_batch_sizes(batch_sizes, data);
  const int64_t batch = batch_sizes[0].item<int64_t>();
  check_permutations(packed, batch);
  const int64_t longest = batch_sizes.size(0);
  const int64_t steps = options.total_length().value_or(longest);
  if (steps < longest) {
    reject("total_length", "must be at least the longest row's length {} (got {})", longest, steps);
  }
  const auto sorted = packed.sorted_indices().defined() ? packed.sorted_indices().cpu() : at::Tensor();
  const auto index = detail::padded_index(batch_sizes, sorted, batch, steps, options.batch_first());

  const auto trailing = data.sizes().slice(1);
  std::vector<int64_t> shape{checked_multiply(batch, steps, "total_length")};
  std::vector<int64_t> whole{batch, steps};
  whole.insert(whole.end(), trailing.begin(), trailing.end());
  checked_numel(whole, data.scalar_type(), "total_length");  // the padded output, before it is made
  shape.insert(shape.end(), trailing.begin(), trailing.end());
  auto padded = at::zeros(shape, data.options()).index_copy_(0, index.to(data.device()), data);
  std::vector<int64_t> out_shape{options.batch_first() ? batch : steps, options.batch_first() ? steps : batch};
  out_shape.insert(out_shape.end(), trailing.begin(), trailing.end());

  // Row lengths by rank, then back to batch order.
  const auto rank = at::arange(batch, at::kLong);
  auto lengths = (batch_sizes.unsqueeze(0) > rank.unsqueeze(1)).sum(1);
  if (sorted.defined()) lengths = lengths.index_select(0, packed.unsorted_indices().cpu());
  return {padded.view(out_shape), lengths};
}

}  // namespace seqpack
