// Precision: parsing, the autocast guard (on, its dtype, restored, nested), the gradient scaler
// (torch.amp.GradScaler's rules, checked from its options) and a training step under autocast.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "model_test_helpers.h"
#include "seqpack/grad_scaler.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/models/training_step.h"
#include "seqpack/precision.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

using c10::DeviceType;

TEST(Precision, ParsesItsThreeNamesAndRejectsOthers) {
  for (const auto precision : {Precision::Float32, Precision::BFloat16, Precision::Float16}) {
    EXPECT_EQ(parse_precision(to_string(precision), "precision"), precision);
  }
  EXPECT_EQ(autocast_dtype(Precision::BFloat16), at::kBFloat16);
  EXPECT_EQ(autocast_dtype(Precision::Float16), at::kHalf);
  EXPECT_REJECTS(parse_precision("fp16", "precision"), "precision: must be float32, bfloat16 or float16, got \"fp16\"");
  EXPECT_REJECTS(parse_precision("", "--precision"), "--precision: must be", "got \"\"");
}

TEST(AutocastGuard, TurnsAutocastOnForItsDeviceTypeAndRestoresItNested) {
  const auto dtype_before = at::autocast::get_autocast_dtype(DeviceType::CPU);
  ASSERT_FALSE(at::autocast::is_autocast_enabled(DeviceType::CPU));
  {
    const AutocastGuard outer(DeviceType::CPU, Precision::BFloat16);
    EXPECT_TRUE(at::autocast::is_autocast_enabled(DeviceType::CPU));
    EXPECT_EQ(at::autocast::get_autocast_dtype(DeviceType::CPU), at::kBFloat16);
    EXPECT_FALSE(at::autocast::is_autocast_enabled(DeviceType::CUDA)) << "only its own device type";
    {
      const AutocastGuard inner(DeviceType::CPU, Precision::Float16);
      EXPECT_TRUE(at::autocast::is_autocast_enabled(DeviceType::CPU));
      EXPECT_EQ(at::autocast::get_autocast_dtype(DeviceType::CPU), at::kHalf);
    }
    EXPECT_TRUE(at::autocast::is_autocast_enabled(DeviceType::CPU)) << "the inner guard restores the outer's state";
    EXPECT_EQ(at::autocast::get_autocast_dtype(DeviceType::CPU), at::kBFloat16);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(DeviceType::CPU));
  EXPECT_EQ(at::autocast::get_autocast_dtype(DeviceType::CPU), dtype_before);
}

TEST(AutocastGuard, Float32ChangesNothing) {
  const AutocastGuard guard(DeviceType::CPU, Precision::Float32);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(DeviceType::CPU));
  const auto a = at::randn({3, 4}), b = at::randn({4, 2});
  EXPECT_EQ(a.matmul(b).scalar_type(), at::kFloat);
}

TEST(AutocastGuard, AMatmulRunsInItsDtypeInsideAndInFloat32After) {
  const auto a = at::randn({3, 4}), b = at::randn({4, 2});
  {
    const AutocastGuard guard(DeviceType::CPU, Precision::BFloat16);
    EXPECT_EQ(a.matmul(b).scalar_type(), at::kBFloat16);
  }
  EXPECT_EQ(a.matmul(b).scalar_type(), at::kFloat);
}

TEST(AutocastGuard, AMatmulOnTheGpuRunsInFloat16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU here (torch::cuda::is_available() is false)";
  const auto a = at::randn({3, 4}, at::Device(at::kCUDA)), b = at::randn({4, 2}, at::Device(at::kCUDA));
  {
    const AutocastGuard guard(DeviceType::CUDA, Precision::Float16);
    EXPECT_EQ(a.matmul(b).scalar_type(), at::kHalf);
  }
  EXPECT_EQ(a.matmul(b).scalar_type(), at::kFloat);
}

// One float32 parameter and an SGD optimizer over it.
struct OneParameter {
  at::Tensor parameter = at::ones({3}).requires_grad_(true);
  torch::optim::SGD optimizer{std::vector<at::Tensor>{parameter}, torch::optim::SGDOptions(0.1)};
  // Scales a loss through `scaler` (which starts its scale there) and backpropagates it.
  void scaled_backward(GradScaler& scaler, const at::Tensor& weight) {
    optimizer.zero_grad();
    scaler.scale((parameter * weight).sum()).backward();
  }
};

