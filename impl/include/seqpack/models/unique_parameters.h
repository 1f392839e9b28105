#pragma once
// A module's parameters with each tensor once, in first-seen order, as PyTorch's
// Module.parameters() gives them. LibTorch's parameters() lists a module registered under two
// names (the original shares some: TransformerLSTM's shared LSTM, the TFT's post-LSTM gate and
// norm) once per name; an optimiser handed that list steps the shared tensor twice per step.
#include <torch/nn/module.h>

#include <unordered_set>
#include <vector>

namespace seqpack::models {

inline std::vector<at::Tensor> unique_parameters(const torch::nn::Module& module) {
  std::vector<at::Tensor> out;
  std::unordered_set<const void*> seen;
  for (const auto& parameter : module.parameters()) {
    if (seen.insert(parameter.unsafeGetTensorImpl()).second) out.push_back(parameter);
  }
  return out;
}

}  // namespace seqpack::models
