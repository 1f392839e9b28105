// Properties of the masks and masked losses that hold for any batch: a masked step never reaches
// the loss or its gradient, the masks agree with each other, and the all-masked option.
#include <ATen/ATen.h>

#include "seqpack/calc_loss.h"
#include "seqpack/losses.h"
#include "seqpack/masks.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);

at::Tensor random_lengths(int64_t batch, int64_t steps, int64_t low = 0) {
  return at::randint(low, steps + 1, {batch}, at::kLong);
}

TEST(MaskProperties, InverseAndAlignmentsAgree) {
  for (int seed = 0; seed < 20; ++seed) {
    at::manual_seed(seed);
    const auto lengths = random_lengths(6, 9);
    const auto left = create_mask(9, lengths);
    EXPECT_TRUE(at::equal(create_mask(9, lengths, CreateMaskOptions().inverse(true)), ~left));
    // A right mask is the left mask read backwards; each row has exactly L valid steps.
    EXPECT_TRUE(at::equal(create_mask(9, lengths, CreateMaskOptions().alignment(Alignment::Right)), left.flip(1)));
    EXPECT_TRUE(at::equal((~left).sum(1), lengths));
  }
}

TEST(LossProperties, HuberWithAnIntegerTargetHasTheGradientOfTheSameTargetAsFloats) {
  // PyTorch's Huber backward refuses mixed dtypes; seqpack computes in the promoted dtype, as the
  // forward does, so the loss and gradient are those of the target converted first.
  at::manual_seed(0);
  const auto target = at::randint(-3, 4, {3, 5, 1}, at::kLong);
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    auto mixed = at::randn({3, 5, 1}, at::TensorOptions().dtype(dtype)).requires_grad_(true);
    auto same = mixed.detach().clone().requires_grad_(true);
    const auto loss = seqpack::huber_loss(mixed, target);
    const auto want = seqpack::huber_loss(same, target.to(dtype));
    loss.backward();
    want.backward();
    EXPECT_EQ(loss.scalar_type(), dtype);
    EXPECT_TRUE(at::equal(loss, want));
    EXPECT_TRUE(at::equal(mixed.grad(), same.grad()));
  }
}

TEST(MaskProperties, AttentionMaskIsBuiltFromCreateMask) {
  for (int seed = 0; seed < 20; ++seed) {
    at::manual_seed(seed);
    const auto encoder = random_lengths(4, 7);
    const auto decoder = random_lengths(4, 5, 1);
    const auto full = get_attention_mask(encoder, decoder, 7, 5, AttentionMaskOptions().causal_attention(false));
    const auto causal = get_attention_mask(encoder, decoder, 7, 5);
    for (int64_t step = 0; step < 5; ++step) {
      EXPECT_TRUE(at::equal(full.select(1, step).slice(1, 0, 7), create_mask(7, encoder)));
      EXPECT_TRUE(at::equal(full.select(1, step).slice(1, 7), create_mask(5, decoder)));
      // causal: exactly the steps before `step` may be attended
      EXPECT_EQ((~causal.select(1, step).slice(1, 7)).sum().item<int64_t>(), 4 * step);
    }
  }
}

