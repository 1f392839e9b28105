#pragma once
// One golden case folder, as reference/seqpack_reference/golden.py writes it.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "seqpack/safetensors.h"

namespace seqpack::conformance {

struct GoldenCase {
  std::string name;  // path under the cases root, e.g. "align/auto_flaw_leading_zeros_to_left"
  std::filesystem::path folder;
  nlohmann::json meta;  // case.json
};

// gtest prints a case by its name, not its bytes.
inline void PrintTo(const GoldenCase& golden, std::ostream* out) { *out << golden.name; }

// Every folder below `root` (or below root/family, when a family is named) that holds a
// case.json, sorted by name; names are relative to `root`.
std::vector<GoldenCase> discover_cases(const std::filesystem::path& root, const std::string& family = "");

// Why `actual` differs from the case's expected outputs, or "" when it matches under the case's
// comparison ("exact" to rtol/atol, or "packed_by_meaning" for packs of tied lengths).
std::string mismatch(const GoldenCase& golden, const TensorMap& expected, const TensorMap& actual);

}  // namespace seqpack::conformance
