#pragma once
// Small float64 LSTM-family models and left-aligned batches for the model tests.
#include <ATen/ATen.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "seqpack/models/model_registry.h"

namespace seqpack::testing {

constexpr int64_t kPast = 3, kFuture = 2;

// An entry's small configuration (model_registry.h) with the given overrides, built.
inline std::shared_ptr<models::ForecastModel> build_small(const models::ModelEntry& entry,
                                                          const nlohmann::json& overrides = nlohmann::json::object()) {
  auto config = entry.small_config;
  config.update(overrides);
  ops::Params params(config);
  auto model = entry.build(params);
  params.finish(entry.op());
  return model;
}

// The LSTM family's small configurations, float64, in eval mode, under the original's class names,
// in registry order. `dropout` replaces every dropout of the configuration (0 there).
inline std::vector<std::pair<std::string, std::shared_ptr<models::ForecastModel>>> small_models(
    models::Packing packing, double dropout = 0.0,
    models::PackedLstm packed_lstm = models::PackedLstm::PyTorch) {
  std::vector<std::pair<std::string, std::shared_ptr<models::ForecastModel>>> all;
  for (const auto* entry : models::models_of(models::ModelFamily::Lstm)) {
    // The batches below are built for kPast and kFuture features.
    nlohmann::json overrides{{"num_past_features", kPast},
                             {"num_future_features", kFuture},
                             {"packing", std::string(models::to_string(packing))},
                             {"packed_lstm", std::string(models::to_string(packed_lstm))}};
    for (const auto& item : entry->small_config.items()) {
      if (item.key().ends_with("dropout")) overrides[item.key()] = dropout;
    }
    auto model = build_small(*entry, overrides);
    model->to(at::kDouble);
    model->eval();
    all.emplace_back(entry->original_class, model);
  }
  return all;
}

// One of small_models(), by the original's class name ("EncoderDecoderLSTM").
inline std::shared_ptr<models::ForecastModel> small_model(const std::string& original_class,
                                                          models::Packing packing = models::Packing::Auto) {
  for (auto& [name, model] : small_models(packing)) {
    if (name == original_class) return model;
  }
  throw std::logic_error("no small model " + original_class);
}

// Row i holds lengths[i] random steps from step 0, zeros after.
inline at::Tensor left_aligned(const std::vector<int64_t>& lengths, int64_t steps, int64_t features) {
  auto x = at::randn({static_cast<int64_t>(lengths.size()), steps, features}, at::kDouble);
  for (size_t row = 0; row < lengths.size(); ++row) x[row].slice(0, lengths[row]).zero_();
  return x;
}

inline models::ModelInputs batch(const std::vector<int64_t>& encoder, const std::vector<int64_t>& decoder,
                                 int64_t te, int64_t td) {
  return {left_aligned(encoder, te, kPast), left_aligned(decoder, td, kFuture), at::tensor(encoder, at::kLong),
          at::tensor(decoder, at::kLong)};
}

}  // namespace seqpack::testing
