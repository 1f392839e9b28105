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
#include <vector>

namespace seqpack::nn {

// Attention over jagged samples (the padding-free path): queries and keys are matrices with one
// row per real step; each bucket gathers a group of samples into one dense batch, padded to its
// longest sample (the padding slots read a zero row and are masked). models/real_step_attention.h
// builds the plans.
struct AttentionBucket {
  int64_t samples = 0, query_steps = 0, key_steps = 0;
  at::Tensor query_index;  // int64 (samples * query_steps,): the query row of each slot; the query count (the zero row) at padding
  at::Tensor key_index;    // int64 (samples * key_steps,): likewise into the keys
  at::Tensor mask;         // bool (samples, query_steps, key_steps), true = hidden; undefined: nothing hidden
  at::Tensor keyless;      // bool (samples, 1, query_steps, 1): queries with every key hidden, which attend
                           // nothing (zero weights); undefined: none
};

struct AttentionPlan {
  std::vector<AttentionBucket> buckets;
  at::Tensor output_index;  // int64 (queries,): each query's slot in the buckets' outputs, concatenated
};

class InterpretableMultiHeadAttentionImpl : public torch::nn::Module {
 public:
  InterpretableMultiHeadAttentionImpl(int64_t d_model, int64_t num_heads, double dropout = 0.1);
  // query (B, Tq, d_model), key and value (B, Tk, d_model), mask bool (B, Tq, Tk), true = hidden.
  at::Tensor forward(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                     const std::optional<at::Tensor>& mask = std::nullopt);
  // The same attention on jagged samples: queries (Nq, d_model), keys (Nk, d_model), also the
  // values, as both models call it) -> (Nq, d_model). The projections run once on the real steps,
  // all heads in one matrix product; scores and weights per bucket.
  at::Tensor forward_planned(const at::Tensor& queries, const at::Tensor& keys, const AttentionPlan& plan);

  int64_t num_heads;
  double attention_dropout;
  torch::nn::ModuleList query_layers, key_layers;
  torch::nn::Linear value_layer{nullptr}, output_layer{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(InterpretableMultiHeadAttention);

}  // namespace seqpack::nn
