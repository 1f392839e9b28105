#pragma once
// What the four fuzz targets share: the process set-up (small limits, one thread), the golden
// cases that give each op real inputs, and the rule that decides what a finding is. The targets
// build as libFuzzer programs (the asan-ubsan preset) or, with replay_main.cpp, as plain programs;
// ctest replays the committed corpus and regressions through them either way.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seqpack/errors.h"
#include "seqpack/safetensors.h"

namespace seqpack::fuzz {

// Small limits (64 MiB per tensor and per file, 16 M elements), so that a hostile size is refused
// before it is allocated and a target stays far below libFuzzer's rss limit; one torch thread.
void init_process();

// conformance/cases, or $SEQPACK_CASES_DIR when set.
std::filesystem::path cases_root();

// One golden case that an op succeeds on: the op's real inputs, params and (model ops) weights.
struct Golden {
  std::string name;  // e.g. "align/auto_from_left_to_right_b1_t5_f1_f32"
  std::string op;
  nlohmann::json params;
  TensorMap inputs;
  std::optional<TensorMap> weights;
};

// One golden per fuzzed op, in registry() order: every op with an "outputs" case except
// compiled.run (which loads native code from a package); for each, its smallest such case
// (inputs + weights bytes, then name), so that model ops stay small and fast. Loaded once.
// make_seeds.py applies the same rule, so that a seed's first byte names the same op.
const std::vector<Golden>& goldens();
// The goldens of the ops that take weights (the models), in the same order.
const std::vector<const Golden*>& model_goldens();

// The item a selector byte picks (byte modulo the count).
template <typename T>
const T& pick(const std::vector<T>& items, uint8_t selector) {
  return items[selector % items.size()];
}

// True when the params ask for an integer above 64 anywhere. Model ops (and `seqpack init`) build
// the model before anything else is checked, and seqpack's bounds on model sizes (d_model up to
// 4096, 16 layers) allow models of gigabytes by design: the harness skips those inputs rather than
// spend its memory and time on them.
bool asks_for_large_model(const nlohmann::json& params);

// Reports a finding: prints it and aborts, so that libFuzzer saves the input as a crash.
[[noreturn]] void finding(std::string_view target, std::string_view what);

// The rule of every target: `body` may succeed or throw InvalidArgument (the expected outcome of
// bad input); any other exception is a seqpack bug.
template <typename Body>
void expect_only_bad_input(std::string_view target, Body&& body) {
  try {
    body();
  } catch (const InvalidArgument&) {
  } catch (const std::exception& error) {
    finding(target, std::string("an exception other than InvalidArgument: ") + error.what());
  } catch (...) {
    finding(target, "an exception that is not a std::exception");
  }
}

inline std::string as_string(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace seqpack::fuzz
