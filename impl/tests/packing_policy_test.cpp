// The calibrated packing policy: it picks what the cost model's coefficients say, a model's forward
// with `calibrated` equals the forward on the path the policy picked, and bad names and malformed
// cost models are rejected with the argument named. (The built-in coefficients' agreement with the
// reference's predictions is checked by the packing_policy goldens.)
#include <ATen/ATen.h>

#include "model_test_helpers.h"
#include "seqpack/models/packing_policy.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

using models::Packing;
using models::PackingCostModel;

// "m": the padded step costs e^0 everywhere; the packed one e^(0.5 + ln fill) = fill * e^0.5, so
// packing wins iff fill < e^-0.5 ~ 0.61. "only_equal": packing wins only when every length is equal.
// "three": m's two paths and a padding-free one costing e^(0.2 + 2 ln fill) = fill^2 * e^0.2: it
// beats packed iff fill < e^0.3 (always), and padded iff fill < e^-0.1 ~ 0.905.
const char* kCostModel = R"({"device": "cpu", "fill_floor": 0.01,
  "features": ["1", "ln_B", "ln_fill", "ln_B*ln_fill", "equal", "ln_B*equal"],
  "models": {"m": {"padded": [0, 0, 0, 0, 0, 0], "packed": [0.5, 0, 1, 0, 0, 0]},
             "only_equal": {"padded": [0, 0, 0, 0, 0, 0], "packed": [0.1, 0, 0, 0, -1, 0]},
             "three": {"padded": [0, 0, 0, 0, 0, 0], "packed": [0.5, 0, 1, 0, 0, 0],
                       "padding_free": [0.2, 0, 2, 0, 0, 0]}}})";

at::Tensor lengths(std::vector<int64_t> values) { return at::tensor(values, at::kLong); }

TEST(PackingPolicy, PicksWhatTheCoefficientsSay) {
  const auto cost = PackingCostModel::from_json(kCostModel);
  EXPECT_EQ(cost.fastest_path("m", 10, lengths({5, 5, 5, 5})), Packing::Always);  // fill 0.5
  EXPECT_EQ(cost.fastest_path("m", 10, lengths({7, 8, 7, 8})), Packing::Never);   // fill 0.75
  EXPECT_EQ(cost.fastest_path("only_equal", 10, lengths({6, 6, 6})), Packing::Always);
  EXPECT_EQ(cost.fastest_path("only_equal", 10, lengths({6, 5, 6})), Packing::Never);
  const auto x = cost.features(10, lengths({5, 5, 5, 5}));
  EXPECT_DOUBLE_EQ(cost.predicted_log_seconds("m", Packing::Always, x), 0.5 + std::log(0.5));
  EXPECT_DOUBLE_EQ(cost.predicted_log_seconds("m", Packing::Never, x), 0.0);
  // All rows of length 0: the fill is floored, so the prediction stays finite.
  EXPECT_NEAR(cost.predicted_log_seconds("m", Packing::Always, cost.features(10, lengths({0, 0}))),
              0.5 + std::log(0.01), 1e-12);
}

TEST(PackingPolicy, PicksTheFastestOfThreePathsWhereFitted) {
  const auto cost = PackingCostModel::from_json(kCostModel);
  EXPECT_FALSE(cost.has_path("m", Packing::PaddingFree));
  EXPECT_TRUE(cost.has_path("three", Packing::PaddingFree));
  EXPECT_EQ(cost.fastest_path("three", 10, lengths({5, 5, 5, 5})), Packing::PaddingFree);  // fill 0.5
  EXPECT_EQ(cost.fastest_path("three", 10, lengths({9, 8, 9, 9})), Packing::PaddingFree);  // fill 0.875
  EXPECT_EQ(cost.fastest_path("three", 10, lengths({10, 9, 9, 10})), Packing::Never);      // fill 0.95
  const auto past = at::zeros({4, 10, 3});
  EXPECT_EQ(models::resolve_packing(Packing::Calibrated, "three", past, lengths({5, 5, 5, 5}), cost),
            Packing::PaddingFree);
  EXPECT_REJECTS(cost.predicted_log_seconds("m", Packing::PaddingFree, cost.features(10, lengths({5}))), "model", "m",
                 "padding_free");
}

TEST(PackingPolicy, ResolvesCalibratedForTheWholeStep) {
  const auto cost = PackingCostModel::from_json(kCostModel);
  const auto past = at::zeros({4, 10, 3});
  EXPECT_EQ(models::resolve_packing(Packing::Calibrated, "m", past, lengths({5, 5, 5, 5}), cost), Packing::Always);
  EXPECT_EQ(models::resolve_packing(Packing::Calibrated, "m", past, lengths({7, 8, 7, 8}), cost), Packing::Never);
  EXPECT_EQ(models::resolve_packing(Packing::Calibrated, "m", past, std::nullopt, cost), Packing::Never);
  for (auto other : {Packing::Auto, Packing::Always, Packing::Never}) {
    EXPECT_EQ(models::resolve_packing(other, "m", past, lengths({5, 5, 5, 5}), cost), other);
  }
  EXPECT_REJECTS(models::resolve_packing(Packing::Calibrated, "m", past, lengths({5, 11, 5, 5}), cost),
                 "encoder_lengths", "row 1");
}

