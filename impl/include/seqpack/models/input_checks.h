#pragma once
// The checks every model runs on its forward inputs before computing, so that a bad batch is an
// InvalidArgument naming the input (under the name the model's forward gives it), never a shape
// error from deep inside an LSTM.
#include <c10/core/ScalarType.h>

#include <string_view>

#include "seqpack/models/forecast_model.h"

namespace seqpack::models {

struct InputSpec {
  int64_t num_past_features;
  int64_t num_future_features;
  c10::ScalarType dtype;  // the model's parameters' dtype
  std::string_view past_name = "past_sequence";
  std::string_view future_name = "future_sequence";
};

// 3-D sequences of the model's dtype and feature counts with one batch size, and lengths in [0, T]
// (a row of length 0 runs no LSTM step; the original refuses it when it packs). Static covariates
// are the model's own business (only TFT and PFTFT take them).
void check_model_inputs(const ModelInputs& inputs, const InputSpec& spec);

}  // namespace seqpack::models
