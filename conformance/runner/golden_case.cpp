#include "golden_case.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/utils/rnn.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace seqpack::conformance {
namespace {

std::string compare_tensor(const std::string& name, const at::Tensor& want, const at::Tensor& got, double rtol,
                           double atol) {
  if (want.scalar_type() != got.scalar_type()) {
    return fmt::format("{}: dtype {} expected, got {}", name, c10::toString(want.scalar_type()),
                       c10::toString(got.scalar_type()));
  }
  if (want.sizes() != got.sizes()) {
    return fmt::format("{}: shape [{}] expected, got [{}]", name, fmt::join(want.sizes(), ", "),
                       fmt::join(got.sizes(), ", "));
  }
  const bool same = at::isFloatingType(want.scalar_type())
                        ? at::allclose(got.cpu(), want, rtol, atol, /*equal_nan=*/true)
                        : at::equal(got.cpu(), want);
  if (same) return "";
  const auto diff = (got.cpu().to(at::kDouble) - want.to(at::kDouble)).abs();
  return fmt::format("{}: values differ (max |diff| {:.3g}, rtol {}, atol {})", name,
                     diff.numel() ? diff.nan_to_num(1e300).max().item<double>() : 0.0, rtol, atol);
}

// Two packs of the same batch agree by meaning when their batch_sizes match and they unpack to the
// same padded batch: the order of tied rows is then free.
std::string compare_packs(const TensorMap& want, const TensorMap& got) {
  if (auto why = compare_tensor("batch_sizes", want.at("batch_sizes"), got.at("batch_sizes"), 0, 0); !why.empty()) {
    return why;
  }
  auto unpack = [](const TensorMap& parts) {
    auto part = [&](const char* name) { return parts.contains(name) ? parts.at(name) : at::Tensor(); };
    const torch::nn::utils::rnn::PackedSequence packed(part("data"), part("batch_sizes"), part("sorted_indices"),
                                                       part("unsorted_indices"));
    return std::get<0>(torch::nn::utils::rnn::pad_packed_sequence(packed, /*batch_first=*/true));
  };
  return compare_tensor("data (unpacked)", unpack(want), unpack(got), 0, 0);
}

}  // namespace

GoldenCase read_case(const std::filesystem::path& root, const std::string& name) {
  const auto folder = root / name;
  std::ifstream in(folder / "case.json");
  if (!in) throw std::runtime_error("no case.json in " + folder.string());
  return {name, folder, nlohmann::json::parse(in)};
}

std::vector<GoldenCase> discover_cases(const std::filesystem::path& root, const std::string& family) {
  std::vector<GoldenCase> cases;
  const auto start = family.empty() ? root : root / family;
  if (!std::filesystem::exists(start)) return cases;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(start)) {
    if (entry.path().filename() != "case.json") continue;
    std::ifstream in(entry.path());
    cases.push_back({std::filesystem::relative(entry.path().parent_path(), root).string(),
                     entry.path().parent_path(), nlohmann::json::parse(in)});
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return cases;
}

std::string mismatch(const GoldenCase& golden, const TensorMap& expected, const TensorMap& actual) {
  for (const auto& [name, tensor] : expected) {
    if (!actual.contains(name)) return fmt::format("{}: expected but not produced", name);
  }
  for (const auto& [name, tensor] : actual) {
    if (!expected.contains(name)) return fmt::format("{}: produced but not expected", name);
  }
  if (golden.meta.at("compare") == "packed_by_meaning") return compare_packs(expected, actual);
  const double rtol = golden.meta.at("rtol");
  const double atol = golden.meta.at("atol");
  for (const auto& [name, tensor] : expected) {
    if (auto why = compare_tensor(name, tensor, actual.at(name), rtol, atol); !why.empty()) return why;
  }
  return "";
}

std::string test_name_of(const std::string& case_name) {
  std::string name = case_name;
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

}  // namespace seqpack::conformance
