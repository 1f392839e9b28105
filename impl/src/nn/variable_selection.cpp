#include "seqpack/nn/variable_selection.h"

#include <torch/nn/modules/linear.h>

#include <algorithm>

namespace seqpack::nn {

VariableSelectionImpl::VariableSelectionImpl(const VariableSelectionOptions& opts) : options(opts) {
  const auto features = opts.num_features();
  for (int64_t i = 0; i < features; ++i) {
    prescalers->push_back(torch::nn::Linear(1, opts.d_hidden()));
    single_grn->push_back(GatedResidualNetwork(GatedResidualNetworkOptions(opts.d_hidden(), opts.d_model())
                                                   .d_hidden(std::min(opts.d_hidden(), opts.d_model()))
                                                   .dropout(opts.dropout())
                                                   .projection(Projection::Interpolate)));
  }
  register_module("prescalers", prescalers);
  if (features > 1) {
    flattened_grn = register_module(
        "flattened_grn", GatedResidualNetwork(GatedResidualNetworkOptions(features * opts.d_hidden(), features)
                                                  .d_hidden(std::min(opts.d_model(), features))
                                                  .context_dim(opts.context_size())
                                                  .dropout(opts.dropout())
                                                  .projection(Projection::Interpolate)));
  }
  register_module("single_grn", single_grn);
}

at::Tensor VariableSelectionImpl::forward(const at::Tensor& x, const std::optional<at::Tensor>& context) {
  const auto features = options.num_features();
  auto embed = [&](int64_t i, const at::Tensor& prescaled) {
    return single_grn[i]->as<GatedResidualNetwork>()->forward(prescaled);
  };
  if (features == 1) return embed(0, prescalers[0]->as<torch::nn::Linear>()->forward(x));
  std::vector<at::Tensor> prescaled, embedded;
  for (int64_t i = 0; i < features; ++i) {
    prescaled.push_back(prescalers[i]->as<torch::nn::Linear>()->forward(x.narrow(-1, i, 1)));
    embedded.push_back(embed(i, prescaled.back()));
  }
  const auto weights = at::softmax(flattened_grn(at::cat(prescaled, -1), context), -1).unsqueeze(-2);
  return (at::stack(embedded, -1) * weights).sum(-1);
}

}  // namespace seqpack::nn
