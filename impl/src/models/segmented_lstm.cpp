#include "seqpack/models/segmented_lstm.h"

#include <ATen/ATen.h>

#include "seqpack/errors.h"

namespace seqpack::models {

SegmentedRun run_segmented_lstm(torch::nn::LSTM& lstm, const PackedSequence& packed,
                                const std::optional<std::tuple<at::Tensor, at::Tensor>>& initial) {
  const auto& o = lstm->options;
  if (o.bidirectional() || o.proj_size() != 0)
    reject("lstm", "the segmented run needs a unidirectional LSTM without projections");
  const auto& data = packed.data();
  const auto sizes = packed.batch_sizes().contiguous();
  const int64_t steps = sizes.numel();
  const int64_t* live = sizes.const_data_ptr<int64_t>();
  const int64_t batch = steps ? live[0] : 0;
  const std::vector<int64_t> state_shape{o.num_layers(), batch, o.hidden_size()};
  // The state in rank order (longest row first), as the pack holds the rows.
  auto to_ranks = [&](const at::Tensor& state) {
    return packed.sorted_indices().defined() ? state.index_select(1, packed.sorted_indices()) : state;
  };
  at::Tensor h = initial ? to_ranks(std::get<0>(*initial)) : at::zeros(state_shape, data.options());
  at::Tensor c = initial ? to_ranks(std::get<1>(*initial)) : at::zeros(state_shape, data.options());
  const auto weights = lstm->all_weights();
  std::vector<at::Tensor> outputs, final_h, final_c;
  int64_t offset = 0;
  for (int64_t begin = 0; begin < steps;) {
    const int64_t rows = live[begin];
    int64_t end = begin + 1;
    while (end < steps && live[end] == rows) ++end;
    const auto block = data.narrow(0, offset, (end - begin) * rows).view({end - begin, rows, data.size(1)});
    auto [out, block_h, block_c] = at::lstm(block, {h, c}, weights, o.bias(), o.num_layers(), o.dropout(),
                                            lstm->is_training(), /*bidirectional=*/false, /*batch_first=*/false);
    outputs.push_back(out.view({-1, o.hidden_size()}));
    // Rows ranked [next, rows) end here; the first `next` go on into the following block.
    const int64_t next = end < steps ? live[end] : 0;
    final_h.push_back(block_h.narrow(1, next, rows - next));
    final_c.push_back(block_c.narrow(1, next, rows - next));
    h = block_h.narrow(1, 0, next);
    c = block_c.narrow(1, 0, next);
    offset += (end - begin) * rows;
    begin = end;
  }
  // Blocks end their rows from the last rank up: reversed, the pieces are in rank order.
  std::reverse(final_h.begin(), final_h.end());
  std::reverse(final_c.begin(), final_c.end());
  auto in_batch_order = [&](std::vector<at::Tensor>& pieces) {
    if (pieces.empty()) return at::zeros(state_shape, data.options());
    const auto ranked = at::cat(pieces, 1);
    return packed.unsorted_indices().defined() ? ranked.index_select(1, packed.unsorted_indices()) : ranked;
  };
  auto output_data = outputs.empty() ? data.new_empty({0, o.hidden_size()}) : at::cat(outputs, 0);
  return {PackedSequence(output_data, packed.batch_sizes(), packed.sorted_indices(), packed.unsorted_indices()),
          {in_batch_order(final_h), in_batch_order(final_c)}};
}

}  // namespace seqpack::models
