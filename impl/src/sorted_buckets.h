#pragma once
// What length_grouped_batches and rank_batches both do to an order of samples: cut it into buckets,
// sort each longest first (stable, as Python's sorted) and cut it into batches; and shuffle a list
// of batches with the plan's generator. Shared so that both follow reference/'s one rule.
#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

namespace seqpack::detail {

// `members` cut into buckets of `bucket`, each sorted by `lengths` (longest first, stable) and cut
// into batches of `batch`, the last one of the order possibly shorter.
inline std::vector<at::Tensor> sorted_buckets(const at::Tensor& members, const at::Tensor& lengths, int64_t bucket,
                                              int64_t batch) {
  std::vector<at::Tensor> batches;
  for (int64_t start = 0; start < members.numel(); start += bucket) {
    const auto chunk = members.narrow(0, start, std::min(bucket, members.numel() - start));
    const auto by_length = std::get<1>(at::sort(lengths.index_select(0, chunk), /*stable=*/true, 0, /*descending=*/true));
    const auto sorted = chunk.index_select(0, by_length);
    for (int64_t b = 0; b < sorted.numel(); b += batch) {
      batches.push_back(sorted.narrow(0, b, std::min(batch, sorted.numel() - b)).clone());
    }
  }
  return batches;
}

// The batches in the order of one randperm drawn from `generator`.
inline std::vector<at::Tensor> permuted(const std::vector<at::Tensor>& batches, at::Generator& generator) {
  const auto order = at::randperm(static_cast<int64_t>(batches.size()), generator, at::kLong);
  std::vector<at::Tensor> out;
  out.reserve(batches.size());
  for (int64_t k = 0; k < order.numel(); ++k) out.push_back(batches[order[k].item<int64_t>()]);
  return out;
}

}  // namespace seqpack::detail
