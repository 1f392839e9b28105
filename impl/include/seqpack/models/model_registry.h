#pragma once
// One descriptor per model. Everything that needs "every model" (the `model.<name>` ops and
// `seqpack ops`, `seqpack init`, the benchmarks and instruction-count gate, the tests and fuzzers)
// iterates model_registry(); a model's defaults live only in its options struct, whose reader
// assigns a field only when the params name it.
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "seqpack/models/forecast_model.h"
#include "seqpack/ops/op_arguments.h"

namespace seqpack::models {

enum class ModelFamily {
  // Left-aligned past_sequence / future_sequence; padded, packed, segmented and stepwise LSTM paths
  // (the options' packing and packed_lstm).
  Lstm,
  // past_covariates (right-aligned unless encoder_alignment = left) / future_covariates; some
  // take static_covariates.
  TemporalFusion,
};

struct ModelEntry {
  std::string name;            // "attention_lstm"; its op is "model.<name>"
  std::string original_class;  // the original's class, "AttentionLSTM"
  ModelFamily family = ModelFamily::Lstm;
  bool takes_static_covariates = false;  // its forward uses static_covariates (TFT, PFTFT)
  // Reads the options from params and builds the model (float32, freshly initialised). Unknown
  // keys are left for Params::finish to refuse.
  std::function<std::shared_ptr<ForecastModel>(ops::Params&)> build;
  // Reads the options only: over Params::listing() it records the parameters the reader asks for.
  std::function<void(ops::Params&)> read_options;
  // A small float64-friendly configuration with dropout 0, for tests and fuzzers.
  nlohmann::json small_config;

  std::string op() const { return "model." + name; }
  // The forward's sequence inputs, by the original's names.
  const char* past_input() const { return family == ModelFamily::Lstm ? "past_sequence" : "past_covariates"; }
  const char* future_input() const { return family == ModelFamily::Lstm ? "future_sequence" : "future_covariates"; }
  // The constructor parameters the reader asks for, in its order, required ones marked.
  std::vector<ops::AskedParam> parameters() const;
};

// Every model, LSTM family first, in a fixed order.
const std::vector<ModelEntry>& model_registry();

// The entries of one family, in registry order.
std::vector<const ModelEntry*> models_of(ModelFamily family);

// The entry named `name` ("attention_lstm", not the op's name); nullptr when none.
const ModelEntry* find_model(std::string_view name);

}  // namespace seqpack::models
