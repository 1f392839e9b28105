// `seqpack eval` entries for the sequence utilities, with the original's argument names.
#include <ATen/ATen.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/models/packing_policy.h"
#include "seqpack/ops/registry.h"
#include "seqpack/sequence.h"

namespace seqpack::ops {
namespace {

TensorMap packed_outputs(const PackedSequence& packed) {
  TensorMap out{{"data", packed.data()}, {"batch_sizes", packed.batch_sizes()}};
  if (packed.sorted_indices().defined()) {
    out["sorted_indices"] = packed.sorted_indices();
    out["unsorted_indices"] = packed.unsorted_indices();
  }
  return out;
}

TensorMap should_use_packing_op(Inputs& in, Params&, const EvalOptions&) {
  return {{"use_packing", at::scalar_tensor(should_use_packing(in.optional("lengths")), at::kBool)}};
}

// The calibrated policy's decision and each path's predicted step time, for the goldens that tie
// the C++ reading of perf/packing_cost_model.json to the reference's: use_packing (the path packs:
// packed or padding-free), use_padding_free and log_seconds_padding_free where the model has
// padding-free coefficients.
TensorMap packing_policy_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto model = params.get_required_string("model");
  const auto steps = params.get_required_int("steps");
  if (steps < 1) reject("params.steps", "must be at least 1 (got {})", steps);
  const auto lengths = checked_lengths(in.required("lengths"), "lengths", {.max_length = steps});
  if (lengths.numel() == 0) reject("lengths", "must hold at least one row");
  const auto& cost_model = models::PackingCostModel::builtin();
  const auto x = cost_model.features(steps, lengths);
  const auto path = cost_model.fastest_path(model, steps, lengths);
  TensorMap out{{"use_packing", at::scalar_tensor(path != models::Packing::Never, at::kBool)}};
  for (const auto& priced : models::kCostModelPaths) {
    if (!cost_model.has_path(model, priced.packing)) continue;
    out["log_seconds_" + std::string(priced.name)] =
        at::scalar_tensor(cost_model.predicted_log_seconds(model, priced.packing, x), at::kDouble);
  }
  if (cost_model.has_path(model, models::Packing::PaddingFree)) {
    out["use_padding_free"] = at::scalar_tensor(path == models::Packing::PaddingFree, at::kBool);
  }
  return out;
}

TensorMap align_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto sequences = in.required("sequences");
  const auto lengths = in.required("lengths");
  auto options = AlignOptions(parse_source(params.get_string("source", "auto"), "params.source"))
                     .alignment(parse_alignment(params.get_string("alignment", "right"), "params.alignment"))
                     .max_length(params.get_optional_int("max_length"));
  return {{"aligned", align_encoder_sequences(sequences, lengths, options)}};
}

TensorMap validate_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto input = in.required("encoder_input");
  const auto expected = parse_alignment(params.get_required_string("expected_alignment"), "params.expected_alignment");
  validate_encoder_alignment(input, in.optional("lengths"), expected);
  return {};
}

TensorMap pack_encoder_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto sequences = in.required("sequences");
  const auto lengths = in.required("lengths");
  auto options = PackEncoderOptions(parse_source(params.get_string("source", "auto"), "params.source"))
                     .align_first(params.get_bool("align_first", true))
                     .batch_first(params.get_bool("batch_first", true))
                     .enforce_sorted(params.get_bool("enforce_sorted", false));
  return packed_outputs(pack_encoder_sequences(sequences, lengths, options));
}

TensorMap pack_decoder_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto sequences = in.required("sequences");
  const auto lengths = in.required("lengths");
  auto options = PackOptions()
                     .batch_first(params.get_bool("batch_first", true))
                     .enforce_sorted(params.get_bool("enforce_sorted", false));
  return packed_outputs(pack_decoder_sequences(sequences, lengths, options));
}

TensorMap unpack_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto data = in.required("data");
  const auto batch_sizes = in.required("batch_sizes");
  const auto sorted = in.optional("sorted_indices");
  const auto unsorted = in.optional("unsorted_indices");
  if (sorted.has_value() != unsorted.has_value()) {
    reject("inputs", "sorted_indices and unsorted_indices must be given together");
  }
  if (batch_sizes.dim() != 1 || batch_sizes.scalar_type() != at::kLong) {
    reject("batch_sizes", "must be a 1-D int64 tensor");
  }
  const PackedSequence packed(data, batch_sizes, sorted.value_or(at::Tensor()), unsorted.value_or(at::Tensor()));
  auto options = UnpackOptions()
                     .batch_first(params.get_bool("batch_first", true))
                     .total_length(params.get_optional_int("total_length"));
  auto [sequences, lengths] = unpack_to_fixed_length(packed, options);
  return {{"sequences", sequences}, {"lengths", lengths}};
}

}  // namespace

void add_sequence_ops(Registry& registry) {
  registry["should_use_packing"] = {should_use_packing_op, "lengths -> use_packing (the original's rule)"};
  registry["packing_policy"] = {packing_policy_op,
                                "lengths; model, steps -> use_packing, log_seconds_padded, log_seconds_packed "
                                "[, use_padding_free, log_seconds_padding_free] (the calibrated rule)"};
  registry["align_encoder_sequences"] = {align_op, "sequences, lengths; max_length, alignment, source -> aligned"};
  registry["validate_encoder_alignment"] = {validate_op,
                                            "encoder_input, lengths; expected_alignment -> exit 0 or 3"};
  registry["pack_encoder_sequences"] = {
      pack_encoder_op,
      "sequences, lengths; align_first, batch_first, enforce_sorted, source -> data, batch_sizes, sorted_indices, "
      "unsorted_indices"};
  registry["pack_decoder_sequences"] = {
      pack_decoder_op,
      "sequences, lengths; batch_first, enforce_sorted -> data, batch_sizes, sorted_indices, unsorted_indices"};
  registry["unpack_to_fixed_length"] = {
      unpack_op, "data, batch_sizes, sorted_indices, unsorted_indices; batch_first, total_length -> sequences, lengths"};
}

}  // namespace seqpack::ops
