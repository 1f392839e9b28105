#include "seqpack/lengths.h"

#include <ATen/ATen.h>

#include <cmath>

#include "seqpack/errors.h"

namespace seqpack {

void check_length_value(double v, std::string_view argument, int64_t row, const LengthRules& rules) {
  if (std::isnan(v)) reject(argument, "must not be NaN (row {})", row);
  if (v != std::floor(v)) reject(argument, "must hold whole numbers (row {} is {})", row, v);
  if (v < 0) reject(argument, "must not be negative (row {} is {})", row, v);
  if (v > 0x1p53) reject(argument, "must be below 2^53 (row {} is {})", row, v);
  if (v == 0 && !rules.allow_zero) reject(argument, "must be at least 1 here (row {} is 0)", row);
  if (rules.max_length && v > static_cast<double>(*rules.max_length)) {
    reject(argument, "must not exceed the padded length T = {} (row {} is {})", *rules.max_length, row, v);
  }
}

at::Tensor checked_lengths(const at::Tensor& lengths, std::string_view argument, const LengthRules& rules) {
  if (!lengths.defined()) reject(argument, "is required");
  const bool column = lengths.dim() == 2 && lengths.size(1) == 1;
  if (lengths.dim() != 1 && !column) {
    reject(argument, "must have shape (B,) or (B, 1) (got {})", fmt::join(lengths.sizes(), "x"));
  }
  const auto type = lengths.scalar_type();
  const bool floating = at::isFloatingType(type);
  if (!floating && !at::isIntegralType(type, /*includeBool=*/false)) {
    reject(argument, "must be an integer or floating tensor (got {})", c10::toString(type));
  }
  const auto flat = lengths.reshape({-1});
  if (rules.batch >= 0 && flat.size(0) != rules.batch) {
    reject(argument, "must have one length per row: batch size is {} (got {} lengths)", rules.batch, flat.size(0));
  }
  // Checks run on float64 host values: exact for every integer a float64 holds, and a float
  // length that is not an integer stays visibly fractional.
  const auto host = flat.to(at::kCPU, at::kDouble).contiguous();
  const double* value = host.data_ptr<double>();
  for (int64_t row = 0; row < host.size(0); ++row) check_length_value(value[row], argument, row, rules);
  return host.to(at::kLong);
}

}  // namespace seqpack
