// Every rejection of the bad-input policy for the masks, the losses and calc_loss, called through
// the library (the golden error cases cover the same rules through `seqpack eval`).
#include <ATen/ATen.h>

#include "seqpack/calc_loss.h"
#include "seqpack/masks.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);
at::Tensor lengths(std::vector<int64_t> values) { return at::tensor(values, at::kLong); }
at::Tensor pred(std::vector<int64_t> shape = {2, 3, 1}) { return at::ones(shape, kF64); }

TEST(MaskRejections, NegativeSize) { EXPECT_REJECTS(create_mask(-1, lengths({0})), "size", "negative"); }
TEST(MaskRejections, LengthAboveSize) {
  EXPECT_REJECTS(create_mask(3, lengths({1, 4})), "lengths", "T = 3", "row 1");
}
TEST(MaskRejections, FractionalLength) {
  EXPECT_REJECTS(create_mask(3, at::tensor({1.5}, kF64)), "lengths", "whole numbers", "row 0");
}
TEST(MaskRejections, AttentionBatchMismatch) {
  EXPECT_REJECTS(get_attention_mask(lengths({1, 2}), lengths({1}), 3, 3), "decoder_lengths", "batch size is 2");
}
TEST(MaskRejections, AttentionEncoderTooLong) {
  EXPECT_REJECTS(get_attention_mask(lengths({4}), lengths({1}), 3, 3), "encoder_lengths", "row 0");
}
TEST(MaskRejections, AttentionDecoderTooLong) {
  EXPECT_REJECTS(get_attention_mask(lengths({1}), lengths({5}), 3, 3), "decoder_lengths", "row 0");
}
TEST(MaskRejections, AttentionNegativeLength) {
  EXPECT_REJECTS(get_attention_mask(lengths({1}), lengths({1}), -2, 3), "max_encoder_length", "negative");
}

