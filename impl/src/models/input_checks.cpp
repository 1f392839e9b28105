#include "seqpack/models/input_checks.h"

#include <fmt/ranges.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"

namespace seqpack::models {
namespace {

void check_sequence(const at::Tensor& x, std::string_view name, int64_t features, c10::ScalarType dtype) {
  if (!x.defined()) reject(name, "is required");
  if (x.dim() != 3) reject(name, "must be (B, T, features) (got shape [{}])", fmt::join(x.sizes(), ", "));
  if (x.size(0) < 1 || x.size(1) < 1) reject(name, "must hold at least one row and one step");
  if (x.size(2) != features) reject(name, "must have {} features (got {})", features, x.size(2));
  if (x.scalar_type() != dtype) {
    reject(name, "must have the model's dtype {} (got {})", c10::toString(dtype), c10::toString(x.scalar_type()));
  }
}

}  // namespace

void check_model_inputs(const ModelInputs& in, const InputSpec& spec) {
  check_sequence(in.past_sequence, spec.past_name, spec.num_past_features, spec.dtype);
  check_sequence(in.future_sequence, spec.future_name, spec.num_future_features, spec.dtype);
  const auto batch = in.past_sequence.size(0);
  if (in.future_sequence.size(0) != batch) {
    reject(spec.future_name, "must have {}'s batch size {} (got {})", spec.past_name, batch, in.future_sequence.size(0));
  }
  const auto check_lengths = [&](const std::optional<at::Tensor>& lengths, std::string_view name, int64_t steps) {
    if (!lengths) return;
    checked_lengths(*lengths, name, {.batch = batch, .max_length = steps});
  };
  check_lengths(in.encoder_lengths, "encoder_lengths", in.past_sequence.size(1));
  check_lengths(in.decoder_lengths, "decoder_lengths", in.future_sequence.size(1));
}

}  // namespace seqpack::models
