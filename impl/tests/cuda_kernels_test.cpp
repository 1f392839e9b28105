// The CUDA kernels against the CPU path: fused align-and-pack (values and gradient) and the
// segmented LSTM (which runs cuDNN per block). They need a CUDA GPU and a build with nvcc; without
// either they skip, saying which is missing.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "seqpack/cuda_probe.h"
#include "seqpack/models/segmented_lstm.h"
#include "seqpack/sequence.h"

namespace seqpack {
namespace {

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda::compiled_with_cuda()) GTEST_SKIP() << "seqpack was built without CUDA (no nvcc, or SEQPACK_CUDA=OFF)";
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU on this machine";
  }
};

// A batch whose rows start at 0 (left), end at T (right), or either (auto), zeros elsewhere.
at::Tensor aligned_batch(const at::Tensor& lengths, int64_t steps, int64_t features, Source source) {
  auto x = at::randn({lengths.size(0), steps, features}, at::kDouble);
  for (int64_t row = 0; row < lengths.size(0); ++row) {
    const int64_t length = lengths[row].item<int64_t>();
    const bool right = source == Source::Right || (source == Source::Auto && row % 2 == 1);
    if (right) x[row].slice(0, 0, steps - length).zero_(); else x[row].slice(0, length).zero_();
  }
  return x;
}

TEST_F(CudaKernels, FusedAlignAndPackEqualsTheCpuPathWithItsGradient) {
  torch::manual_seed(1);
  const auto lengths = at::tensor({3, 7, 1, 7, 4}, at::kLong);
  for (const auto source : {Source::Left, Source::Right, Source::Auto}) {
    for (const bool batch_first : {true, false}) {
      SCOPED_TRACE(fmt::format("source {}, batch_first {}", static_cast<int>(source), batch_first));
      auto cpu = aligned_batch(lengths, 7, 3, source);
      if (!batch_first) cpu = cpu.transpose(0, 1).contiguous();
      const auto options = PackEncoderOptions(source).batch_first(batch_first);
      auto cpu_input = cpu.clone().requires_grad_();
      auto gpu_input = cpu.to(at::kCUDA).requires_grad_();
      const auto want = pack_encoder_sequences(cpu_input, lengths, options);
      const auto got = pack_encoder_sequences(gpu_input, lengths, options);
      EXPECT_TRUE(at::equal(got.data().cpu(), want.data()));
      EXPECT_TRUE(at::equal(got.batch_sizes(), want.batch_sizes()));
      const auto weights = at::randn_like(want.data());
      (want.data() * weights).sum().backward();
      (got.data() * weights.to(at::kCUDA)).sum().backward();
      EXPECT_TRUE(at::equal(gpu_input.grad().cpu(), cpu_input.grad()));
    }
  }
}

TEST_F(CudaKernels, SegmentedLstmEqualsPyTorchPackedOnCuda) {
  torch::manual_seed(2);
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(4, 6).num_layers(2).batch_first(true));
  lstm->to(at::kCUDA, at::kDouble);
  const auto lengths = at::tensor({5, 9, 1, 9, 3, 3}, at::kLong);
  const auto packed = pack_decoder_sequences(at::randn({6, 9, 4}, at::kDouble).to(at::kCUDA), lengths);
  const auto [want, want_state] = lstm->forward_with_packed_input(packed);
  const auto got = models::run_segmented_lstm(lstm, packed, std::nullopt);
  EXPECT_TRUE(at::allclose(got.output.data(), want.data(), 1e-10, 1e-10));
  EXPECT_TRUE(at::allclose(std::get<0>(got.state), std::get<0>(want_state), 1e-10, 1e-10));
  EXPECT_TRUE(at::allclose(std::get<1>(got.state), std::get<1>(want_state), 1e-10, 1e-10));
}

}  // namespace
}  // namespace seqpack
