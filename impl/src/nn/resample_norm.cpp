#include "seqpack/nn/resample_norm.h"

#include <torch/nn/functional/upsampling.h>

namespace seqpack::nn {

ResampleNormImpl::ResampleNormImpl(int64_t input_dim_, std::optional<int64_t> output_dim_, bool trainable_add)
    : input_dim(input_dim_), output_dim(output_dim_.value_or(input_dim_)) {
  if (trainable_add) mask = register_parameter("mask", at::zeros({output_dim}));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({output_dim})));
}

at::Tensor ResampleNormImpl::forward(const at::Tensor& x) {
  auto y = x;
  if (input_dim != output_dim) {
    // Every position's feature vector is one row of a 1-channel signal, as the original flattens it.
    auto sizes = x.sizes().vec();
    sizes.back() = output_dim;
    namespace F = torch::nn::functional;
    y = F::interpolate(x.reshape({-1, 1, input_dim}), F::InterpolateFuncOptions()
                                                           .size(std::vector<int64_t>{output_dim})
                                                           .mode(torch::kLinear)
                                                           .align_corners(true))
            .reshape(sizes);
  }
  if (mask.defined()) y = y * at::sigmoid(mask) * 2.0;
  return norm(y);
}

}  // namespace seqpack::nn
