#pragma once
// transformertf's GatedResidualNetwork (nn/_grn.py): LayerNorm(GLU(dropout(fc2(act(fc1(x)
// [+ fc3(context)])))) + residual(x)). The residual is x when the sizes agree, otherwise a Linear
// named project ("linear" projection) or a ResampleNorm named resample ("interpolate").
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <string>

#include "seqpack/nn/gating.h"
#include "seqpack/nn/resample_norm.h"

namespace seqpack::nn {

enum class Projection { Linear, Interpolate };

struct GatedResidualNetworkOptions {
  GatedResidualNetworkOptions(int64_t input_dim, int64_t output_dim) : input_dim_(input_dim), output_dim_(output_dim) {}
  TORCH_ARG(int64_t, input_dim);
  TORCH_ARG(int64_t, output_dim);
  TORCH_ARG(std::optional<int64_t>, d_hidden) = std::nullopt;     // default input_dim
  TORCH_ARG(std::optional<int64_t>, context_dim) = std::nullopt;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(std::string, activation) = "elu";
  TORCH_ARG(Projection, projection) = Projection::Linear;
};

class GatedResidualNetworkImpl : public torch::nn::Module {
 public:
  explicit GatedResidualNetworkImpl(const GatedResidualNetworkOptions& options);
  at::Tensor forward(const at::Tensor& x, const std::optional<at::Tensor>& context = std::nullopt);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr}, project{nullptr};
  ResampleNorm resample{nullptr};
  torch::nn::Dropout dropout{nullptr};
  GatedLinearUnit glu1{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::AnyModule activation;
};
TORCH_MODULE(GatedResidualNetwork);

}  // namespace seqpack::nn
