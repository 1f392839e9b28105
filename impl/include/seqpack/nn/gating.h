#pragma once
// transformertf's gating blocks: GatedLinearUnit (nn/_glu.py), AddNorm (nn/_add_norm.py) and
// GateAddNorm (nn/_gate_add_norm.py), with the original's parameter names.
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>

namespace seqpack::nn {

// dropout(x) -> fc1 (input_dim -> 2 * output_dim) -> glu over the last dim.
class GatedLinearUnitImpl : public torch::nn::Module {
 public:
  GatedLinearUnitImpl(int64_t input_dim, std::optional<int64_t> output_dim = std::nullopt, double dropout = 0.0);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Linear fc1{nullptr};
  torch::nn::Dropout dropout{nullptr};  // absent when the rate is 0, as in the original
};
TORCH_MODULE(GatedLinearUnit);

// LayerNorm(x + y), or with trainable_add LayerNorm(x + y * sigmoid(mask) * 2).
class AddNormImpl : public torch::nn::Module {
 public:
  AddNormImpl(int64_t input_size, bool trainable_add);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& y);

  at::Tensor mask;  // parameter "mask", only with trainable_add
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(AddNorm);

// AddNorm(GatedLinearUnit(x), residual).
class GateAddNormImpl : public torch::nn::Module {
 public:
  GateAddNormImpl(int64_t input_dim, std::optional<int64_t> output_dim = std::nullopt, double dropout = 0.0,
                  bool trainable_add = false);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& residual);

  GatedLinearUnit glu{nullptr};
  AddNorm add_norm{nullptr};
};
TORCH_MODULE(GateAddNorm);

}  // namespace seqpack::nn
