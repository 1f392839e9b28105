#include "seqpack/ops/op_arguments.h"

#include "seqpack/errors.h"

namespace seqpack::ops {

at::Tensor Inputs::required(const std::string& name) {
  auto tensor = optional(name);
  if (!tensor) reject("inputs", "missing the required tensor \"{}\"", name);
  return *tensor;
}

std::optional<at::Tensor> Inputs::optional(const std::string& name) {
  used_.insert(name);
  const auto found = tensors_.find(name);
  if (found == tensors_.end()) return std::nullopt;
  return found->second;
}

void Inputs::finish(std::string_view op) const {
  for (const auto& [name, tensor] : tensors_) {
    if (!used_.contains(name)) reject("inputs", "op {} takes no tensor named \"{}\"", op, name);
  }
}

Params::Params(const nlohmann::json& values) : values_(values) {
  if (!values_.is_null() && !values_.is_object()) reject("params", "must be a JSON object");
}

const nlohmann::json* Params::find(const std::string& name) {
  used_.insert(name);
  if (values_.is_null()) return nullptr;
  const auto found = values_.find(name);
  if (found == values_.end() || found->is_null()) return nullptr;
  return &*found;
}

bool Params::get_bool(const std::string& name, bool fallback) {
  const auto* value = find(name);
  if (!value) return fallback;
  if (!value->is_boolean()) reject("params." + name, "must be true or false (got {})", value->dump());
  return value->get<bool>();
}

std::optional<int64_t> Params::get_optional_int(const std::string& name) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  if (!value->is_number_integer()) reject("params." + name, "must be an integer (got {})", value->dump());
  return value->get<int64_t>();
}

int64_t Params::get_int(const std::string& name, int64_t fallback) {
  return get_optional_int(name).value_or(fallback);
}

int64_t Params::get_required_int(const std::string& name) {
  const auto value = get_optional_int(name);
  if (!value) reject("params." + name, "is required");
  return *value;
}

std::optional<double> Params::get_optional_double(const std::string& name) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  if (!value->is_number()) reject("params." + name, "must be a number (got {})", value->dump());
  return value->get<double>();
}

double Params::get_double(const std::string& name, double fallback) {
  return get_optional_double(name).value_or(fallback);
}

std::optional<std::vector<double>> Params::get_optional_double_list(const std::string& name) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  if (!value->is_array()) reject("params." + name, "must be a list of numbers (got {})", value->dump());
  std::vector<double> numbers;
  for (const auto& item : *value) {
    if (!item.is_number()) reject("params." + name, "must be a list of numbers (got {})", value->dump());
    numbers.push_back(item.get<double>());
  }
  return numbers;
}

std::optional<std::vector<int64_t>> Params::get_optional_int_or_list(const std::string& name) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  if (value->is_number_integer()) return std::vector<int64_t>{value->get<int64_t>()};
  std::vector<int64_t> numbers;
  if (value->is_array()) {
    for (const auto& item : *value) {
      if (!item.is_number_integer()) break;
      numbers.push_back(item.get<int64_t>());
    }
    if (numbers.size() == value->size()) return numbers;
  }
  reject("params." + name, "must be an integer or a list of integers (got {})", value->dump());
}

std::string Params::get_string(const std::string& name, const std::string& fallback) {
  const auto* value = find(name);
  if (!value) return fallback;
  if (!value->is_string()) reject("params." + name, "must be a string (got {})", value->dump());
  return value->get<std::string>();
}

std::string Params::get_required_string(const std::string& name) {
  const auto* value = find(name);
  if (!value) reject("params." + name, "is required");
  return get_string(name, "");
}

void Params::finish(std::string_view op) const {
  if (values_.is_null()) return;
  for (const auto& [name, value] : values_.items()) {
    if (!used_.contains(name)) reject("params", "op {} has no parameter \"{}\"", op, name);
  }
}

}  // namespace seqpack::ops
