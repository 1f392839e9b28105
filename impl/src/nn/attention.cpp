#include "seqpack/nn/attention.h"

#include <ATen/record_function.h>
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

namespace {

// The heads' query (or key) layers as one (heads * d_head, d_model) layer.
std::pair<at::Tensor, at::Tensor> stacked(torch::nn::ModuleList& layers) {
  std::vector<at::Tensor> weights, biases;
  for (const auto& layer : *layers) {
    weights.push_back(layer->as<torch::nn::Linear>()->weight);
    biases.push_back(layer->as<torch::nn::Linear>()->bias);
  }
  return {at::cat(weights), at::cat(biases)};
}

// The rows of `values` with a zero row appended: the padding slots of a bucket read it.
at::Tensor with_zero_row(const at::Tensor& values) {
  return at::cat({values, at::zeros({1, values.size(1)}, values.options())});
}

}  // namespace

at::Tensor InterpretableMultiHeadAttentionImpl::forward_planned(const at::Tensor& queries, const at::Tensor& keys,
                                                                const AttentionPlan& plan) {
  RECORD_USER_SCOPE("real_steps.attention");
  const auto [query_weight, query_bias] = stacked(query_layers);
  const auto [key_weight, key_bias] = stacked(key_layers);
  const auto d_head = value_layer->weight.size(0);
  const auto all_queries = with_zero_row(at::linear(queries, query_weight, query_bias));
  const auto all_keys = with_zero_row(at::linear(keys, key_weight, key_bias));
  const auto all_values = with_zero_row(value_layer(keys));
  const auto scale = std::pow(static_cast<double>(d_head), -0.5);
  std::vector<at::Tensor> outputs;
  for (const auto& b : plan.buckets) {
    const auto q = all_queries.index_select(0, b.query_index).view({b.samples, b.query_steps, num_heads, d_head}).transpose(1, 2);
    const auto k = all_keys.index_select(0, b.key_index).view({b.samples, b.key_steps, num_heads, d_head}).permute({0, 2, 3, 1});
    const auto v = all_values.index_select(0, b.key_index).view({b.samples, 1, b.key_steps, d_head});
    auto scores = at::matmul(q, k);  // (samples, heads, query_steps, key_steps)
    scores.mul_(scale);
    if (b.mask.defined()) scores.masked_fill_(b.mask.unsqueeze(1), -1e9);
    auto weights = at::softmax(scores, -1);
    if (b.keyless.defined()) weights = weights.masked_fill(b.keyless, 0.0);
    if (attention_dropout > 0 && is_training()) {
      weights = torch::nn::functional::dropout(weights,
                                               torch::nn::functional::DropoutFuncOptions().p(attention_dropout).training(true));
    }
    const auto heads = at::matmul(weights, v);  // (samples, heads, query_steps, d_head)
    outputs.push_back((num_heads > 1 ? heads.mean(1) : heads.squeeze(1)).reshape({-1, d_head}));
  }
  const auto attended = outputs.empty() ? at::zeros({0, d_head}, queries.options())
                                        : at::cat(outputs).index_select(0, plan.output_index);
  const auto output = output_layer(attended);
  return dropout ? dropout(output) : output;
}

}  // namespace seqpack::nn
