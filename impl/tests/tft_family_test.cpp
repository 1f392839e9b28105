// The TFT family's properties (padding is not data; a left-aligned batch realigned is the same
// batch; weights round-trip; a training step learns) and its bad-input policy.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "seqpack/models/state_dict.h"
#include "seqpack/models/temporal_fusion_transformer.h"
#include "seqpack/models/training_step.h"
#include "seqpack/models/xtft.h"
#include "model_test_helpers.h"
#include "seqpack/sequence.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

using namespace models;

constexpr int64_t kPast = 3, kFuture = 2, kTe = 7, kTd = 5;
const std::vector<int64_t> kEncoderLengths{7, 3, 5, 1}, kDecoderLengths{5, 2, 4, 1};

// For the constructor's own checks.
TemporalFusionOptions small_options() {
  return TemporalFusionOptions(kPast, kFuture)
      .d_model(8)
      .d_hidden_continuous(4)
      .num_heads(2)
      .num_lstm_layers(2)
      .dropout(0.0)
      .num_static_features(1)
      .ctxt_seq_len(kTe)
      .tgt_seq_len(kTd);
}

// A model of the family from its registry entry's small configuration (d_model 8, 2 heads, 2 LSTM
// layers, dropout 0, one static feature for TFT and PFTFT), float64, in eval mode.
std::shared_ptr<TemporalFusionCore> make(const std::string& name, nlohmann::json overrides = nlohmann::json::object()) {
  const auto* entry = find_model(name);
  if (!entry) throw std::logic_error("no model " + name);
  overrides.update({{"num_past_features", kPast}, {"num_future_features", kFuture}});
  if (entry->small_config.contains("ctxt_seq_len")) overrides.update({{"ctxt_seq_len", kTe}, {"tgt_seq_len", kTd}});
  auto model = std::dynamic_pointer_cast<TemporalFusionCore>(testing::build_small(*entry, overrides));
  model->to(at::kDouble);
  model->eval();
  return model;
}

nlohmann::json aligned(Alignment alignment) { return {{"encoder_alignment", std::string(to_string(alignment))}}; }

std::vector<std::string> temporal_fusion_models() {
  std::vector<std::string> names;
  for (const auto* entry : models_of(ModelFamily::TemporalFusion)) names.push_back(entry->name);
  return names;
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
  auto model = make(GetParam());
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
  auto right_model = make(GetParam(), aligned(Alignment::Right));
  auto left_model = make(GetParam(), aligned(Alignment::Left));
  load_state_dict(*left_model, state_dict(*right_model));
  const auto right = right_aligned_batch(*right_model);
  auto left = right;
  left.past_sequence = align_encoder_sequences(right.past_sequence, *right.encoder_lengths,
                                               AlignOptions(Source::Right).alignment(Alignment::Left));
  ASSERT_FALSE(at::equal(left.past_sequence, right.past_sequence));
  EXPECT_TRUE(at::equal(left_model->forward(left), right_model->forward(right)));
}

TEST_P(TftFamily, ExportedWeightsLoadStrictlyAndReproduceTheOutput) {
  auto model = make(GetParam());
  auto copy = make(GetParam());
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
  auto model = make(GetParam());
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
  auto model = make(GetParam());
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

INSTANTIATE_TEST_SUITE_P(Models, TftFamily, ::testing::ValuesIn(temporal_fusion_models()));

TEST(TftStaticCovariates, AreTheLightningModulesRules) {
  const auto lengths = at::tensor({7, 3, 0}, at::kLong);
  const auto tft = make("tft")->static_covariates_from_lengths(lengths, at::kDouble);
  EXPECT_TRUE(at::equal(*tft, at::tensor({1.0, 3.0 * 2 / 7 - 1, -1.0}, at::kDouble).reshape({3, 1})));
  const auto pftft = make("pftft")->static_covariates_from_lengths(lengths, at::kDouble);
  EXPECT_TRUE(at::equal(*pftft, at::tensor({1.0, 3.0 / 7, 0.0}, at::kDouble).reshape({3, 1})));
  const auto all_zero = make("pftft")->static_covariates_from_lengths(at::zeros({2}), at::kDouble);
  EXPECT_TRUE(at::equal(*all_zero, at::zeros({2, 1}, at::kDouble)));  // max(max L, 1): no 0/0
  EXPECT_FALSE(make("xtft")->static_covariates_from_lengths(lengths, at::kDouble));
}

TEST(TftRejections, Options) {
  EXPECT_REJECTS(TemporalFusionTransformerImpl(small_options().num_heads(3)), "num_heads", "d_model = 8");
  EXPECT_REJECTS(TemporalFusionTransformerImpl(small_options().ctxt_seq_len(std::nullopt)), "ctxt_seq_len", "required");
  EXPECT_REJECTS(TemporalFusionTransformerImpl(small_options().tgt_seq_len(0)), "tgt_seq_len");
  EXPECT_REJECTS(PFTemporalFusionTransformerImpl(small_options().num_static_features(-1)), "num_static_features");
  EXPECT_REJECTS(xTFTImpl(small_options().d_hidden_continuous(0)), "d_hidden_continuous", "at least 1");
  EXPECT_REJECTS(xTFTImpl(small_options().dropout(1.0)), "dropout", "[0, 1)");
}

// The original's model classes default num_static_features to 0 (their Lightning modules pass 1):
// built without it, TFT and PFTFT run without static covariates and refuse them in one line.
TEST(TftRejections, StaticCovariatesUnderTheDefaultOfNoStaticFeatures) {
  EXPECT_EQ(TemporalFusionOptions(kPast, kFuture).num_static_features(), 0);
  for (const char* name : {"tft", "pftft"}) {
    auto config = find_model(name)->small_config;
    config.erase("num_static_features");
    ops::Params params(config);
    auto model = find_model(name)->build(params);
    model->to(at::kDouble);
    model->eval();
    ModelInputs in{right_aligned(kEncoderLengths, kTe, kPast), at::randn({4, kTd, kFuture}, at::kDouble),
                   at::tensor(kEncoderLengths, at::kLong), at::tensor(kDecoderLengths, at::kLong)};
    EXPECT_EQ(model->forward(in).sizes(), at::IntArrayRef({4, kTd, 7})) << name;
    in.static_covariates = at::zeros({4, 1}, at::kDouble);
    EXPECT_REJECTS(model->forward(in), "static_covariates", "num_static_features = 0");
  }
}

TEST(TftRejections, Inputs) {
  at::manual_seed(0);
  auto model = make("tft");
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
  auto without_static = make("pftft", {{"num_static_features", 0}});
  EXPECT_REJECTS(without_static->forward(good), "static_covariates", "num_static_features = 0");
  EXPECT_REJECTS(make("xtft")->forward(good), "static_covariates", "xTFT");
  // A refused call changes nothing.
  for (const auto& [name, value] : state_dict(*model)) EXPECT_TRUE(at::equal(value, parameters_before.at(name))) << name;
}

}  // namespace
}  // namespace seqpack
