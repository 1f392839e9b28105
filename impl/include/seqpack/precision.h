#pragma once
// The precision a model computes in: float32 as written, or PyTorch's automatic mixed precision
// (autocast) in bfloat16 or float16, exactly as `with torch.autocast(device_type, dtype)` runs it,
// so that seqpack and the Python benchmarks measure the same arithmetic.
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <string_view>

namespace seqpack {

enum class Precision { Float32, BFloat16, Float16 };

// "float32" | "bfloat16" | "float16"; anything else is rejected in one line naming `argument`.
Precision parse_precision(std::string_view text, std::string_view argument);
std::string_view to_string(Precision precision);
// The dtype autocast computes in: Float for float32 (autocast off), BFloat16, Half.
c10::ScalarType autocast_dtype(Precision precision);

// Autocast on one device type for the guard's lifetime, as `with torch.autocast(device_type, dtype)`;
// float32: does nothing. Restores the previous state on exit (and clears the cast cache when
// leaving the outermost autocast region, as torch.autocast's __exit__ does).
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device_type, Precision precision);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_type_;
  bool active_;  // false for float32: nothing was changed, so nothing is restored
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Undefined;
  bool previous_cache_enabled_ = true;
};

}  // namespace seqpack
