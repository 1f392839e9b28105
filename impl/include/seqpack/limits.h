#pragma once
// Resource limits on what input may ask for, checked before memory is committed: a file or a
// header can name any size, and a typo in a parameter can ask for terabytes. The defaults are
// generous for this suite's work (the largest golden tensor is a few MiB) and can be raised:
// `seqpack eval --max-tensor-bytes N --max-tensor-elements N --max-file-bytes N`, or set_limits().
#include <cstdint>
#include <string_view>

#include <c10/core/ScalarType.h>
#include <c10/util/ArrayRef.h>

namespace seqpack {

struct Limits {
  int64_t max_tensor_elements = int64_t{1} << 31;  // per tensor read or made from a user-given size
  int64_t max_tensor_bytes = int64_t{4} << 30;     // 4 GiB per tensor
  int64_t max_file_bytes = int64_t{8} << 30;       // 8 GiB per input file (safetensors, params)
};

const Limits& limits();
// Replaces the process's limits; each must be positive.
void set_limits(const Limits& limits);

// a * b, or InvalidArgument naming `argument` when the product of non-negative sizes overflows.
int64_t checked_multiply(int64_t a, int64_t b, std::string_view argument);

// The element count of a tensor of `shape` and `type`, checked: no negative dimension, no
// overflow, and within the limits on elements and bytes. Rejects naming `argument` and the limit.
int64_t checked_numel(c10::IntArrayRef shape, c10::ScalarType type, std::string_view argument);

}  // namespace seqpack
