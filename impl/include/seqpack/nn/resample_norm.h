#pragma once
// transformertf's ResampleNorm (nn/_resample_norm.py): LayerNorm(x), where x is first stretched to
// output_dim by linear interpolation over the feature axis (align_corners) when the sizes differ,
// and with trainable_add scaled by sigmoid(mask) * 2. The residual path of an "interpolate" GRN.
#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>

namespace seqpack::nn {

class ResampleNormImpl : public torch::nn::Module {
 public:
  ResampleNormImpl(int64_t input_dim, std::optional<int64_t> output_dim = std::nullopt, bool trainable_add = true);
  at::Tensor forward(const at::Tensor& x);  // (..., input_dim) -> (..., output_dim)

  int64_t input_dim, output_dim;
  at::Tensor mask;  // parameter "mask" (output_dim), only with trainable_add
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(ResampleNorm);

}  // namespace seqpack::nn
