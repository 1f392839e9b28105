#pragma once
// The calibrated packing policy (`packing = calibrated`): a cost model of one training step on each
// path (padded, packed, and padding-free where fitted), fitted on the benchmark matrix by
// perf/packing_cost_model.py, and the rule "take the path with the fastest predicted step". The coefficients are
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

// The paths a cost model prices, under their names in the JSON, in the order that breaks a tie:
// padded (Never), packed (Always), padding-free (PaddingFree). The first two are required of every
// model, padding_free is optional.
struct CostModelPath {
  Packing packing;
  std::string_view name;
  bool required;
};
inline constexpr std::array<CostModelPath, 3> kCostModelPaths{
    {{Packing::Never, "padded", true}, {Packing::Always, "packed", true}, {Packing::PaddingFree, "padding_free", false}}};

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
  // ln(seconds per training step) of `model` ("attention_lstm", ...) on one path (Never = padded,
  // Always = packed, PaddingFree); rejects a path the model has no coefficients for.
  double predicted_log_seconds(std::string_view model, Packing path, const std::vector<double>& features) const;
  bool has_path(std::string_view model, Packing path) const;
  // The path with the lowest predicted step among those the model has coefficients for (ties to
  // the earlier of kCostModelPaths): Never, Always or PaddingFree.
  Packing fastest_path(std::string_view model, int64_t steps, const at::Tensor& lengths) const;
  const std::string& device() const { return device_; }

 private:
  std::string device_;
  double fill_floor_ = 0.0;
  std::map<std::string, std::map<Packing, std::vector<double>>, std::less<>> models_;  // path -> coefficients
};

// The path a model's forward takes: Calibrated becomes Always, Never or PaddingFree for the whole
// step (both LSTMs), decided on the encoder batch, as the cost model was measured; without encoder lengths,
// Never; on a device the cost model did not measure, Auto (the original's rule). Other choices
// pass through.
Packing resolve_packing(Packing packing, std::string_view model, const at::Tensor& past_sequence,
                        const std::optional<at::Tensor>& encoder_lengths,
                        const PackingCostModel& cost_model = PackingCostModel::builtin());

}  // namespace seqpack::models
