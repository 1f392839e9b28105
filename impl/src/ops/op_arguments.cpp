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
    if (!used_.contains(name)) reject("inputs", "op {} takes no tensor named \"{}\"", op, printable(name, 80));
  }
}

Params::Params(const nlohmann::json& values) : values_(values) {
  if (!values_.is_null() && !values_.is_object()) reject("params", "must be a JSON object");
}

Params Params::listing() {
  static const nlohmann::json kNoValues;
  Params params(kNoValues);
  params.listing_ = true;
  return params;
}

const nlohmann::json* Params::find(const std::string& name) {
  if (used_.insert(name).second) asked_.push_back({name});
  if (values_.is_null()) return nullptr;
  const auto found = values_.find(name);
  if (found == values_.end() || found->is_null()) return nullptr;
  return &*found;
}

bool Params::get_bool(const std::string& name, bool fallback) {
  const auto* value = find(name);
  if (!value) return fallback;
  if (!value->is_boolean()) reject("params." + name, "must be true or false (got {})", printable(value->dump(), 80));
  return value->get<bool>();
}

namespace {

// A JSON integer that fits int64_t; a fraction (1.5), an exponent form (1e3) or a number past
// 2^63 - 1 is refused, never rounded or wrapped.
std::optional<int64_t> whole(const nlohmann::json& value) {
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<int64_t>();
}

}  // namespace

std::optional<int64_t> Params::get_optional_int(const std::string& name, int64_t max) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  const auto number = whole(*value);
  if (!number) reject("params." + name, "must be an integer from -2^63 to 2^63 - 1 (got {})", printable(value->dump(), 80));
  if (*number > max) reject("params." + name, "must be at most {} (seqpack's bound on this size; got {})", max, *number);
  return number;
}

int64_t Params::get_int(const std::string& name, int64_t fallback, int64_t max) {
  return get_optional_int(name, max).value_or(fallback);
}

void Params::mark_required(const std::string& name) {
  for (auto& asked : asked_) {
    if (asked.name == name) asked.required = true;
  }
}

int64_t Params::get_required_int(const std::string& name, int64_t max) {
  const auto value = get_optional_int(name, max);
  mark_required(name);
  if (!value && listing_) return 0;
  if (!value) reject("params." + name, "is required");
  return *value;
}

std::optional<double> Params::get_optional_double(const std::string& name) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  if (!value->is_number()) reject("params." + name, "must be a number (got {})", printable(value->dump(), 80));
  return value->get<double>();
}

double Params::get_double(const std::string& name, double fallback) {
  return get_optional_double(name).value_or(fallback);
}

std::optional<std::vector<double>> Params::get_optional_double_list(const std::string& name) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  if (!value->is_array()) reject("params." + name, "must be a list of numbers (got {})", printable(value->dump(), 80));
  std::vector<double> numbers;
  for (const auto& item : *value) {
    if (!item.is_number()) reject("params." + name, "must be a list of numbers (got {})", printable(value->dump(), 80));
    numbers.push_back(item.get<double>());
  }
  return numbers;
}

std::optional<std::vector<int64_t>> Params::get_optional_int_or_list(const std::string& name, int64_t max,
                                                                    size_t max_items) {
  const auto* value = find(name);
  if (!value) return std::nullopt;
  std::vector<int64_t> numbers;
  if (const auto one = whole(*value)) numbers.push_back(*one);
  if (value->is_array() && value->size() <= max_items) {
    for (const auto& item : *value) {
      const auto number = whole(item);
      if (!number) break;
      numbers.push_back(*number);
    }
  }
  if (value->is_array() ? numbers.size() != value->size() : numbers.empty()) {
    reject("params." + name, "must be an integer or a list of at most {} integers (got {})", max_items,
           printable(value->dump(), 80));
  }
  for (const auto number : numbers) {
    if (number > max) reject("params." + name, "must hold sizes of at most {} (seqpack's bound; got {})", max, number);
  }
  return numbers;
}

double Params::get_probability(const std::string& name, double fallback) {
  const double value = get_double(name, fallback);
  if (!(value >= 0.0 && value < 1.0)) reject("params." + name, "must be a probability in [0, 1) (got {})", value);
  return value;
}

std::string Params::get_string(const std::string& name, const std::string& fallback) {
  const auto* value = find(name);
  if (!value) return fallback;
  if (!value->is_string()) reject("params." + name, "must be a string (got {})", printable(value->dump(), 80));
  return value->get<std::string>();
}

std::optional<std::string> Params::get_optional_string(const std::string& name) {
  if (!find(name)) return std::nullopt;
  return get_string(name, "");
}

std::string Params::get_required_string(const std::string& name) {
  const auto* value = find(name);
  mark_required(name);
  if (!value && listing_) return "";
  if (!value) reject("params." + name, "is required");
  return get_string(name, "");
}

void Params::read(const std::string& name, int64_t& field, int64_t max) {
  if (const auto value = get_optional_int(name, max)) field = *value;
}

void Params::read(const std::string& name, std::optional<int64_t>& field, int64_t max) {
  if (const auto value = get_optional_int(name, max)) field = *value;
}

void Params::read(const std::string& name, bool& field) { field = get_bool(name, field); }

void Params::read(const std::string& name, double& field) { field = get_double(name, field); }

void Params::read(const std::string& name, std::optional<double>& field) {
  if (const auto value = get_optional_double(name)) field = *value;
}

void Params::read(const std::string& name, std::vector<double>& field) {
  if (auto value = get_optional_double_list(name)) field = std::move(*value);
}

void Params::read(const std::string& name, std::string& field) { field = get_string(name, field); }

void Params::read(const std::string& name, std::vector<int64_t>& field, int64_t max, size_t max_items) {
  if (auto value = get_optional_int_or_list(name, max, max_items)) field = std::move(*value);
}

void Params::read_probability(const std::string& name, double& field) {
  if (find(name)) field = get_probability(name, field);
}

void Params::finish(std::string_view op) const {
  if (values_.is_null()) return;
  for (const auto& [name, value] : values_.items()) {
    if (!used_.contains(name)) reject("params", "op {} has no parameter \"{}\"", op, printable(name, 80));
  }
}

}  // namespace seqpack::ops
