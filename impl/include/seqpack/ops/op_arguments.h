#pragma once
// Named inputs and keyword parameters of one `seqpack eval` operation. Each accessor checks the
// type and marks the name as used; finish() rejects any input or parameter the op did not use, so
// a misspelt keyword is an error rather than a silently ignored default.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "seqpack/safetensors.h"

namespace seqpack::ops {

class Inputs {
 public:
  explicit Inputs(const TensorMap& tensors) : tensors_(tensors) {}
  at::Tensor required(const std::string& name);
  std::optional<at::Tensor> optional(const std::string& name);
  void finish(std::string_view op) const;

 private:
  const TensorMap& tensors_;
  std::set<std::string> used_;
};

// A parameter an op asked for, in the order it asked.
struct AskedParam {
  std::string name;
  bool required = false;
};

class Params {
 public:
  explicit Params(const nlohmann::json& values);
  // No values, and a required parameter is not an error: running a reader over it records the
  // names it asks for (asked()), so that `seqpack ops` lists what the reader really reads.
  static Params listing();
  bool get_bool(const std::string& name, bool fallback);
  // Integers are JSON integers that fit int64_t (1.0, 1e3 and 1.5 are refused); `max` is the
  // bound a size must keep so that a typo cannot ask for a model of terabytes.
  std::optional<int64_t> get_optional_int(const std::string& name, int64_t max = INT64_MAX);
  int64_t get_int(const std::string& name, int64_t fallback, int64_t max = INT64_MAX);
  int64_t get_required_int(const std::string& name, int64_t max = INT64_MAX);
  std::optional<double> get_optional_double(const std::string& name);  // a JSON number
  double get_double(const std::string& name, double fallback);
  double get_probability(const std::string& name, double fallback);  // a number in [0, 1): dropout
  std::optional<std::vector<double>> get_optional_double_list(const std::string& name);
  // An integer or a list of integers (Python's `int | tuple[int, ...]`), as a list.
  std::optional<std::vector<int64_t>> get_optional_int_or_list(const std::string& name, int64_t max = INT64_MAX,
                                                               size_t max_items = 64);
  std::string get_string(const std::string& name, const std::string& fallback);
  std::optional<std::string> get_optional_string(const std::string& name);
  std::string get_required_string(const std::string& name);

  // Readers for an options struct's TORCH_ARG fields (whose non-const getter returns T&): each
  // assigns the field only when the key is present and not null, so that the default stays the
  // one the options struct declares. Same checks and messages as the get_* accessors.
  void read(const std::string& name, int64_t& field, int64_t max = INT64_MAX);
  void read(const std::string& name, std::optional<int64_t>& field, int64_t max = INT64_MAX);
  void read(const std::string& name, bool& field);
  void read(const std::string& name, double& field);
  void read(const std::string& name, std::optional<double>& field);
  void read(const std::string& name, std::vector<double>& field);
  void read(const std::string& name, std::string& field);
  void read(const std::string& name, std::vector<int64_t>& field, int64_t max = INT64_MAX, size_t max_items = 64);
  void read_probability(const std::string& name, double& field);  // [0, 1): dropout
  // An enum spelt as a string, through its parser (e.g. parse_alignment), which names "params.<name>".
  template <typename Enum>
  void read(const std::string& name, Enum& field, Enum (*parse)(std::string_view text, std::string_view argument)) {
    if (const auto text = get_optional_string(name)) field = parse(*text, "params." + name);
  }

  const std::vector<AskedParam>& asked() const { return asked_; }
  void finish(std::string_view op) const;

 private:
  // The value, or nullptr when absent or JSON null (Python's None).
  const nlohmann::json* find(const std::string& name);
  void mark_required(const std::string& name);
  const nlohmann::json& values_;
  bool listing_ = false;
  std::set<std::string> used_;
  std::vector<AskedParam> asked_;
};

}  // namespace seqpack::ops
