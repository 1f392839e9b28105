#include "seqpack/limits.h"

#include "seqpack/errors.h"

namespace seqpack {
namespace {

Limits& current() {
  static Limits value;
  return value;
}

}  // namespace

const Limits& limits() { return current(); }

void set_limits(const Limits& limits) {
  for (auto [value, name] : {std::pair{limits.max_tensor_elements, "max_tensor_elements"},
                             {limits.max_tensor_bytes, "max_tensor_bytes"}, {limits.max_file_bytes, "max_file_bytes"}}) {
    if (value < 1) reject(name, "must be a positive number (got {})", value);
  }
  current() = limits;
}

int64_t checked_multiply(int64_t a, int64_t b, std::string_view argument) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) {
    reject(argument, "asks for a size that overflows 64 bits ({} x {})", a, b);
  }
  return product;
}

int64_t checked_numel(c10::IntArrayRef shape, c10::ScalarType type, std::string_view argument) {
  const auto& limit = limits();
  int64_t numel = 1;
  bool empty = false;
  for (const auto size : shape) {
    if (size < 0) reject(argument, "has a negative dimension ({})", size);
    if (size == 0) empty = true;
  }
  if (empty) return 0;  // no bytes, whatever the other dimensions say
  for (const auto size : shape) {
    if (__builtin_mul_overflow(numel, size, &numel) || numel > limit.max_tensor_elements) {
      reject(argument, "asks for more than {} elements (seqpack's limit per tensor; --max-tensor-elements raises it)",
             limit.max_tensor_elements);
    }
  }
  const auto bytes = static_cast<__int128>(numel) * static_cast<__int128>(c10::elementSize(type));
  if (bytes > limit.max_tensor_bytes) {
    reject(argument, "asks for {} bytes, more than {} (seqpack's limit per tensor; --max-tensor-bytes raises it)",
           static_cast<int64_t>(bytes), limit.max_tensor_bytes);
  }
  return numel;
}

}  // namespace seqpack
