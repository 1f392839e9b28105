#pragma once
// transformertf's VariableSelection (nn/_variable_selection.py): each of num_features inputs is
// prescaled (Linear 1 -> d_hidden) and embedded by its own GRN (-> d_model); a GRN over all the
// prescaled features (with the context, when built with one) gives softmax weights that mix the
// embeddings. One feature: its embedding alone, weight 1, and the context is not used (as in the
// original, which then builds no weight network).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <optional>

#include "seqpack/nn/grn.h"

namespace seqpack::nn {

struct VariableSelectionOptions {
  explicit VariableSelectionOptions(int64_t num_features) : num_features_(num_features) {}
  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(int64_t, d_hidden) = 8;
  TORCH_ARG(int64_t, d_model) = 300;
  TORCH_ARG(std::optional<int64_t>, context_size) = std::nullopt;
  TORCH_ARG(double, dropout) = 0.1;
};

class VariableSelectionImpl : public torch::nn::Module {
 public:
  explicit VariableSelectionImpl(const VariableSelectionOptions& options);
  // x (..., num_features) [, context (..., context_size)] -> (..., d_model)
  at::Tensor forward(const at::Tensor& x, const std::optional<at::Tensor>& context = std::nullopt);

  VariableSelectionOptions options;
  torch::nn::ModuleList prescalers, single_grn;
  GatedResidualNetwork flattened_grn{nullptr};  // only with more than one feature
};
TORCH_MODULE(VariableSelection);

}  // namespace seqpack::nn
