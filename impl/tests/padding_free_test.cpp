// The padding-free path (packing = padding_free, models/real_steps.h): its layout and attention
// plans, counted by hand; every LSTM-family model against the packed path at the real steps
// (output, masked loss, gradients) on batches that need several attention buckets; the query with
// no key; the training step's loss over the real steps; what it refuses.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model_test_helpers.h"
#include "seqpack/models/real_step_attention.h"
#include "seqpack/models/real_steps.h"
#include "seqpack/models/training_step.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/transformer_lstm.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

using models::Packing;
using models::PackedLstm;
using models::RealSteps;

std::vector<int64_t> values(const at::Tensor& t) {
  const auto c = t.to(at::kCPU).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

TEST(RealStepsLayout, IsThePackedOrderOfTheRealSteps) {
  // lengths 3, 0, 5, 3 at T = 6: samples longest first, ties in batch order: 2, 0, 3.
  const auto steps = RealSteps::of(at::tensor({3, 0, 5, 3}, at::kLong), 4, 6, at::kCPU, "lengths");
  EXPECT_EQ(steps.count, 11);
  EXPECT_EQ(values(steps.rows), (std::vector<int64_t>{2, 0, 3}));
  EXPECT_EQ(values(steps.batch_sizes), (std::vector<int64_t>{3, 3, 3, 1, 1}));
  // b * 6 + t, step by step: (2,0) (0,0) (3,0) (2,1) (0,1) (3,1) (2,2) (0,2) (3,2) (2,3) (2,4)
  EXPECT_EQ(values(steps.flat_index), (std::vector<int64_t>{12, 0, 18, 13, 1, 19, 14, 2, 20, 15, 16}));
  EXPECT_EQ(values(steps.position[1]), (std::vector<int64_t>(6, 11)));  // length 0: all padding
  EXPECT_EQ(values(steps.position[3]), (std::vector<int64_t>{2, 5, 8, 11, 11, 11}));
}

TEST(RealStepsLayout, ScatterOfGatherZeroesThePadding) {
  const auto lengths = at::tensor({3, 0, 5, 3}, at::kLong);
  const auto steps = RealSteps::of(lengths, 4, 6, at::kCPU, "lengths");
  const auto x = at::randn({4, 6, 2}, at::kDouble);
  const auto real = (at::arange(6).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1);
  EXPECT_TRUE(at::equal(steps.scatter(steps.gather(x)), x * real));
  EXPECT_EQ(steps.gather(x).size(0), 11);
}

TEST(RealStepsLayout, WithoutLengthsEveryStepIsReal) {
  const auto steps = RealSteps::of(std::nullopt, 3, 4, at::kCPU, "lengths");
  EXPECT_EQ(steps.count, 12);
  EXPECT_EQ(values(steps.batch_sizes), (std::vector<int64_t>{3, 3, 3, 3}));
}

TEST(RealStepsLayout, RefusesLengthsLongerThanTheSequence) {
  EXPECT_REJECTS(RealSteps::of(at::tensor({3, 7}, at::kLong), 2, 6, at::kCPU, "encoder_lengths"), "encoder_lengths");
}

TEST(AttentionGrouping, KeepsEqualSamplesTogetherAndSplitsFarApartOnes) {
  const std::vector<int64_t> equal(8, 10);
  EXPECT_EQ(models::group_samples(equal, {equal}), (std::vector<std::pair<int64_t, int64_t>>{{0, 8}}));
  // 2 samples of 64 and 30 of 4: one bucket costs 32 x 64 x 64 + overhead = 135168 cells, two cost
  // 2 x 64 x 64 + 30 x 4 x 4 + 2 x overhead = 16864.
  std::vector<int64_t> mixed{64, 64};
  mixed.resize(32, 4);
  EXPECT_EQ(models::group_samples(mixed, {mixed}), (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {2, 32}}));
}

// A batch whose attention needs several buckets: three long samples, 21 short ones (B = 24,
// Te = 64, Td = 16); samples 5 and 17 have no decoder step.
constexpr int64_t kBatch = 24, kTe = 64, kTd = 16;
models::ModelInputs bucketed_batch() {
  torch::manual_seed(3);
  std::vector<int64_t> encoder{64, 3, 60, 2, 4, 1, 3, 2, 4, 50, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2};
  std::vector<int64_t> decoder{16, 5, 16, 2, 9, 0, 16, 3, 1, 12, 4, 7, 16, 2, 3, 8, 1, 0, 11, 6, 2, 5, 16, 1};
  return testing::batch(encoder, decoder, kTe, kTd);
}

