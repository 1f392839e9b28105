#include "seqpack/models/real_steps.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <numeric>

#include "seqpack/lengths.h"
#include "seqpack/models/segmented_lstm.h"
#include "seqpack/models/stepwise_lstm.h"
#include "seqpack/sequence.h"

namespace seqpack::models {

RealSteps RealSteps::of(const std::optional<at::Tensor>& lengths, int64_t batch, int64_t steps, at::Device device,
                        std::string_view argument) {
  RECORD_USER_SCOPE("real_steps.layout");  // the stages perf/profile_summary.py reports
  RealSteps s;
  s.batch = batch;
  s.steps = steps;
  s.lengths = lengths ? checked_lengths(*lengths, argument, {.batch = batch, .max_length = steps})
                      : at::full({batch}, steps, at::kLong);
  const auto* length = s.lengths.data_ptr<int64_t>();
  // Longest first; a stable sort keeps equal lengths in batch order, so the layout is the same
  // on every run (PyTorch's pack may order ties otherwise: the rows are independent either way).
  std::vector<int64_t> order(batch);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return length[a] > length[b]; });
  const auto live = std::count_if(order.begin(), order.end(), [&](int64_t row) { return length[row] > 0; });
  order.resize(live);
  const int64_t longest = live ? length[order.front()] : 0;
  s.batch_sizes = at::empty({longest}, at::kLong);
  auto* sizes = s.batch_sizes.data_ptr<int64_t>();
  s.count = std::accumulate(order.begin(), order.end(), int64_t{0}, [&](int64_t n, int64_t row) { return n + length[row]; });
  auto flat = at::empty({s.count}, at::kLong);
  auto position = at::full({batch, steps}, s.count, at::kLong);
  auto* flat_out = flat.data_ptr<int64_t>();
  auto* position_out = position.data_ptr<int64_t>();
  int64_t n = 0;
  int64_t alive = live;
  for (int64_t t = 0; t < longest; ++t) {
    while (alive > 0 && length[order[alive - 1]] <= t) --alive;
    sizes[t] = alive;
    for (int64_t k = 0; k < alive; ++k) {
      const auto at_step = order[k] * steps + t;
      position_out[at_step] = n;
      flat_out[n++] = at_step;
    }
  }
  s.rows = at::tensor(order, at::kLong).to(device);
  s.flat_index = flat.to(device);
  s.position = position;
  return s;
}

RealStepBatch RealStepBatch::of(const ModelInputs& in) {
  const auto device = in.past_sequence.device();
  return {RealSteps::of(in.encoder_lengths, in.past_sequence.size(0), in.past_sequence.size(1), device, "encoder_lengths"),
          RealSteps::of(in.decoder_lengths, in.future_sequence.size(0), in.future_sequence.size(1), device,
                        "decoder_lengths")};
}

std::vector<int64_t> RealSteps::host_lengths() const {
  const auto* length = lengths.data_ptr<int64_t>();
  return {length, length + batch};
}

at::Tensor RealSteps::gather(const at::Tensor& padded) const {
  return padded.flatten(0, 1).index_select(0, flat_index);
}

at::Tensor RealSteps::scatter(const at::Tensor& values) const {
  auto shape = values.sizes().vec();
  shape[0] = batch * steps;
  const auto padded = at::zeros(shape, values.options()).index_copy(0, flat_index, values);
  shape[0] = steps;
  shape.insert(shape.begin(), batch);
  return padded.view(shape);
}

std::optional<RealStepOutput> ForecastModel::forward_real_steps(const ModelInputs&) { return std::nullopt; }

at::Tensor padding_free_loss(const RealStepOutput& output, const at::Tensor& target,
                             const std::optional<at::Tensor>& decoder_lengths, const Criterion& criterion,
                             bool use_loss_masking) {
  RECORD_USER_SCOPE("real_steps.loss");
  const auto& steps = output.steps;
  if (target.dim() >= 2 && target.size(0) == steps.batch && target.size(1) == steps.steps) {
    return calc_loss(output.values.unsqueeze(0), steps.gather(target).unsqueeze(0), std::nullopt, criterion, false);
  }
  return calc_loss(steps.scatter(output.values), target, decoder_lengths, criterion, use_loss_masking);
}

RealStepsLstmRun run_real_steps_lstm(torch::nn::LSTM& lstm, const RealSteps& steps, const at::Tensor& values,
                                     PackedLstm packed_lstm, const std::optional<LstmState>& initial) {
  RECORD_USER_SCOPE("real_steps.lstm");
  const auto& o = lstm->options;
  const auto state_shape = std::vector<int64_t>{o.num_layers() * (o.bidirectional() ? 2 : 1), steps.batch, o.hidden_size()};
  const auto h0 = initial ? std::get<0>(*initial) : at::zeros(state_shape, values.options());
  const auto c0 = initial ? std::get<1>(*initial) : at::zeros(state_shape, values.options());
  if (steps.count == 0) return {at::zeros({0, o.hidden_size()}, values.options()), {h0, c0}};
  // The pack's batch is the live samples in `rows` order, already sorted: no permutation inside.
  const PackedSequence packed(values, steps.batch_sizes);
  std::optional<LstmState> initial_rows;
  if (initial) initial_rows = LstmState{h0.index_select(1, steps.rows), c0.index_select(1, steps.rows)};
  if (packed_lstm == PackedLstm::PyTorch) {
    auto [output, state] = lstm->forward_with_packed_input(packed, initial_rows);
    return {output.data(), {h0.index_copy(1, steps.rows, std::get<0>(state)), c0.index_copy(1, steps.rows, std::get<1>(state))}};
  }
  const auto run = packed_lstm == PackedLstm::Segments ? run_segmented_lstm(lstm, packed, initial_rows)
                                                       : run_stepwise_lstm(lstm, packed, initial_rows);
  const auto& [h, c] = run.state;
  return {run.output.data(), {h0.index_copy(1, steps.rows, h), c0.index_copy(1, steps.rows, c)}};
}

}  // namespace seqpack::models
