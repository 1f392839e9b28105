#include <ATen/ATen.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/sequence.h"
#include "seqpack/tensor_checks.h"
#include "zero_steps.h"

namespace seqpack {

void validate_encoder_alignment(const at::Tensor& encoder_input, const std::optional<at::Tensor>& lengths,
                                Alignment expected_alignment) {
  require_sequence_batch(encoder_input, "encoder_input", 0);
  if (!lengths || !lengths->defined()) return;
  const int64_t steps = encoder_input.size(1);
  const auto checked = checked_lengths(*lengths, "lengths", {.batch = encoder_input.size(0), .max_length = steps})
                           .to(encoder_input.device())
                           .unsqueeze(1);
  const auto step = at::arange(steps, checked.options()).unsqueeze(0);
  // The steps that must be padding: after the data (left) or before it (right).
  const auto padding = expected_alignment == Alignment::Left ? step >= checked : step < steps - checked;
  const auto bad = ((~detail::zero_steps(encoder_input)) & padding).any(1).cpu();
  if (!bad.any().item<bool>()) return;
  const int64_t row = bad.nonzero().min().item<int64_t>();
  const int64_t length = checked[row][0].item<int64_t>();
  if (expected_alignment == Alignment::Left) {
    reject("encoder_input", "expected left alignment (zeros after the data), but row {} (length {}, T = {}) has "
           "non-zero values at or after step {}", row, length, steps, length);
  }
  reject("encoder_input", "expected right alignment (zeros before the data), but row {} (length {}, T = {}) has "
         "non-zero values in its first {} steps", row, length, steps, steps - length);
}

}  // namespace seqpack
