#include "seqpack/nn/gating.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

namespace seqpack::nn {

GatedLinearUnitImpl::GatedLinearUnitImpl(int64_t input_dim, std::optional<int64_t> output_dim, double dropout) {
  const auto out = output_dim.value_or(input_dim);
  if (dropout > 0) this->dropout = register_module("dropout", torch::nn::Dropout(dropout));
  fc1 = register_module("fc1", torch::nn::Linear(input_dim, out * 2));
  torch::nn::init::xavier_uniform_(fc1->weight);
  torch::nn::init::zeros_(fc1->bias);
}

at::Tensor GatedLinearUnitImpl::forward(const at::Tensor& x) {
  const auto dropped = dropout ? dropout(x) : x;
  return torch::nn::functional::glu(fc1(dropped), -1);
}

AddNormImpl::AddNormImpl(int64_t input_size, bool trainable_add) {
  if (trainable_add) mask = register_parameter("mask", torch::zeros({input_size}));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({input_size})));
}

at::Tensor AddNormImpl::forward(const at::Tensor& x, const at::Tensor& y) {
  if (mask.defined()) return norm(x + y * torch::sigmoid(mask) * 2.0);
  return norm(x + y);
}

GateAddNormImpl::GateAddNormImpl(int64_t input_dim, std::optional<int64_t> output_dim, double dropout,
                                 bool trainable_add) {
  const auto out = output_dim.value_or(input_dim);
  glu = register_module("glu", GatedLinearUnit(input_dim, out, dropout));
  add_norm = register_module("add_norm", AddNorm(out, trainable_add));
}

at::Tensor GateAddNormImpl::forward(const at::Tensor& x, const at::Tensor& residual) {
  return add_norm(glu(x), residual);
}

}  // namespace seqpack::nn
