#pragma once
// transformertf's GatedResidualNetwork (nn/_grn.py), "linear" projection: LayerNorm(GLU(dropout(
// fc2(act(fc1(x) [+ fc3(context)])))) + project(x)), project the identity when the sizes agree.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <string>

#include "seqpack/nn/gating.h"

namespace seqpack::nn {

struct GatedResidualNetworkOptions {
  GatedResidualNetworkOptions(int64_t input_dim, int64_t output_dim) : input_dim_(input_dim), output_dim_(output_dim) {}
  TORCH_ARG(int64_t, input_dim);
  TORCH_ARG(int64_t, output_dim);
  TORCH_ARG(std::optional<int64_t>, d_hidden) = std::nullopt;     // default input_dim
  TORCH_ARG(std::optional<int64_t>, context_dim) = std::nullopt;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(std::string, activation) = "elu";
};

class GatedResidualNetworkImpl : public torch::nn::Module {
 public:
  explicit GatedResidualNetworkImpl(const GatedResidualNetworkOptions& options);
  at::Tensor forward(const at::Tensor& x, const std::optional<at::Tensor>& context = std::nullopt);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr}, project{nullptr};
  torch::nn::Dropout dropout{nullptr};
  GatedLinearUnit glu1{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::AnyModule activation;
};
TORCH_MODULE(GatedResidualNetwork);

}  // namespace seqpack::nn
