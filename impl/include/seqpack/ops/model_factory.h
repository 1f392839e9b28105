#pragma once
// Builds a model from `seqpack eval` / `seqpack init` params (the original's constructor
// hyperparameters, plus packing and packed_lstm for the LSTM family), by its op's name:
// "model.<name>" for each entry of model_registry(). Unknown names are InvalidArgument.
#include <memory>
#include <string_view>

#include "seqpack/models/forecast_model.h"
#include "seqpack/ops/op_arguments.h"

namespace seqpack::ops {

std::shared_ptr<models::ForecastModel> make_model(std::string_view name, Params& params);

}  // namespace seqpack::ops
