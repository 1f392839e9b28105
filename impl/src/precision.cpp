#include "seqpack/precision.h"

#include <ATen/autocast_mode.h>

#include "seqpack/errors.h"

namespace seqpack {

Precision parse_precision(std::string_view text, std::string_view argument) {
  if (text == "float32") return Precision::Float32;
  if (text == "bfloat16") return Precision::BFloat16;
  if (text == "float16") return Precision::Float16;
  reject(argument, "must be float32, bfloat16 or float16, got \"{}\"", printable(text, 40));
}

std::string_view to_string(Precision precision) {
  switch (precision) {
    case Precision::Float32: return "float32";
    case Precision::BFloat16: return "bfloat16";
    case Precision::Float16: return "float16";
  }
  return "unknown";
}

c10::ScalarType autocast_dtype(Precision precision) {
  switch (precision) {
    case Precision::Float32: return c10::ScalarType::Float;
    case Precision::BFloat16: return c10::ScalarType::BFloat16;
    case Precision::Float16: return c10::ScalarType::Half;
  }
  return c10::ScalarType::Float;
}

// The same calls, in the same order, as torch.autocast's __enter__ and __exit__.
AutocastGuard::AutocastGuard(c10::DeviceType device_type, Precision precision)
    : device_type_(device_type), active_(precision != Precision::Float32) {
  if (!active_) return;
  previous_cache_enabled_ = at::autocast::is_autocast_cache_enabled();
  previous_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  at::autocast::set_autocast_enabled(device_type_, true);
  at::autocast::set_autocast_dtype(device_type_, autocast_dtype(precision));
  at::autocast::increment_nesting();
  at::autocast::set_autocast_cache_enabled(true);
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // Casts of the weights are cached for the whole outermost region, then dropped.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_type_, previous_enabled_);
  at::autocast::set_autocast_dtype(device_type_, previous_dtype_);
  at::autocast::set_autocast_cache_enabled(previous_cache_enabled_);
}

}  // namespace seqpack
