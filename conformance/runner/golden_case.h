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

// The case folder `name` under `root` (e.g. "tft/small_static_from_lengths"), with its case.json.
GoldenCase read_case(const std::filesystem::path& root, const std::string& name);

// Every folder below `root` (or below root/family, when a family is named) that holds a
// case.json, sorted by name; names are relative to `root`.
std::vector<GoldenCase> discover_cases(const std::filesystem::path& root, const std::string& family = "");

// Why `actual` differs from the case's expected outputs, or "" when it matches under the case's
// comparison ("exact" to rtol/atol, or "packed_by_meaning" for packs of tied lengths). The one
// golden comparison on the C++ side (golden.py's `differences` is its Python twin): the same
// tensor names; each tensor of the same dtype and shape; floats within rtol/atol with NaN equal
// to NaN, everything else exactly.
std::string mismatch(const GoldenCase& golden, const TensorMap& expected, const TensorMap& actual);

// A case's name as a gtest test name: every character but letters and digits becomes '_'
// ("tft/small" -> "tft_small").
std::string test_name_of(const std::string& case_name);

}  // namespace seqpack::conformance
