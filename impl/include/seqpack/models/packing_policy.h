#pragma once
// The calibrated packing policy (`packing = calibrated`): a cost model of one training step on the
// padded and on the packed path, fitted on the benchmark matrix by perf/packing_cost_model.py, and
// the rule "pack iff the predicted packed step is faster". The coefficients are
// perf/packing_cost_model.json, embedded at build time; reference/seqpack_reference/packing_policy.py
// reads the same file, so both sides decide alike.
#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seqpack/models/forecast_model.h"

namespace seqpack::models {

class PackingCostModel {
 public:
  // Rejects (InvalidArgument, argument "cost_model") a model without the expected features,
  // coefficients or device.
  static PackingCostModel from_json(std::string_view text);
  // perf/packing_cost_model.json as it was when seqpack was built.
  static const PackingCostModel& builtin();

  // The regressors for `lengths` (int64, (B,)) padded to `steps`: 1, ln B, ln fill, ln B * ln fill,
  // all-lengths-equal, ln B * all-equal; fill = sum L / (B T), floored so that it stays finite.
  std::vector<double> features(int64_t steps, const at::Tensor& lengths) const;
  // ln(seconds per training step) of `model` ("attention_lstm", ...) on one path.
  double predicted_log_seconds(std::string_view model, bool packed, const std::vector<double>& features) const;
  bool prefers_packing(std::string_view model, int64_t steps, const at::Tensor& lengths) const;
  const std::string& device() const { return device_; }

 private:
  std::string device_;
  double fill_floor_ = 0.0;
  std::map<std::string, std::array<std::vector<double>, 2>, std::less<>> models_;  // {padded, packed}
};

// The path a model's forward takes: Calibrated becomes Always or Never for the whole step (both
// LSTMs), decided on the encoder batch, as the cost model was measured; without encoder lengths,
// Never; on a device the cost model did not measure, Auto (the original's rule). Other choices
// pass through.
Packing resolve_packing(Packing packing, std::string_view model, const at::Tensor& past_sequence,
                        const std::optional<at::Tensor>& encoder_lengths,
                        const PackingCostModel& cost_model = PackingCostModel::builtin());

}  // namespace seqpack::models
