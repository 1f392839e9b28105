#pragma once
// How the runner reruns the goldens, from the environment (as SEQPACK_CASE_FAMILY and
// SEQPACK_EXTRA_PARAMS): SEQPACK_DEVICE=cpu|cuda|cuda:N (default cpu) runs every op on that device,
// its inputs moved there and its results brought back; SEQPACK_PRECISION=float32|bfloat16|float16
// (default float32) reruns the model ops' float64 cases in float32 under autocast, compared by the
// normwise rule of conformance/autocast_tolerances.json.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "golden_case.h"
#include "seqpack/precision.h"

namespace seqpack::conformance {

struct RunSettings {
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  Precision precision = Precision::Float32;
  nlohmann::json tolerances;  // autocast_tolerances.json, read when precision is not float32
  nlohmann::json refusals;    // autocast_refusals.json, likewise
};

// Parsed once; a bad value (or a CUDA device this machine lacks) ends the process with one line
// on stderr and exit status 2, before any test runs.
const RunSettings& run_settings();

// Every tensor on `device` (a pack's batch_sizes stay on the CPU); floating ones cast to `floating`
// unless it is Undefined.
TensorMap moved(const TensorMap& tensors, c10::Device device, c10::ScalarType floating = c10::ScalarType::Undefined);

// Why `actual` (float32 under autocast) differs from the float64 `expected` beyond the normwise
// rule, "" when it matches: every expected tensor present, of the same shape, and
// max |got - expected| <= tolerance * max(max |expected|, floor), the tolerance by the precision,
// the model's family ("lstm" or "tft") and the quantity (output, loss, gradients).
// Under autocast: the message PyTorch refuses this case with on this device type
// (conformance/autocast_refusals.json, written by seqpack_reference.autocast_runs), if it does.
std::optional<std::string> expected_refusal(const GoldenCase& golden, const RunSettings& settings);
// Whether the case has a recorded refusal, but not for this device type.
bool refusal_measured_elsewhere(const GoldenCase& golden, const RunSettings& settings);

std::string autocast_mismatch(const GoldenCase& golden, const TensorMap& expected, const TensorMap& actual,
                              const RunSettings& settings);

}  // namespace seqpack::conformance
