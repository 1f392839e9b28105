#pragma once
// Builds a model from `seqpack eval` params: the original's constructor hyperparameters plus
// `packing`. Names: model.attention_lstm, model.encoder_decoder_lstm, model.transformer_lstm.
#include <memory>
#include <string_view>

#include "seqpack/models/forecast_model.h"
#include "seqpack/ops/op_arguments.h"

namespace seqpack::ops {

std::shared_ptr<models::ForecastModel> make_model(std::string_view name, Params& params);

}  // namespace seqpack::ops
