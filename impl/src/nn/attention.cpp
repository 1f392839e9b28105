#include "seqpack/nn/attention.h"

#include <torch/nn/functional/dropout.h>
#include <torch/nn/init.h>

#include <cmath>

#include "seqpack/errors.h"

namespace seqpack::nn {

InterpretableMultiHeadAttentionImpl::InterpretableMultiHeadAttentionImpl(int64_t d_model, int64_t heads,
                                                                         double dropout_rate)
    : num_heads(heads), attention_dropout(dropout_rate) {
  if (heads < 1 || d_model % heads != 0) {
    reject("num_heads", "must be at least 1 and divide d_model = {} (got {})", d_model, heads);
  }
  const auto d_head = d_model / heads;
  if (dropout_rate > 0) dropout = register_module("dropout", torch::nn::Dropout(dropout_rate));
  for (int64_t i = 0; i < heads; ++i) {
    query_layers->push_back(torch::nn::Linear(d_model, d_head));
    key_layers->push_back(torch::nn::Linear(d_model, d_head));
  }
  register_module("query_layers", query_layers);
  register_module("key_layers", key_layers);
  value_layer = register_module("value_layer", torch::nn::Linear(d_model, d_head));
  output_layer = register_module("output_layer", torch::nn::Linear(d_head, d_model));
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const auto& name = item.key();
    auto& p = item.value();
    if (name.find("bias") == std::string::npos) {
      torch::nn::init::xavier_uniform_(p);
    } else {
      torch::nn::init::zeros_(p);
    }
  }
}

at::Tensor InterpretableMultiHeadAttentionImpl::forward(const at::Tensor& query, const at::Tensor& key,
                                                        const at::Tensor& value, const std::optional<at::Tensor>& mask) {
  const auto values = value_layer(value);
  std::vector<at::Tensor> heads;
  for (int64_t i = 0; i < num_heads; ++i) {
    const auto q = query_layers[i]->as<torch::nn::Linear>()->forward(query);
    const auto k = key_layers[i]->as<torch::nn::Linear>()->forward(key);
    auto scores = torch::bmm(q, k.transpose(-2, -1));
    scores.mul_(std::pow(static_cast<double>(q.size(-1)), -0.5));
    if (mask) scores.masked_fill_(*mask, -1e9);
    auto weights = torch::softmax(scores, -1);
    if (attention_dropout > 0 && is_training()) {
      weights = torch::nn::functional::dropout(weights,
                                               torch::nn::functional::DropoutFuncOptions().p(attention_dropout).training(true));
    }
    heads.push_back(torch::bmm(weights, values));
  }
  const auto head = num_heads > 1 ? torch::stack(heads, 2).mean(2) : heads[0];
  const auto output = output_layer(head);
  return dropout ? dropout(output) : output;
}

}  // namespace seqpack::nn