TEST(AttentionGrouping, TheModelBatchBelowNeedsSeveralBuckets) {
  const auto in = bucketed_batch();
  const auto encoder = RealSteps::of(in.encoder_lengths, kBatch, kTe, at::kCPU, "encoder_lengths");
  const auto decoder = RealSteps::of(in.decoder_lengths, kBatch, kTd, at::kCPU, "decoder_lengths");
  EXPECT_GE(models::self_attention_plan(encoder).buckets.size(), 2U);
  EXPECT_GE(models::cross_attention_plan(encoder, decoder, AttentionMaskOptions()).buckets.size(), 2U);
}

class PaddingFree : public ::testing::TestWithParam<PackedLstm> {};

// Output at the real steps, zeros at the padding, and the gradients of a masked loss: the packed
// path's (float64, to rounding), in every LSTM-family model, causal and not.
TEST_P(PaddingFree, EqualsThePackedPathAtTheRealSteps) {
  const auto in = bucketed_batch();
  const auto real = (at::arange(kTd).unsqueeze(0) < in.decoder_lengths->unsqueeze(1)).unsqueeze(-1);
  for (const bool causal : {true, false}) {
    torch::manual_seed(8);
    auto packed = testing::small_models(Packing::Always);
    torch::manual_seed(8);  // the same initial weights
    auto padding_free = testing::small_models(Packing::PaddingFree, 0.0, GetParam());
    for (size_t m = 0; m < packed.size(); ++m) {
      SCOPED_TRACE(packed[m].first + (causal ? " causal" : " non-causal"));
      if (!causal && packed[m].first == "EncoderDecoderLSTM") continue;  // no attention
      std::vector<at::Tensor> outputs, grads;
      for (auto* model : {packed[m].second.get(), padding_free[m].second.get()}) {
        if (auto* t = dynamic_cast<models::TransformerLSTMImpl*>(model)) t->options.causal_attention(causal);
        if (auto* a = dynamic_cast<models::AttentionLSTMImpl*>(model)) a->options.causal_attention(causal);
        const auto output = model->forward(in);
        (output * real).pow(2).sum().backward();
        outputs.push_back(output.detach());
        for (const auto& parameter : model->parameters()) grads.push_back(parameter.grad());
      }
      EXPECT_TRUE(at::allclose(outputs[1], outputs[0] * real, 1e-12, 1e-12));
      EXPECT_TRUE(at::equal(outputs[1] * real.logical_not(), at::zeros_like(outputs[1])));
      const size_t count = grads.size() / 2;
      for (size_t i = 0; i < count; ++i) {
        if (grads[i].defined()) EXPECT_TRUE(at::allclose(grads[count + i], grads[i], 1e-12, 1e-12)) << "parameter " << i;
      }
    }
  }
}

// The training step computes the loss over the real steps: with TransformerLSTM's masked MSELoss
// it is the packed path's loss; AttentionLSTM's torch MSELoss, which the original does not mask,
// becomes the mean over the real steps (the packed path also averages the padding).
TEST_P(PaddingFree, TrainingStepLossIsOverTheRealSteps) {
  const auto in = bucketed_batch();
  const auto target = at::randn({kBatch, kTd, 1}, at::kDouble);
  const auto masked = Criterion().kind(CriterionKind::MSE);
  for (const auto* name : {"TransformerLSTM", "AttentionLSTM", "EncoderDecoderLSTM"}) {
    SCOPED_TRACE(name);
    torch::manual_seed(8);
    auto packed = testing::small_model(name, Packing::Always);
    torch::manual_seed(8);
    auto padding_free = testing::small_model(name, Packing::PaddingFree);
    const auto expected = calc_loss(packed->forward(in), target, in.decoder_lengths, masked, true).detach();
    models::TrainingStep step(padding_free);
    const auto loss = step(in, target);
    EXPECT_TRUE(at::allclose(loss, expected, 1e-12, 1e-12)) << loss.item<double>() << " vs " << expected.item<double>();
  }
}

INSTANTIATE_TEST_SUITE_P(PackedRuns, PaddingFree, ::testing::Values(PackedLstm::PyTorch, PackedLstm::Stepwise),
                         [](const auto& info) { return info.param == PackedLstm::PyTorch ? "pytorch" : "stepwise"; });