TEST(GradScaler, AStepWithAnInfGradientIsSkippedAndTheScaleBacksOff) {
  const GradScalerOptions options;
  GradScaler scaler(options);
  OneParameter one;
  one.scaled_backward(scaler, at::tensor({1.0f, std::numeric_limits<float>::infinity(), 2.0f}));
  const auto before = one.parameter.detach().clone();
  EXPECT_FALSE(scaler.step(one.optimizer));
  EXPECT_TRUE(at::equal(one.parameter.detach(), before));
  scaler.update();
  EXPECT_EQ(scaler.scale_value(), options.init_scale() * options.backoff_factor());
}

TEST(GradScaler, ANanGradientIsSkippedToo) {
  GradScaler scaler;
  OneParameter one;
  one.scaled_backward(scaler, at::tensor({1.0f, std::nanf(""), 2.0f}));
  EXPECT_FALSE(scaler.step(one.optimizer));
}

TEST(GradScaler, TheScaleGrowsAfterGrowthIntervalFiniteStepsInARow) {
  const auto options = GradScalerOptions().growth_interval(3);
  GradScaler scaler(options);
  OneParameter one;
  for (int64_t step = 1; step <= options.growth_interval(); ++step) {
    one.scaled_backward(scaler, at::tensor({1.0f, 2.0f, 3.0f}));
    const auto before = one.parameter.detach().clone();
    EXPECT_TRUE(scaler.step(one.optimizer));
    EXPECT_FALSE(at::equal(one.parameter.detach(), before)) << "a finite step updates";
    scaler.update();
    const double expected = step < options.growth_interval() ? options.init_scale()
                                                             : options.init_scale() * options.growth_factor();
    EXPECT_EQ(scaler.scale_value(), expected) << "after step " << step;
  }
}

TEST(GradScaler, UnscaledGradientsEqualTheUnscaledBackwardsGradients) {
  // The scale is a power of two, so scaling and unscaling a float32 gradient are exact.
  GradScaler scaler;
  OneParameter one;
  const auto weight = at::tensor({0.3f, -1.7f, 2.1e-3f});
  one.optimizer.zero_grad();
  (one.parameter * weight).sum().backward();
  const auto plain = one.parameter.grad().clone();
  one.scaled_backward(scaler, weight);
  EXPECT_TRUE(at::equal(one.parameter.grad(), plain * scaler.scale_value()));
  scaler.unscale(one.optimizer);
  EXPECT_TRUE(at::equal(one.parameter.grad(), plain));
}

TEST(GradScaler, RejectsMisuseAndBadOptions) {
  GradScaler scaler;
  OneParameter one;
  EXPECT_REJECTS(scaler.unscale(one.optimizer), "optimizer: unscale() needs a loss scaled by scale() first");
  EXPECT_REJECTS(scaler.update(), "update: needs a loss scaled by scale() first");
  one.scaled_backward(scaler, at::ones({3}));
  EXPECT_REJECTS(scaler.update(), "update: no inf/nan check was recorded");
  scaler.unscale(one.optimizer);
  EXPECT_REJECTS(scaler.unscale(one.optimizer), "optimizer: unscale() was already called since the last update()");
  scaler.step(one.optimizer);
  EXPECT_REJECTS(scaler.step(one.optimizer), "optimizer: step() was already called since the last update()");
  EXPECT_REJECTS(scaler.unscale(one.optimizer), "optimizer: unscale() may not follow step() before update()");
  scaler.update();

  auto half = at::ones({2}, at::kHalf).requires_grad_(true);
  torch::optim::SGD half_optimizer(std::vector<at::Tensor>{half}, torch::optim::SGDOptions(0.1));
  scaler.scale(half.sum()).backward();
  EXPECT_REJECTS(scaler.unscale(half_optimizer), "optimizer: holds float16 gradients");

  EXPECT_REJECTS(GradScaler(GradScalerOptions().init_scale(0)), "init_scale: must be > 0, got 0");
  EXPECT_REJECTS(GradScaler(GradScalerOptions().growth_factor(1)), "growth_factor: must be > 1, got 1");
  EXPECT_REJECTS(GradScaler(GradScalerOptions().backoff_factor(1)), "backoff_factor: must be in (0, 1), got 1");
  EXPECT_REJECTS(GradScaler(GradScalerOptions().growth_interval(0)), "growth_interval: must be >= 1, got 0");
}

