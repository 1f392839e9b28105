#pragma once
// transformertf's InterpretableMultiHeadAttention (nn/_interpretable_multi_head_attn.py): one
// query and key projection per head, one value projection shared by all heads, scaled dot-product
// attention per head (masked scores set to -1e9), the heads averaged, then the output projection.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <optional>

namespace seqpack::nn {

class InterpretableMultiHeadAttentionImpl : public torch::nn::Module {
 public:
  InterpretableMultiHeadAttentionImpl(int64_t d_model, int64_t num_heads, double dropout = 0.1);
  // query (B, Tq, d_model), key and value (B, Tk, d_model), mask bool (B, Tq, Tk), true = hidden.
  at::Tensor forward(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                     const std::optional<at::Tensor>& mask = std::nullopt);

  int64_t num_heads;
  double attention_dropout;
  torch::nn::ModuleList query_layers, key_layers;
  torch::nn::Linear value_layer{nullptr}, output_layer{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(InterpretableMultiHeadAttention);

}  // namespace seqpack::nn