// A query whose every key is hidden (causal attention, decoder step 0 of a sample without encoder
// steps) attends nothing: its heads are zero, so the attention gives the output layer's bias. The
// padded layout instead averages every key there, padding included (docs/padding-free.md).
TEST(PaddingFreeAttention, AQueryWithNoKeyAttendsNothing) {
  torch::manual_seed(1);
  nn::InterpretableMultiHeadAttention attention(4, 2, 0.0);
  torch::NoGradGuard no_grad;
  attention->output_layer->bias.uniform_();
  const auto encoder = RealSteps::of(at::tensor({0, 3}, at::kLong), 2, 3, at::kCPU, "encoder_lengths");
  const auto decoder = RealSteps::of(at::tensor({2, 2}, at::kLong), 2, 2, at::kCPU, "decoder_lengths");
  const auto plan = models::cross_attention_plan(encoder, decoder, AttentionMaskOptions());
  const auto queries = at::randn({decoder.count, 4});
  const auto keys = at::randn({encoder.count + decoder.count, 4});
  const auto out = attention->forward_planned(queries, keys, plan);
  const auto first = decoder.position[0][0].item<int64_t>();  // sample 0, step 0: no key
  EXPECT_TRUE(at::allclose(out[first], attention->output_layer->bias));
  EXPECT_FALSE(at::allclose(out[decoder.position[1][0].item<int64_t>()], attention->output_layer->bias));
}

TEST(PaddingFreeAttention, RunsInTrainingWithDropout) {
  torch::manual_seed(2);
  const auto in = bucketed_batch();
  for (auto& [name, model] : testing::small_models(Packing::PaddingFree, 0.3)) {
    SCOPED_TRACE(name);
    model->train();
    const auto output = model->forward(in);
    output.sum().backward();
    EXPECT_TRUE(output.isfinite().all().item<bool>());
    EXPECT_EQ(output.sizes(), (std::vector<int64_t>{kBatch, kTd, output.size(2)}));
  }
}

TEST(PaddingFreeRejections, AttentionNeedsBothLengthsOrNeither) {
  auto in = bucketed_batch();
  for (const auto* name : {"TransformerLSTM", "AttentionLSTM"}) {
    SCOPED_TRACE(name);
    auto model = testing::small_model(name, Packing::PaddingFree);
    auto encoder_only = in;
    encoder_only.decoder_lengths.reset();
    EXPECT_REJECTS(model->forward(encoder_only), "decoder_lengths", "padding_free", "encoder_lengths is given");
    auto decoder_only = in;
    decoder_only.encoder_lengths.reset();
    EXPECT_REJECTS(model->forward(decoder_only), "encoder_lengths", "padding_free", "decoder_lengths is given");
    auto neither = in;
    neither.encoder_lengths.reset();
    neither.decoder_lengths.reset();
    // Without lengths every step is real and nothing is masked: the padded path's result.
    torch::manual_seed(8);
    auto padded = testing::small_model(name, Packing::Never);
    torch::manual_seed(8);
    auto padding_free = testing::small_model(name, Packing::PaddingFree);
    EXPECT_TRUE(at::allclose(padding_free->forward(neither), padded->forward(neither), 1e-12, 1e-12));
  }
  // EncoderDecoderLSTM has no attention: one length alone is fine.
  auto model = testing::small_model("EncoderDecoderLSTM", Packing::PaddingFree);
  auto encoder_only = in;
  encoder_only.decoder_lengths.reset();
  EXPECT_EQ(model->forward(encoder_only).size(0), kBatch);
}

TEST(PaddingFreeRejections, ALoneLstmRunHasNoPaddingFreePath) {
  // A model without forward_real_steps would reach run_lstm with padding_free: refused, not run padded.
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(3, 4).batch_first(true));
  EXPECT_REJECTS(models::run_lstm(lstm, at::randn({2, 5, 3}), at::tensor({5, 2}, at::kLong), Packing::PaddingFree,
                                  PackedLstm::PyTorch, models::LstmRole::Encoder),
                 "packing", "padding_free", "forward_real_steps");
}

TEST(PaddingFreeRejections, PackingNamesTheNewPath) {
  EXPECT_EQ(models::parse_packing("padding_free", "params.packing"), Packing::PaddingFree);
  EXPECT_EQ(models::to_string(Packing::PaddingFree), "padding_free");
  EXPECT_REJECTS(models::parse_packing("padding-free", "params.packing"), "params.packing", "\"padding_free\"");
}

}  // namespace
}  // namespace seqpack
