#pragma once
// Which steps of a (B, T, *) batch count as padding: every value allclose to 0 with PyTorch's
// default tolerances (rtol 1e-5, atol 1e-8), computed by at::isclose itself so that every dtype
// rounds as torch.allclose does. The original guesses alignment and validates with this test.
#include <ATen/ATen.h>

namespace seqpack::detail {

inline at::Tensor zero_steps(const at::Tensor& sequences) {
  auto close = at::isclose(sequences, at::zeros_like(sequences), 1e-5, 1e-8, /*equal_nan=*/false);
  return sequences.dim() == 2 ? close : close.flatten(2).all(-1);
}

}  // namespace seqpack::detail
