#include "seqpack/models/state_dict.h"

#include <fmt/ranges.h>
#include <torch/torch.h>

#include <set>
#include <vector>

#include "seqpack/errors.h"

namespace seqpack::models {
namespace {

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

// The weights under the module's own names: a Lightning checkpoint keeps them under "model.".
TensorMap own_names(const TensorMap& weights, const TensorMap& expected) {
  const bool lightning = !weights.empty() && std::all_of(weights.begin(), weights.end(), [](const auto& entry) {
    return starts_with(entry.first, "model.") || starts_with(entry.first, "criterion.");
  });
  if (!lightning || expected.contains(weights.begin()->first)) return weights;
  TensorMap renamed;
  for (const auto& [name, tensor] : weights) {
    if (starts_with(name, "model.")) renamed[name.substr(6)] = tensor;
  }
  return renamed;
}

}  // namespace

TensorMap state_dict(const torch::nn::Module& module) {
  TensorMap out;
  for (const auto& item : module.named_parameters()) out[item.key()] = item.value().detach();
  for (const auto& item : module.named_buffers()) out[item.key()] = item.value().detach();
  return out;
}

void load_state_dict(torch::nn::Module& module, const TensorMap& given) {
  const auto expected = state_dict(module);
  const auto weights = own_names(given, expected);
  std::vector<std::string> missing, unexpected, misshaped, mistyped;
  std::set<c10::ScalarType> dtypes;
  for (const auto& [name, tensor] : expected) {
    const auto found = weights.find(name);
    if (found == weights.end()) {
      missing.push_back(name);
      continue;
    }
    const auto& weight = found->second;
    if (weight.sizes() != tensor.sizes()) {
      misshaped.push_back(fmt::format("{} (expected [{}], got [{}])", name, fmt::join(tensor.sizes(), ", "),
                                      fmt::join(weight.sizes(), ", ")));
    } else if (at::isFloatingType(tensor.scalar_type()) != at::isFloatingType(weight.scalar_type()) ||
               (!at::isFloatingType(tensor.scalar_type()) && tensor.scalar_type() != weight.scalar_type())) {
      // The model takes its floating dtype from the weights; anything else would be a silent cast.
      mistyped.push_back(fmt::format("{} (expected {}, got {})", name,
                                     at::isFloatingType(tensor.scalar_type()) ? "a floating dtype"
                                                                              : c10::toString(tensor.scalar_type()),
                                     c10::toString(weight.scalar_type())));
    } else if (at::isFloatingType(weight.scalar_type())) {
      dtypes.insert(weight.scalar_type());
    }
  }
  for (const auto& [name, tensor] : weights) {
    if (!expected.contains(name)) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty() || !mistyped.empty()) {
    reject("weights", "do not match the model: missing [{}]; unexpected [{}]; wrong shape [{}]; wrong dtype [{}]",
           short_list(missing), short_list(unexpected), short_list(misshaped, 3), short_list(mistyped, 3));
  }
  if (dtypes.size() > 1) reject("weights", "must share one floating dtype (got {} kinds)", dtypes.size());
  if (!dtypes.empty() && *dtypes.begin() != at::kFloat && *dtypes.begin() != at::kDouble) {
    reject("weights", "must be float32 or float64 (got {})", c10::toString(*dtypes.begin()));
  }
  if (!dtypes.empty()) module.to(*dtypes.begin());
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) item.value().copy_(weights.at(item.key()));
  for (auto& item : module.named_buffers()) item.value().copy_(weights.at(item.key()));
}

}  // namespace seqpack::models
