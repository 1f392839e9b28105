// The TFT family's properties (padding is not data; a left-aligned batch realigned is the same
// batch; weights round-trip; a training step learns) and its bad-input policy.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "seqpack/models/state_dict.h"
#include "seqpack/models/temporal_fusion_transformer.h"
#include "seqpack/models/training_step.h"
#include "seqpack/models/xtft.h"
#include "seqpack/sequence.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

using namespace models;

constexpr int64_t kPast = 3, kFuture = 2, kTe = 7, kTd = 5;
const std::vector<int64_t> kEncoderLengths{7, 3, 5, 1}, kDecoderLengths{5, 2, 4, 1};

TemporalFusionOptions small_options(Alignment alignment = Alignment::Right) {
  return TemporalFusionOptions(kPast, kFuture)
      .d_model(8)
      .d_hidden_continuous(4)
      .num_heads(2)
      .num_lstm_layers(2)
      .dropout(0.0)
      .encoder_alignment(alignment)
      .ctxt_seq_len(kTe)
      .tgt_seq_len(kTd);
}

std::shared_ptr<TemporalFusionCore> make(const std::string& name, const TemporalFusionOptions& options) {
  std::shared_ptr<TemporalFusionCore> model;
  if (name == "TFT") model = std::make_shared<TemporalFusionTransformerImpl>(options);
  if (name == "PFTFT") model = std::make_shared<PFTemporalFusionTransformerImpl>(options);
  if (name == "xTFT") model = std::make_shared<xTFTImpl>(options);
  model->to(at::kDouble);
  model->eval();
  return model;
}

// Right-aligned rows: lengths[i] random steps ending at step T, zeros before.
at::Tensor right_aligned(const std::vector<int64_t>& lengths, int64_t steps, int64_t features) {
  auto x = at::randn({static_cast<int64_t>(lengths.size()), steps, features}, at::kDouble);
  for (size_t row = 0; row < lengths.size(); ++row) x[row].slice(0, 0, steps - lengths[row]).zero_();
  return x;
}

ModelInputs right_aligned_batch(const TemporalFusionCore& model) {
  ModelInputs in{right_aligned(kEncoderLengths, kTe, kPast), at::randn({4, kTd, kFuture}, at::kDouble),
                 at::tensor(kEncoderLengths, at::kLong), at::tensor(kDecoderLengths, at::kLong)};
  in.static_covariates = model.static_covariates_from_lengths(*in.encoder_lengths, at::kDouble);
  return in;
}

class TftFamily : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { at::manual_seed(7); }
};

TEST_P(TftFamily, ValuesAtPaddedEncoderStepsChangeNoOutput) {
  auto model = make(GetParam(), small_options());
  const auto in = right_aligned_batch(*model);
  const auto before = model->forward(in);
  auto noisy = in;
  noisy.past_sequence = in.past_sequence.clone();
  for (size_t row = 0; row < kEncoderLengths.size(); ++row) {
    noisy.past_sequence[row].slice(0, 0, kTe - kEncoderLengths[row]).normal_(0, 10);
  }
  ASSERT_FALSE(at::equal(noisy.past_sequence, in.past_sequence));
  EXPECT_TRUE(at::equal(model->forward(noisy), before));
  // The same change at a valid step does move the output: the check above can fail.
  noisy.past_sequence[1][kTe - 1].add_(1.0);
  EXPECT_FALSE(at::allclose(model->forward(noisy), before));
}

TEST_P(TftFamily, LeftAlignedBatchRealignedGivesTheRightAlignedOutput) {
  auto right_model = make(GetParam(), small_options(Alignment::Right));
  auto left_model = make(GetParam(), small_options(Alignment::Left));
  load_state_dict(*left_model, state_dict(*right_model));
  const auto right = right_aligned_batch(*right_model);
  auto left = right;
  left.past_sequence = align_encoder_sequences(right.past_sequence, *right.encoder_lengths,
                                               AlignOptions(Source::Right).alignment(Alignment::Left));
  ASSERT_FALSE(at::equal(left.past_sequence, right.past_sequence));
  EXPECT_TRUE(at::equal(left_model->forward(left), right_model->forward(right)));
}

TEST_P(TftFamily, ExportedWeightsLoadStrictlyAndReproduceTheOutput) {
  auto model = make(GetParam(), small_options());
  auto copy = make(GetParam(), small_options());
  const auto in = right_aligned_batch(*model);
  ASSERT_FALSE(at::equal(copy->forward(in), model->forward(in)));
  load_state_dict(*copy, state_dict(*model));
  EXPECT_TRUE(at::equal(copy->forward(in), model->forward(in)));
  auto missing = state_dict(*model);
  missing.erase("attn.value_layer.weight");
  EXPECT_REJECTS(load_state_dict(*copy, missing), "attn.value_layer.weight");
}