// Changing predictions at masked steps changes neither the loss nor the gradient at valid steps,
// and masked steps get zero gradient.
TEST(LossProperties, MaskedStepsDoNotReachTheLoss) {
  std::vector<Criterion> criteria;
  for (auto kind : {CriterionKind::MSE, CriterionKind::MAE, CriterionKind::Huber, CriterionKind::MAPE,
                    CriterionKind::SMAPE, CriterionKind::Quantile}) {
    criteria.push_back(Criterion().kind(kind));
  }
  for (int seed = 0; seed < 10; ++seed) {
    at::manual_seed(seed);
    const auto lengths = random_lengths(5, 8, 1);
    const auto valid = create_mask(8, lengths, CreateMaskOptions().inverse(true)).unsqueeze(-1);
    for (const auto& criterion : criteria) {
      const int64_t outputs = criterion.kind() == CriterionKind::Quantile ? 7 : 1;
      const auto target = at::rand({5, 8, 1}, kF64) + 0.5;
      const auto y = at::rand({5, 8, outputs}, kF64) + 0.5;
      const auto noise = at::where(valid, at::zeros_like(y), at::randn_like(y) * 100);
      auto loss_and_grad = [&](const at::Tensor& pred) {
        const auto leaf = pred.clone().requires_grad_(true);
        const auto loss = calc_loss(leaf, target, lengths, criterion);
        loss.backward();
        return std::make_pair(loss.detach(), leaf.grad());
      };
      const auto [loss, grad] = loss_and_grad(y);
      const auto [noisy_loss, noisy_grad] = loss_and_grad(y + noise);
      EXPECT_TRUE(at::allclose(loss, noisy_loss, 1e-12, 1e-12)) << "criterion " << static_cast<int>(criterion.kind());
      EXPECT_TRUE(at::allclose(grad, noisy_grad, 1e-12, 1e-12));
      EXPECT_EQ(grad.masked_select(~valid.expand_as(grad)).abs().max().item<double>(), 0.0);
    }
  }
}

TEST(LossProperties, AllMaskedIsNaNByDefaultAndZeroOnRequest) {
  const auto y = at::randn({3, 4, 1}, kF64).requires_grad_(true);
  const auto target = at::randn({3, 4, 1}, kF64);
  const auto none = at::zeros({3}, at::kLong);
  EXPECT_TRUE(calc_loss(y, target, none, Criterion()).isnan().item<bool>());
  auto criterion = Criterion();
  criterion.mse().all_masked(AllMasked::Zero);
  const auto loss = calc_loss(y, target, none, criterion);
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_EQ(y.grad().abs().max().item<double>(), 0.0);
  // With a valid step the option changes nothing.
  const auto some = at::tensor({2, 0, 4}, at::kLong);
  EXPECT_TRUE(at::equal(calc_loss(y, target, some, criterion), calc_loss(y, target, some, Criterion())));
}

TEST(LossProperties, ScalarTorchCriterionIsNotMasked) {
  const auto y = at::randn({3, 4, 1}, kF64);
  const auto target = at::randn({3, 4, 1}, kF64);
  const auto criterion = Criterion().kind(CriterionKind::TorchMSE);
  EXPECT_TRUE(at::equal(calc_loss(y, target, at::tensor({1, 2, 3}, at::kLong), criterion), at::mse_loss(y, target)));
}

// The original broadcasts y_pred's m columns against n quantiles. One quantile over m columns
// sums each column over time and averages over rows and columns: the mean of the m one-column
// losses. One column at n quantiles scores it like that column repeated n times.
TEST(LossProperties, QuantileColumnsBroadcastLikeTheOriginal) {
  at::manual_seed(3);
  const auto y = at::randn({3, 5, 7}, kF64);
  const auto target = at::randn({3, 5}, kF64);
  const MaskAndWeights masked{.mask = create_mask(5, at::tensor({5, 2, 4}), CreateMaskOptions().inverse(true)),
                              .weights = {}};
  const auto median = QuantileLossOptions().quantiles({0.5});
  for (const auto& extra : {MaskAndWeights{}, masked}) {
    auto per_column = at::zeros({}, kF64);
    for (int64_t j = 0; j < 7; ++j) per_column += quantile_loss(y.narrow(-1, j, 1), target, extra, median);
    EXPECT_TRUE(at::allclose(quantile_loss(y, target, extra, median), per_column / 7, 1e-12, 1e-12));
    const auto column = y.narrow(-1, 0, 1);
    const auto repeated = quantile_loss(column.expand({3, 5, 7}), target, extra);
    EXPECT_TRUE(at::allclose(quantile_loss(column, target, extra), repeated, 1e-12, 1e-12));
  }
}

}  // namespace
}  // namespace seqpack