TEST(PackingPolicy, CalibratedForwardEqualsThePickedPath) {
  const std::vector<int64_t> encoder{7, 3, 5, 1}, decoder{5, 2, 4, 1};
  const models::ModelInputs in{testing::left_aligned(encoder, 7, testing::kPast),
                               testing::left_aligned(decoder, 5, testing::kFuture), at::tensor(encoder),
                               at::tensor(decoder)};
  // The models perf/packing_cost_model.json was fitted on; a model added since has no coefficients.
  const std::map<std::string, std::string> keys{{"AttentionLSTM", "attention_lstm"},
                                                {"EncoderDecoderLSTM", "encoder_decoder_lstm"},
                                                {"TransformerLSTM", "transformer_lstm"}};
  for (auto& [name, model] : testing::small_models(Packing::Calibrated)) {
    if (!keys.contains(name)) continue;
    const auto calibrated = model->forward(in);
    const auto picked = models::resolve_packing(Packing::Calibrated, keys.at(name), in.past_sequence, in.encoder_lengths);
    ASSERT_TRUE(picked == Packing::Always || picked == Packing::Never || picked == Packing::PaddingFree) << name;
    for (auto& [other_name, other] : testing::small_models(picked)) {
      if (other_name != name) continue;
      torch::NoGradGuard no_grad;
      auto source = model->named_parameters();
      for (auto& p : other->named_parameters()) p.value().copy_(source[p.key()]);
      EXPECT_TRUE(at::equal(other->forward(in), calibrated)) << name;
    }
  }
}

// The built-in costs (perf/packing_cost_model.json, fitted at T = 64 and B = 8..128 on CPU) in
// situations whose answer is clear-cut: the expected path is stated, not recomputed.
at::Tensor one_long_row_and_short_ones(int64_t batch) {
  auto values = std::vector<int64_t>(batch, 1);
  values[0] = 64;
  return lengths(values);
}

at::Tensor full_rows_but_one_step(int64_t batch) {
  auto values = std::vector<int64_t>(batch, 64);
  values[batch - 1] = 63;
  return lengths(values);
}

TEST(PackingPolicy, BuiltinPadsNearlyFullBatchesAndGoesPaddingFreeOnMostlyEmptyOnes) {
  for (const char* model : {"attention_lstm", "encoder_decoder_lstm", "transformer_lstm"}) {
    // Fill > 0.99: PyTorch's packed path only adds its bookkeeping (the fit predicts it e^0.41 or
    // more slower than padded). Padded and padding-free are then within a few percent for
    // AttentionLSTM and TransformerLSTM (either may win); EncoderDecoderLSTM's padding-free step is
    // predicted e^0.11 or more slower.
    for (int64_t batch : {8, 16, 64, 128}) {
      const auto past = at::zeros({batch, 64, 3});
      const auto picked = models::resolve_packing(Packing::Calibrated, model, past, full_rows_but_one_step(batch));
      EXPECT_NE(picked, Packing::Always) << model << " B = " << batch;
      if (std::string(model) == "encoder_decoder_lstm") EXPECT_EQ(picked, Packing::Never) << "B = " << batch;
    }
    // One row of 64 steps and the rest of 1, at large batch: fill ~ 0.02, the padded path runs
    // ~64 times the real steps (the fit predicts padding-free e^2.2 or more faster than padded and
    // e^1.4 or more faster than packed).
    for (int64_t batch : {64, 128}) {
      const auto past = at::zeros({batch, 64, 3});
      EXPECT_EQ(models::resolve_packing(Packing::Calibrated, model, past, one_long_row_and_short_ones(batch)),
                Packing::PaddingFree)
          << model << " B = " << batch;
    }
  }
}

TEST(PackingPolicy, RejectsBadNamesAndMalformedCostModels) {
  EXPECT_REJECTS(models::parse_packing("fastest", "params.packing"), "params.packing", "\"auto\"", "\"always\"",
                 "\"never\"", "\"calibrated\"", "fastest");
  EXPECT_EQ(models::parse_packing("calibrated", "packing"), Packing::Calibrated);
  EXPECT_REJECTS(PackingCostModel::from_json("not json"), "cost_model", "JSON object");
  EXPECT_REJECTS(PackingCostModel::from_json(R"({"device": "cpu", "fill_floor": 0.01, "features": ["1"], "models": {}})"),
                 "cost_model", "features");
  EXPECT_REJECTS(PackingCostModel::from_json(
                     R"({"device": "cpu", "fill_floor": 0.01, "features": ["1", "ln_B", "ln_fill", "ln_B*ln_fill", "equal", "ln_B*equal"],
                         "models": {"m": {"padded": [0, 0, 0, 0, 0, 0], "packed": [1, 2]}}})"),
                 "cost_model", "m", "2 \"packed\" coefficients", "expected 6");
  EXPECT_REJECTS(PackingCostModel::from_json(
                     R"({"fill_floor": 0.01, "features": ["1", "ln_B", "ln_fill", "ln_B*ln_fill", "equal", "ln_B*equal"], "models": {}})"),
                 "cost_model", "device");
  const auto cost = PackingCostModel::from_json(kCostModel);
  EXPECT_REJECTS(cost.predicted_log_seconds("tft", Packing::Always, cost.features(10, lengths({5}))), "model", "tft");
}

TEST(PackingPolicy, BuiltinCoversEveryLstmFamilyModel) {
  const auto& cost = PackingCostModel::builtin();
  EXPECT_EQ(cost.device(), "cpu");
  for (const char* model : {"attention_lstm", "encoder_decoder_lstm", "transformer_lstm"}) {
    EXPECT_NO_THROW(cost.fastest_path(model, 64, lengths({64, 32, 16, 8, 4, 2, 1, 64})));
  }
}

}  // namespace
}  // namespace seqpack
