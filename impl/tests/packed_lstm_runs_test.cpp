// seqpack's own packed LSTM runs, segmented and stepwise, against PyTorch's packed LSTM: the same
// outputs, final states and gradients (float64 to the last bits, float32 within rounding), alone
// and in every LSTM-family model; and what they refuse.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model_test_helpers.h"
#include "seqpack/models/lstm_path.h"
#include "seqpack/models/segmented_lstm.h"
#include "seqpack/models/stepwise_lstm.h"
#include "seqpack/models/training_step.h"
#include "seqpack/sequence.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

using models::LstmState;
using models::PackedLstm;

struct Run {
  at::Tensor output, h, c, input_grad;
  std::vector<at::Tensor> weight_grads;
};

// One packed run, forward and backward through every output, by the given implementation.
Run run(torch::nn::LSTM& lstm, const at::Tensor& input, const at::Tensor& lengths, const LstmState& initial,
        PackedLstm how, bool enforce_sorted = false) {
  lstm->zero_grad();
  const auto x = input.detach().requires_grad_();
  const auto packed = pack_decoder_sequences(x, lengths, PackOptions().enforce_sorted(enforce_sorted));
  auto [out, state] = [&]() -> std::tuple<PackedSequence, LstmState> {
    if (how == PackedLstm::PyTorch) return lstm->forward_with_packed_input(packed, initial);
    auto result = how == PackedLstm::Segments ? models::run_segmented_lstm(lstm, packed, initial)
                                              : models::run_stepwise_lstm(lstm, packed, initial);
    return {result.output, result.state};
  }();
  const auto& [h, c] = state;
  // Weighted sums, so that every element's gradient differs.
  (out.data() * at::linspace(0.5, 1.5, out.data().numel(), out.data().options()).view_as(out.data())).sum()
      .add(h.pow(2).sum())
      .add(c.sin().sum())
      .backward();
  Run result{std::get<0>(unpack_to_fixed_length(out, UnpackOptions().total_length(input.size(1)))), h, c, x.grad(), {}};
  for (const auto& parameter : lstm->parameters()) result.weight_grads.push_back(parameter.grad().clone());
  return result;
}

void expect_same(const Run& want, const Run& got, double rtol, double atol) {
  EXPECT_TRUE(at::allclose(got.output, want.output, rtol, atol)) << (got.output - want.output).abs().max();
  EXPECT_TRUE(at::allclose(got.h, want.h, rtol, atol)) << (got.h - want.h).abs().max();
  EXPECT_TRUE(at::allclose(got.c, want.c, rtol, atol)) << (got.c - want.c).abs().max();
  EXPECT_TRUE(at::allclose(got.input_grad, want.input_grad, rtol, atol)) << (got.input_grad - want.input_grad).abs().max();
  ASSERT_EQ(got.weight_grads.size(), want.weight_grads.size());
  for (size_t i = 0; i < got.weight_grads.size(); ++i)
    EXPECT_TRUE(at::allclose(got.weight_grads[i], want.weight_grads[i], rtol, atol)) << "parameter " << i;
}

torch::nn::LSTM small_lstm(at::ScalarType dtype, int64_t layers = 2, bool bias = true) {
  torch::manual_seed(3);
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(4, 6).num_layers(layers).bias(bias).batch_first(true));
  lstm->to(dtype);
  return lstm;
}

LstmState random_state(at::ScalarType dtype, int64_t layers, int64_t batch) {
  return {at::randn({layers, batch, 6}, dtype), at::randn({layers, batch, 6}, dtype)};
}

// Each of seqpack's packed runs is checked against PyTorch's.
class OwnPackedLstm : public ::testing::TestWithParam<PackedLstm> {};

TEST_P(OwnPackedLstm, EqualsPyTorchPackedInFloat64) {
  auto lstm = small_lstm(at::kDouble);
  torch::manual_seed(4);
  // Ties, a full row, a row of one step, and rows out of order.
  const auto lengths = at::tensor({3, 9, 1, 5, 5, 9, 2}, at::kLong);
  const auto input = at::randn({7, 9, 4}, at::kDouble);
  const auto initial = random_state(at::kDouble, 2, 7);
  expect_same(run(lstm, input, lengths, initial, PackedLstm::PyTorch), run(lstm, input, lengths, initial, GetParam()), 1e-12, 1e-12);
}

TEST_P(OwnPackedLstm, EqualsPyTorchPackedInFloat32) {
  auto lstm = small_lstm(at::kFloat, 3);
  torch::manual_seed(5);
  const auto lengths = at::randint(1, 31, {16}, at::kLong);
  const auto input = at::randn({16, 30, 4});
  const auto initial = random_state(at::kFloat, 3, 16);
  expect_same(run(lstm, input, lengths, initial, PackedLstm::PyTorch), run(lstm, input, lengths, initial, GetParam()), 1e-4, 1e-5);
}

