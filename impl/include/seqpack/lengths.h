#pragma once
// Checking the per-row lengths that every sequence function takes. transformertf passes them as
// float or integer tensors of shape (B,) or (B, 1); all of these are accepted, and a value that is
// not an integer, is NaN, negative, or longer than the padded length is rejected, naming its row.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace seqpack {

struct LengthRules {
  int64_t batch = -1;                    // expected B; -1: any
  std::optional<int64_t> max_length;     // reject L > this (the padded length T)
  bool allow_zero = true;                // false where a row of length 0 cannot be handled
};

// Returns the lengths as a contiguous int64 CPU tensor of shape (B,). One host copy of B values;
// no per-row synchronisation.
// The rules for one value (the length of `row`); checked_lengths applies it to every row.
void check_length_value(double value, std::string_view argument, int64_t row, const LengthRules& rules);

at::Tensor checked_lengths(const at::Tensor& lengths, std::string_view argument, const LengthRules& rules);

}  // namespace seqpack
