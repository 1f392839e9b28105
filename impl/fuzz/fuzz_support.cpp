#include "fuzz_support.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <tuple>

#include "seqpack/limits.h"
#include "seqpack/ops/registry.h"

namespace seqpack::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kLargestFuzzedSize = 64;

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

uintmax_t size_or_zero(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  return error ? 0 : size;
}

// The folder of each op's smallest "outputs" case under `root`, by (bytes, name).
std::map<std::string, fs::path> smallest_case_per_op(const fs::path& root) {
  std::map<std::string, std::tuple<uintmax_t, std::string, fs::path>> best;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename() != "case.json") continue;
    const auto folder = entry.path().parent_path();
    const auto meta = read_json(entry.path());
    if (meta.value("expect", "") != "outputs") continue;
    const auto key = std::tuple{size_or_zero(folder / "inputs.safetensors") + size_or_zero(folder / "weights.safetensors"),
                                fs::relative(folder, root).generic_string(), folder};
    const auto op = meta.at("op").get<std::string>();
    const auto found = best.find(op);
    if (found == best.end() || key < found->second) best[op] = key;
  }
  std::map<std::string, fs::path> folders;
  for (const auto& [op, key] : best) folders[op] = std::get<2>(key);
  return folders;
}

Golden load_golden(const fs::path& root, const fs::path& folder) {
  const auto meta = read_json(folder / "case.json");
  Golden golden{fs::relative(folder, root).generic_string(), meta.at("op").get<std::string>(), meta.at("params"),
                read_safetensors(folder / "inputs.safetensors").tensors, std::nullopt};
  if (fs::exists(folder / "weights.safetensors")) golden.weights = read_safetensors(folder / "weights.safetensors").tensors;
  return golden;
}

}  // namespace

void init_process() {
  set_limits({.max_tensor_elements = 16 * kMiB, .max_tensor_bytes = 64 * kMiB, .max_file_bytes = 64 * kMiB});
  torch::set_num_threads(1);
}

fs::path cases_root() {
  const char* override_root = std::getenv("SEQPACK_CASES_DIR");
  return override_root ? override_root : SEQPACK_CASES_DIR;
}

const std::vector<Golden>& goldens() {
  static const std::vector<Golden> all = [] {
    const auto root = cases_root();
    const auto folders = smallest_case_per_op(root);
    std::vector<Golden> loaded;
    for (const auto& [op, info] : ops::registry()) {
      if (info.takes_package) continue;
      const auto found = folders.find(op);
      if (found != folders.end()) loaded.push_back(load_golden(root, found->second));
    }
    if (loaded.empty()) {
      std::fprintf(stderr, "fuzz: no golden cases under %s (set SEQPACK_CASES_DIR)\n", root.c_str());
      std::exit(1);
    }
    return loaded;
  }();
  return all;
}

const std::vector<const Golden*>& model_goldens() {
  static const std::vector<const Golden*> models = [] {
    std::vector<const Golden*> found;
    for (const auto& golden : goldens()) {
      if (ops::registry().find(golden.op)->second.takes_weights) found.push_back(&golden);
    }
    return found;
  }();
  return models;
}

bool asks_for_large_model(const nlohmann::json& params) {
  // An explicit stack: fuzzed JSON can nest deeper than the call stack allows.
  std::vector<const nlohmann::json*> pending{&params};
  while (!pending.empty()) {
    const auto& value = *pending.back();
    pending.pop_back();
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(kLargestFuzzedSize)) return true;
    if (value.is_number_integer() && value.get<int64_t>() > kLargestFuzzedSize) return true;
    if (value.is_structured()) {
      for (const auto& item : value) pending.push_back(&item);
    }
  }
  return false;
}

void finding(std::string_view target, std::string_view what) {
  std::fprintf(stderr, "\n%.*s: FINDING: %.*s\n", static_cast<int>(target.size()), target.data(),
               static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace seqpack::fuzz
