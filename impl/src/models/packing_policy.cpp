#include "seqpack/models/packing_policy.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"

namespace seqpack::models {

std::string_view builtin_packing_cost_model_json();  // generated from perf/packing_cost_model.json

namespace {

const std::vector<std::string> kFeatures = {"1", "ln_B", "ln_fill", "ln_B*ln_fill", "equal", "ln_B*equal"};

std::vector<double> coefficients(const nlohmann::json& model, std::string_view name, std::string_view path) {
  if (!model.contains(path)) reject("cost_model", "model {} has no \"{}\" coefficients", name, path);
  auto values = model.at(std::string(path)).get<std::vector<double>>();
  if (values.size() != kFeatures.size()) {
    reject("cost_model", "model {} has {} \"{}\" coefficients, expected {}", name, values.size(), path, kFeatures.size());
  }
  return values;
}

}  // namespace

PackingCostModel PackingCostModel::from_json(std::string_view text) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) reject("cost_model", "must be a JSON object");
  if (!json.contains("features") || json.at("features") != nlohmann::json(kFeatures)) {
    reject("cost_model", "features must be {}", nlohmann::json(kFeatures).dump());
  }
  PackingCostModel out;
  try {
    out.device_ = json.at("device").get<std::string>();
    out.fill_floor_ = json.at("fill_floor").get<double>();
    for (const auto& [name, model] : json.at("models").items()) {
      for (const auto& path : kCostModelPaths) {
        if (path.required || model.contains(path.name)) out.models_[name][path.packing] = coefficients(model, name, path.name);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    reject("cost_model", "device, fill_floor and models must be present and well typed ({})", e.what());
  }
  if (!(out.fill_floor_ > 0)) reject("cost_model", "fill_floor must be positive (got {})", out.fill_floor_);
  return out;
}

const PackingCostModel& PackingCostModel::builtin() {
  static const PackingCostModel model = from_json(builtin_packing_cost_model_json());
  return model;
}

std::vector<double> PackingCostModel::features(int64_t steps, const at::Tensor& lengths) const {
  const auto batch = lengths.numel();
  const double ln_b = std::log(static_cast<double>(batch));
  // The same operations, in the same order, as the reference's features().
  const double fill = static_cast<double>(lengths.sum().item<int64_t>()) / (static_cast<double>(batch) * static_cast<double>(steps));
  const double ln_fill = std::log(std::max(fill, fill_floor_));
  const double equal = lengths.min().item<int64_t>() == lengths.max().item<int64_t>() ? 1.0 : 0.0;
  return {1.0, ln_b, ln_fill, ln_b * ln_fill, equal, ln_b * equal};
}

bool PackingCostModel::has_path(std::string_view model, Packing path) const {
  const auto found = models_.find(model);
  return found != models_.end() && found->second.contains(path);
}

double PackingCostModel::predicted_log_seconds(std::string_view model, Packing path,
                                               const std::vector<double>& features) const {
  const auto found = models_.find(model);
  if (found == models_.end()) reject("model", "has no calibrated cost model (got \"{}\")", model);
  const auto coefficients = found->second.find(path);
  if (coefficients == found->second.end()) {
    reject("model", "{} has no cost model for packing = {}", model, to_string(path));
  }
  double sum = 0.0;
  for (size_t i = 0; i < features.size(); ++i) sum += coefficients->second.at(i) * features[i];
  return sum;
}

Packing PackingCostModel::fastest_path(std::string_view model, int64_t steps, const at::Tensor& lengths) const {
  const auto x = features(steps, lengths);
  auto best = Packing::Never;
  double best_seconds = predicted_log_seconds(model, best, x);
  for (const auto& path : kCostModelPaths) {
    if (!has_path(model, path.packing)) continue;
    const auto seconds = predicted_log_seconds(model, path.packing, x);
    if (seconds < best_seconds) {
      best = path.packing;
      best_seconds = seconds;
    }
  }
  return best;
}

Packing resolve_packing(Packing packing, std::string_view model, const at::Tensor& past_sequence,
                        const std::optional<at::Tensor>& encoder_lengths, const PackingCostModel& cost_model) {
  if (packing != Packing::Calibrated) return packing;
  if (!encoder_lengths) return Packing::Never;
  const auto lengths = checked_lengths(*encoder_lengths, "encoder_lengths",
                                       {.batch = past_sequence.size(0), .max_length = past_sequence.size(1)});
  if (lengths.numel() == 0) return Packing::Never;
  if (c10::DeviceTypeName(past_sequence.device().type(), /*lower_case=*/true) != cost_model.device()) return Packing::Auto;
  return cost_model.fastest_path(model, past_sequence.size(1), lengths);
}

}  // namespace seqpack::models