// One of the LSTM family's small configurations in float32.
std::shared_ptr<models::ForecastModel> small_float32_model(const std::string& original_class) {
  at::manual_seed(11);
  auto model = testing::small_model(original_class);
  model->to(at::kFloat);
  return model;
}

models::ModelInputs float32_batch() {
  at::manual_seed(12);
  auto in = testing::batch({7, 3, 5, 1, 6}, {5, 2, 4, 1, 5}, 7, 5);
  in.past_sequence = in.past_sequence.to(at::kFloat);
  in.future_sequence = in.future_sequence.to(at::kFloat);
  return in;
}

// The loss of a step (taken before its update) is a mean over the decoder's real steps of a model
// whose every linear layer, LSTM and matmul rounds its inputs and output to the low precision
// (unit roundoff u = 2^-8 in bfloat16, 2^-11 in float16): a few dozen such roundings lie on the
// way to each output, and averaging over outputs shrinks their sum, so 8u of relative difference
// from the float32 loss is generous for a correct step and far below what a wrong one (a cast
// dropped, a loss left unscaled: a factor of 2^16) gives.
double loss_tolerance(Precision precision) {
  return 8.0 * std::ldexp(1.0, precision == Precision::BFloat16 ? -8 : -11);
}

TEST(TrainingStepPrecision, Bfloat16AndFloat16StepsRunChangeTheParametersAndLandNearTheFloat32Loss) {
  const auto in = float32_batch();
  const auto target = at::randn({5, 5, 1});
  // TransformerLSTM's masked attention fills with -1e9, which float16 cannot hold (next test).
  for (const auto& [original_class, precision] : {std::pair{"TransformerLSTM", Precision::BFloat16},
                                                  std::pair{"EncoderDecoderLSTM", Precision::BFloat16},
                                                  std::pair{"EncoderDecoderLSTM", Precision::Float16}}) {
    const auto label = std::string(original_class) + " " + std::string(to_string(precision));
    models::TrainingStep float32_step(small_float32_model(original_class));
    const double float32_loss = float32_step(in, target).item<double>();
    auto model = small_float32_model(original_class);
    std::map<std::string, at::Tensor> before;
    for (const auto& [name, tensor] : models::state_dict(*model)) before[name] = tensor.clone();
    models::TrainingStep step(model, models::TrainingStepOptions().precision(precision));
    const double loss = step(in, target).to(at::kDouble).item<double>();
    ASSERT_TRUE(std::isfinite(loss)) << label;
    EXPECT_LE(std::abs(loss - float32_loss), loss_tolerance(precision) * std::abs(float32_loss))
        << label << ": loss " << loss << ", float32 " << float32_loss;
    if (precision == Precision::Float16) {
      EXPECT_EQ(step.grad_scaler()->scale_value(), GradScalerOptions().init_scale()) << "one finite step: no change yet";
    }
    bool changed = false;
    for (const auto& [name, tensor] : models::state_dict(*model)) {
      EXPECT_EQ(tensor.scalar_type(), at::kFloat) << label << ": autocast leaves the parameters float32: " << name;
      changed = changed || !at::equal(tensor, before.at(name));
    }
    EXPECT_TRUE(changed) << label << ": the step changed no parameter";
  }
}

TEST(TrainingStepPrecision, MaskedAttentionCannotRunInFloat16AsInPyTorch) {
  // A finding, pinned: the original's attention fills masked scores with -1e9, beyond float16's
  // range (65504); under float16 autocast the scores are float16, so PyTorch's masked_fill_ raises
  // "value cannot be converted to type c10::Half without overflow", and seqpack, computing the same
  // ops, raises the same error.
  const auto in = float32_batch();
  models::TrainingStep step(small_float32_model("TransformerLSTM"),
                            models::TrainingStepOptions().precision(Precision::Float16));
  try {
    step(in, at::randn({5, 5, 1}));
    ADD_FAILURE() << "float16 masked attention ran; if -1e9 was replaced, update this test and docs/contract.md";
  } catch (const std::exception& error) {  // c10's checked_convert throws a plain runtime_error
    EXPECT_NE(std::string(error.what()).find("without overflow"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace seqpack
