#include "run_settings.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "seqpack/device_names.h"
#include "seqpack/errors.h"
#include "seqpack/models/model_registry.h"

namespace seqpack::conformance {

namespace {

RunSettings read_settings() {
  RunSettings settings;
  if (const char* device = std::getenv("SEQPACK_DEVICE")) settings.device = parse_device(device, "SEQPACK_DEVICE");
  if (const char* precision = std::getenv("SEQPACK_PRECISION")) {
    settings.precision = parse_precision(precision, "SEQPACK_PRECISION");
  }
  if (settings.device.is_cuda()) {
    // The goldens come from the CPU in full float32/float64: TF32 would round matmul and cuDNN
    // inputs to 10 bits and fail float32 cases for a reason that is not seqpack's.
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
  }
  if (settings.precision != Precision::Float32) {
    std::ifstream file(SEQPACK_AUTOCAST_TOLERANCES);
    if (!file) reject("SEQPACK_PRECISION", "cannot read the tolerances {}", SEQPACK_AUTOCAST_TOLERANCES);
    settings.tolerances = nlohmann::json::parse(file);
    if (!settings.tolerances.contains(std::string(to_string(settings.precision)))) {
      reject("SEQPACK_PRECISION", "{} has no tolerances in {}", to_string(settings.precision), SEQPACK_AUTOCAST_TOLERANCES);
    }
    std::ifstream refusals(SEQPACK_AUTOCAST_REFUSALS);
    if (!refusals) reject("SEQPACK_PRECISION", "cannot read the refusals {}", SEQPACK_AUTOCAST_REFUSALS);
    settings.refusals = nlohmann::json::parse(refusals);
  }
  return settings;
}

}  // namespace

const RunSettings& run_settings() {
  static const RunSettings settings = [] {
    try {
      return read_settings();
    } catch (const InvalidArgument& error) {
      std::fprintf(stderr, "conformance_runner: %s\n", error.what());
      std::exit(2);
    }
  }();
  return settings;
}

TensorMap moved(const TensorMap& tensors, c10::Device device, c10::ScalarType floating) {
  TensorMap out;
  for (const auto& [name, tensor] : tensors) {
    const bool cast = floating != c10::ScalarType::Undefined && at::isFloatingType(tensor.scalar_type());
    // A pack's batch_sizes live on the CPU on every device, as PyTorch's PackedSequence keeps them.
    out[name] = tensor.to(name == "batch_sizes" ? c10::Device(c10::kCPU) : device, cast ? floating : tensor.scalar_type());
  }
  return out;
}

std::optional<std::string> expected_refusal(const GoldenCase& golden, const RunSettings& settings) {
  const auto& by_case = settings.refusals.value(std::string(to_string(settings.precision)), nlohmann::json::object());
  const auto found = by_case.find(golden.name);
  if (found == by_case.end()) return std::nullopt;
  const auto& devices = found->at("devices");
  const auto device = settings.device.is_cuda() ? "cuda" : "cpu";
  if (std::find(devices.begin(), devices.end(), device) == devices.end()) return std::nullopt;
  return found->at("message").get<std::string>();
}

bool refusal_measured_elsewhere(const GoldenCase& golden, const RunSettings& settings) {
  const auto& by_case = settings.refusals.value(std::string(to_string(settings.precision)), nlohmann::json::object());
  return by_case.contains(golden.name) && !expected_refusal(golden, settings);
}

std::string autocast_mismatch(const GoldenCase& golden, const TensorMap& expected, const TensorMap& actual,
                              const RunSettings& settings) {
  const auto& op = golden.meta.at("op").get_ref<const std::string&>();
  const auto* entry = models::find_model(op.substr(std::string("model.").size()));
  const std::string family = entry && entry->family == models::ModelFamily::TemporalFusion ? "tft" : "lstm";
  const auto& by_group = settings.tolerances.at(std::string(to_string(settings.precision)));
  // A "<family>/<configuration>" entry holds for the cases of that configuration (the case's name
  // after its folder starts with it); "<family>/trained" for the cases that train
  // (params.training_steps); the family's entry for the others.
  const auto leaf = golden.name.substr(golden.name.find('/') + 1);
  const nlohmann::json* chosen = &by_group.at(family);
  for (const auto& [group, entry_tolerances] : by_group.items()) {
    if (group.rfind(family + "/", 0) == 0 && leaf.rfind(group.substr(family.size() + 1), 0) == 0) {
      chosen = &entry_tolerances;
    }
  }
  if (golden.meta.at("params").contains("training_steps") && by_group.contains(family + "/trained")) {
    chosen = &by_group.at(family + "/trained");
  }
  const auto& by_quantity = *chosen;
  const double floor = settings.tolerances.at("floor").at("value").get<double>();
  std::string why;
  for (const auto& [name, want] : expected) {
    const auto quantity = name == "output" ? "output" : name == "loss" ? "loss" : "gradients";
    const double tolerance = by_quantity.at(quantity).at("tolerance").get<double>();
    const auto found = actual.find(name);
    if (found == actual.end()) {
      why += fmt::format("{}: missing; ", name);
      continue;
    }
    const auto got = found->second.to(at::kCPU, at::kDouble);
    if (got.sizes() != want.sizes()) {
      why += fmt::format("{}: shape [{}], expected [{}]; ", name, fmt::join(got.sizes(), ", "), fmt::join(want.sizes(), ", "));
      continue;
    }
    if (want.numel() == 0) continue;
    const auto expected_double = want.to(at::kDouble);
    const double error = (got - expected_double).abs().max().item<double>();
    const double scale = std::max(expected_double.abs().max().item<double>(), floor);
    if (!(error <= tolerance * scale)) {
      why += fmt::format("{}: max |got - expected| = {:.3g} > {} * {:.3g} ({} {} tolerance); ", name, error, tolerance,
                         scale, to_string(settings.precision), quantity);
    }
  }
  return why;
}

}  // namespace seqpack::conformance
