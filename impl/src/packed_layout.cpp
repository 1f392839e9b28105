#include "packed_layout.h"

namespace seqpack::detail {

at::Tensor batch_sizes_of(const at::Tensor& lengths_sorted) {
  const int64_t longest = lengths_sorted.numel() == 0 ? 0 : lengths_sorted[0].item<int64_t>();
  const auto step = at::arange(longest, lengths_sorted.options()).unsqueeze(1);
  return (lengths_sorted.unsqueeze(0) > step).sum(1);
}

at::Tensor padded_index(const at::Tensor& batch_sizes, const at::Tensor& sorted, int64_t batch, int64_t steps,
                        bool batch_first) {
  const auto options = batch_sizes.options();
  const auto time = at::repeat_interleave(at::arange(batch_sizes.size(0), options), batch_sizes);
  const auto starts = batch_sizes.cumsum(0) - batch_sizes;
  const auto rank = at::arange(time.size(0), options) - starts.index_select(0, time);
  const auto row = sorted.defined() ? sorted.index_select(0, rank) : rank;
  return batch_first ? row * steps + time : time * batch + row;
}

}  // namespace seqpack::detail