TEST(LossRejections, UnknownReduction) { EXPECT_REJECTS(parse_reduction("avg", "reduction"), "reduction", "avg"); }
TEST(LossRejections, UnknownAllMasked) { EXPECT_REJECTS(parse_all_masked("one", "all_masked"), "all_masked"); }
TEST(LossRejections, UnknownCriterion) {
  EXPECT_REJECTS(parse_criterion("LogCosh", "criterion"), "criterion", "LogCosh");
}
TEST(LossRejections, IntegerPrediction) {
  EXPECT_REJECTS(mae_loss(at::ones({2, 3}, at::kLong), pred({2, 3})), "y_pred", "floating");
}
TEST(LossRejections, BoolTarget) {
  EXPECT_REJECTS(mae_loss(pred(), at::ones({2, 3, 1}, at::kBool)), "target", "numeric");
}
TEST(LossRejections, TargetShape) { EXPECT_REJECTS(seqpack::huber_loss(pred(), pred({2, 3})), "target", "shape"); }
TEST(LossRejections, MseTargetElementCount) { EXPECT_REJECTS(seqpack::mse_loss(pred(), pred({2, 4})), "target", "elements"); }
TEST(LossRejections, MaskDoesNotBroadcast) {
  EXPECT_REJECTS(mape_loss(pred(), pred(), {.mask = at::ones({2, 4, 1}, at::kBool), .weights = {}}), "mask",
                 "broadcast");
}
TEST(LossRejections, MaskWouldGrowTheLoss) {
  EXPECT_REJECTS(smape_loss(pred(), pred(), {.mask = at::ones({2, 3, 3}), .weights = {}}), "mask", "broadcast");
}
TEST(LossRejections, WeightsDoNotBroadcast) {
  EXPECT_REJECTS(seqpack::mse_loss(pred(), pred(), {.mask = {}, .weights = at::ones({3, 3})}), "weights", "broadcast");
}
TEST(LossRejections, HuberDelta) {
  EXPECT_REJECTS(seqpack::huber_loss(pred(), pred(), {}, PointwiseLossOptions().delta(-1)), "delta", "positive");
}
TEST(LossRejections, RegularizationOrder) {
  const auto options = MSELossOptions().regularization(0.1).regularization_order(0);
  EXPECT_REJECTS(seqpack::mse_loss(pred(), pred(), {.mask = at::ones({2, 3, 1}), .weights = {}}, options),
                 "regularization_order", "1, 2 or 3");
}
TEST(LossRejections, RegularizationDimOutOfRange) {
  const auto options = MSELossOptions().regularization(0.1).regularization_dim(3);
  EXPECT_REJECTS(seqpack::mse_loss(pred(), pred(), {.mask = at::ones({2, 3, 1}), .weights = {}}, options),
                 "regularization_dim", "[-3, 3)");
}
TEST(LossRejections, RegularizationTermDoesNotBroadcast) {
  const auto options = MSELossOptions().regularization(0.1).regularization_dim(1);
  EXPECT_REJECTS(seqpack::mse_loss(pred({2, 3}), pred({2, 3}), {.mask = at::ones({2, 3}), .weights = {}}, options),
                 "regularization_dim", "does not broadcast");
}
TEST(LossRejections, QuantileCount) {
  // 4 columns broadcast with neither 7 quantiles nor 1 (1 column, or 1 quantile, would).
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 4}), pred({2, 3})), "y_pred", "n_quantiles = 7");
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 2}), pred({2, 3}), {}, QuantileLossOptions().quantiles({0.1, 0.5, 0.9})),
                 "y_pred", "n_quantiles = 3", "[2, 3, 2]");
}
TEST(LossRejections, QuantileOneQuantileTakesNoPerColumnWeights) {
  // The original's rule: weights end in 1 or n_quantiles, here 1, even when y_pred has 7 columns.
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 7}), pred({2, 3}), {.mask = {}, .weights = at::ones({2, 3, 7})},
                               QuantileLossOptions().quantiles({0.5})),
                 "weights", "n_quantiles = 1");
}
TEST(LossRejections, QuantileRange) {
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 1}), pred({2, 3}), {}, QuantileLossOptions().quantiles({1.5})),
                 "quantiles", "[0, 1]");
}
TEST(LossRejections, QuantileNaN) {
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 1}), pred({2, 3}), {}, QuantileLossOptions().quantiles({NAN})),
                 "quantiles");
}
TEST(LossRejections, QuantileEmpty) {
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 1}), pred({2, 3}), {}, QuantileLossOptions().quantiles({})), "quantiles",
                 "at least one");
}
TEST(LossRejections, QuantileTargetShape) {
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 7}), pred({2, 4, 1})), "target", "[2, 3, 1]");
}
TEST(LossRejections, QuantileTargetRank) {
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 7}), pred({2})), "y_pred", "rank");
}
TEST(LossRejections, QuantilePredictionRank) {
  EXPECT_REJECTS(quantile_loss(pred({7}), pred({1})), "y_pred", "time dim");
}
TEST(LossRejections, QuantileWeightsLastDim) {
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 7}), pred({2, 3}), {.mask = {}, .weights = at::ones({2, 3, 2})}),
                 "weights", "n_quantiles = 7");
}
TEST(LossRejections, QuantileMaskMustBroadcastWithWeights) {
  // Found by the bad-input campaign: the product of the two failed inside ATen (exit 4).
  EXPECT_REJECTS(quantile_loss(pred({2, 5, 1}), pred({2, 5}),
                               {.mask = at::ones({2, 5, 3}, at::kBool), .weights = at::ones({2, 5})},
                               QuantileLossOptions().quantiles({0.5})),
                 "mask", "broadcast with weights");
}
TEST(LossRejections, QuantileWeightsDoNotBroadcast) {
  EXPECT_REJECTS(quantile_loss(pred({2, 3, 7}), pred({2, 3}), {.mask = {}, .weights = at::ones({3, 3})}),
                 "weights * mask", "broadcast");
}
TEST(LossRejections, TorchCriterionTakesNoMask) {
  const auto criterion = Criterion().kind(CriterionKind::TorchL1);
  EXPECT_REJECTS(criterion(pred(), pred(), {.mask = at::ones({2, 3, 1}), .weights = {}}), "criterion", "no mask");
}
TEST(LossRejections, TorchHuberDelta) {
  auto criterion = Criterion().kind(CriterionKind::TorchHuber);
  criterion.pointwise().delta(0);
  EXPECT_REJECTS(criterion(pred(), pred()), "delta", "positive");
}
TEST(LossRejections, TorchSmoothL1Beta) {
  const auto criterion = Criterion().kind(CriterionKind::TorchSmoothL1).beta(-1);
  EXPECT_REJECTS(criterion(pred(), pred()), "beta", "negative");
}
TEST(CalcLossRejections, LengthAboveSteps) {
  EXPECT_REJECTS(calc_loss(pred(), pred(), lengths({1, 4}), Criterion()), "lengths", "row 1");
}
TEST(CalcLossRejections, LengthBatchMismatch) {
  EXPECT_REJECTS(calc_loss(pred(), pred(), lengths({1, 2, 3}), Criterion()), "decoder_lengths", "batch size is 2");
}
TEST(CalcLossRejections, TargetWithoutTimeDim) {
  EXPECT_REJECTS(calc_loss(pred({2}), pred({2}), lengths({1, 1}), Criterion()), "target", "time dim");
}

// A failed call leaves its inputs as they were.
TEST(LossRejections, FailedCallChangesNothing) {
  const auto y = at::randn({2, 3, 1}, kF64);
  const auto before = y.clone();
  EXPECT_REJECTS(mape_loss(y, y, {.mask = at::ones({2, 4, 1}), .weights = {}}), "mask");
  EXPECT_TRUE(at::equal(y, before));
}

}  // namespace
}  // namespace seqpack