TEST_P(TftFamily, RunsInFloat32WithoutStaticCovariates) {
  // The original builds its zero static embedding in float32 whatever the model's dtype.
  auto model = make(GetParam(), small_options());
  auto in = right_aligned_batch(*model);
  in.static_covariates.reset();
  const auto double_output = model->forward(in);
  model->to(at::kFloat);
  in.past_sequence = in.past_sequence.to(at::kFloat);
  in.future_sequence = in.future_sequence.to(at::kFloat);
  const auto float_output = model->forward(in);
  EXPECT_EQ(float_output.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(float_output.to(at::kDouble), double_output, 1e-4, 1e-5));
}

TEST_P(TftFamily, TrainingStepWithTheOriginalDefaultsLowersTheLoss) {
  auto model = make(GetParam(), small_options());
  EXPECT_EQ(model->default_criterion().kind(), CriterionKind::Quantile);
  EXPECT_FALSE(model->default_use_loss_masking());
  auto step = TrainingStep(model, TrainingStepOptions().learning_rate(1e-2));
  const auto in = right_aligned_batch(*model);
  const auto target = at::randn({4, kTd, 1}, at::kDouble);
  const auto first = step(in, target).item<double>();
  double last = first;
  for (int i = 0; i < 20; ++i) last = step(in, target).item<double>();
  EXPECT_TRUE(std::isfinite(first));
  EXPECT_LT(last, first);
}

INSTANTIATE_TEST_SUITE_P(Models, TftFamily, ::testing::Values("TFT", "PFTFT", "xTFT"));

TEST(TftStaticCovariates, AreTheLightningModulesRules) {
  const auto lengths = at::tensor({7, 3, 0}, at::kLong);
  const auto tft = make("TFT", small_options())->static_covariates_from_lengths(lengths, at::kDouble);
  EXPECT_TRUE(at::equal(*tft, at::tensor({1.0, 3.0 * 2 / 7 - 1, -1.0}, at::kDouble).reshape({3, 1})));
  const auto pftft = make("PFTFT", small_options())->static_covariates_from_lengths(lengths, at::kDouble);
  EXPECT_TRUE(at::equal(*pftft, at::tensor({1.0, 3.0 / 7, 0.0}, at::kDouble).reshape({3, 1})));
  const auto all_zero = make("PFTFT", small_options())->static_covariates_from_lengths(at::zeros({2}), at::kDouble);
  EXPECT_TRUE(at::equal(*all_zero, at::zeros({2, 1}, at::kDouble)));  // max(max L, 1): no 0/0
  EXPECT_FALSE(make("xTFT", small_options())->static_covariates_from_lengths(lengths, at::kDouble));
}

TEST(TftRejections, Options) {
  EXPECT_REJECTS(TemporalFusionTransformerImpl(small_options().num_heads(3)), "num_heads", "d_model = 8");
  EXPECT_REJECTS(TemporalFusionTransformerImpl(small_options().ctxt_seq_len(std::nullopt)), "ctxt_seq_len", "required");
  EXPECT_REJECTS(TemporalFusionTransformerImpl(small_options().tgt_seq_len(0)), "tgt_seq_len");
  EXPECT_REJECTS(PFTemporalFusionTransformerImpl(small_options().num_static_features(-1)), "num_static_features");
  EXPECT_REJECTS(xTFTImpl(small_options().d_hidden_continuous(0)), "d_hidden_continuous", "at least 1");
  EXPECT_REJECTS(xTFTImpl(small_options().dropout(1.0)), "dropout", "[0, 1)");
}

TEST(TftRejections, Inputs) {
  at::manual_seed(0);
  auto model = make("TFT", small_options());
  const auto good = right_aligned_batch(*model);
  const auto parameters_before = state_dict(*model);
  auto bad = good;
  bad.past_sequence = good.past_sequence.narrow(2, 0, 2);
  EXPECT_REJECTS(model->forward(bad), "past_covariates", "3 features");
  bad = good;
  bad.future_sequence = good.future_sequence.narrow(0, 0, 3);
  EXPECT_REJECTS(model->forward(bad), "future_covariates", "batch size 4");
  bad = good;
  bad.decoder_lengths = at::tensor({6, 2, 4, 1});
  EXPECT_REJECTS(model->forward(bad), "decoder_lengths", "row 0");
  bad = good;
  bad.encoder_lengths = at::tensor({7.0, 2.5, 5.0, 1.0});
  EXPECT_REJECTS(model->forward(bad), "encoder_lengths", "row 1");
  bad = good;
  bad.static_covariates = good.static_covariates->reshape({-1});
  EXPECT_REJECTS(model->forward(bad), "static_covariates", "(B, num_static_features) = (4, 1)");
  bad.static_covariates = good.static_covariates->to(at::kFloat);
  EXPECT_REJECTS(model->forward(bad), "static_covariates", "Double");
  auto without_static = make("PFTFT", small_options().num_static_features(0));
  EXPECT_REJECTS(without_static->forward(good), "static_covariates", "num_static_features = 0");
  EXPECT_REJECTS(make("xTFT", small_options())->forward(good), "static_covariates", "xTFT");
  // A refused call changes nothing.
  for (const auto& [name, value] : state_dict(*model)) EXPECT_TRUE(at::equal(value, parameters_before.at(name))) << name;
}

}  // namespace
}  // namespace seqpack