TEST_P(OwnPackedLstm, TakesASortedPackWithoutIndicesAndEqualLengths) {
  auto lstm = small_lstm(at::kDouble);
  torch::manual_seed(6);
  const auto input = at::randn({4, 5, 4}, at::kDouble);
  const auto initial = random_state(at::kDouble, 2, 4);
  for (const auto& lengths : {at::tensor({5, 4, 2, 2}, at::kLong), at::tensor({5, 5, 5, 5}, at::kLong)}) {
    expect_same(run(lstm, input, lengths, initial, PackedLstm::PyTorch, true), run(lstm, input, lengths, initial, GetParam(), true),
                1e-12, 1e-12);
  }
}

// Steps of 16 rows and more are split across threads (stepwise): a large batch takes that path.
TEST_P(OwnPackedLstm, EqualsPyTorchPackedOnALargeBatch) {
  auto lstm = small_lstm(at::kDouble);
  torch::manual_seed(10);
  const auto lengths = at::randint(1, 13, {48}, at::kLong);
  const auto input = at::randn({48, 12, 4}, at::kDouble);
  const auto initial = random_state(at::kDouble, 2, 48);
  expect_same(run(lstm, input, lengths, initial, PackedLstm::PyTorch), run(lstm, input, lengths, initial, GetParam()),
              1e-12, 1e-12);
}

TEST_P(OwnPackedLstm, WorksWithoutBias) {
  auto lstm = small_lstm(at::kDouble, 2, false);
  torch::manual_seed(9);
  const auto lengths = at::tensor({2, 6, 4}, at::kLong);
  const auto input = at::randn({3, 6, 4}, at::kDouble);
  const auto initial = random_state(at::kDouble, 2, 3);
  expect_same(run(lstm, input, lengths, initial, PackedLstm::PyTorch), run(lstm, input, lengths, initial, GetParam()),
              1e-12, 1e-12);
}

TEST_P(OwnPackedLstm, EveryLstmFamilyModelGivesTheSameOutputAndGradients) {
  torch::manual_seed(7);
  const auto inputs = testing::batch({4, 7, 2, 7, 5}, {3, 1, 3, 2, 2}, 7, 3);
  torch::manual_seed(8);
  auto pytorch = testing::small_models(models::Packing::Always);
  torch::manual_seed(8);  // the same initial weights
  auto own = testing::small_models(models::Packing::Always, 0.0, GetParam());
  for (size_t m = 0; m < pytorch.size(); ++m) {
    SCOPED_TRACE(pytorch[m].first);
    std::vector<at::Tensor> outputs, grads;
    for (auto* model : {pytorch[m].second.get(), own[m].second.get()}) {
      const auto output = model->forward(inputs);
      output.pow(2).sum().backward();
      outputs.push_back(output.detach());
      for (const auto& parameter : model->parameters()) grads.push_back(parameter.grad());
    }
    EXPECT_TRUE(at::allclose(outputs[1], outputs[0], 1e-12, 1e-12));
    const size_t count = grads.size() / 2;
    for (size_t i = 0; i < count; ++i) {
      EXPECT_TRUE(grads[i].defined() == grads[count + i].defined()) << "parameter " << i;
      if (grads[i].defined()) EXPECT_TRUE(at::allclose(grads[count + i], grads[i], 1e-12, 1e-12)) << "parameter " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SegmentsAndStepwise, OwnPackedLstm, ::testing::Values(PackedLstm::Segments, PackedLstm::Stepwise),
                         [](const auto& info) { return info.param == PackedLstm::Segments ? "segments" : "stepwise"; });

TEST(OwnPackedLstmChecks, RefuseABidirectionalLstm) {
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(4, 6).bidirectional(true).batch_first(true));
  const auto packed = pack_decoder_sequences(at::randn({2, 3, 4}), at::tensor({3, 2}, at::kLong));
  EXPECT_REJECTS(models::run_segmented_lstm(lstm, packed, std::nullopt), "lstm", "unidirectional");
  EXPECT_REJECTS(models::run_stepwise_lstm(lstm, packed, std::nullopt), "lstm", "unidirectional");
}

// The stepwise run is CPU code: data anywhere else (here the meta device, standing in for CUDA on
// machines without a GPU) is refused before anything runs.
TEST(OwnPackedLstmChecks, StepwiseRefusesDataOffTheCpu) {
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(4, 6).batch_first(true));
  const PackedSequence packed(at::empty({5, 4}, at::device(at::kMeta)), at::tensor({2, 2, 1}, at::kLong));
  EXPECT_REJECTS(models::run_stepwise_lstm(lstm, packed, std::nullopt), "packed_lstm", "CPU", "meta", "\"segments\"");
}

TEST(OwnPackedLstmChecks, PackedLstmNamesAreChecked) {
  EXPECT_EQ(models::parse_packed_lstm("segments", "params.packed_lstm"), PackedLstm::Segments);
  EXPECT_EQ(models::parse_packed_lstm("stepwise", "params.packed_lstm"), PackedLstm::Stepwise);
  EXPECT_EQ(models::parse_packed_lstm("pytorch", "params.packed_lstm"), PackedLstm::PyTorch);
  EXPECT_REJECTS(models::parse_packed_lstm("fast", "params.packed_lstm"), "params.packed_lstm", "\"pytorch\"",
                 "\"segments\"", "\"stepwise\"", "fast");
}

}  // namespace
}  // namespace seqpack
