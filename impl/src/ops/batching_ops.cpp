// `seqpack eval` entries for batching: collate (sample i's parts are named NAME.i), the
// length-grouped batches of a data set's lengths and a data-parallel epoch's rank batches.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "seqpack/collate.h"
#include "seqpack/errors.h"
#include "seqpack/length_grouped_batches.h"
#include "seqpack/ops/registry.h"
#include "seqpack/rank_batches.h"

namespace seqpack::ops {
namespace {

std::vector<Sample> read_samples(Inputs& in) {
  std::vector<Sample> samples;
  for (size_t i = 0;; ++i) {
    const auto name = [i](std::string_view part) { return fmt::format("{}.{}", part, i); };
    const auto encoder_input = in.optional(name("encoder_input"));
    if (!encoder_input) break;
    samples.push_back({*encoder_input, in.required(name("decoder_input")), in.required(name("target")),
                       in.optional(name("encoder_lengths")), in.optional(name("decoder_lengths")),
                       in.optional(name("encoder_mask")), in.optional(name("decoder_mask"))});
  }
  // Inputs that do not follow on from 0 are left unused, and so rejected by name.
  return samples;
}

TensorMap collate_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto options =
      CollateOptions()
          .encoder_alignment(parse_alignment(params.get_string("encoder_alignment", "left"), "params.encoder_alignment"))
          .sample_alignment(parse_source(params.get_string("sample_alignment", "right"), "params.sample_alignment"));
  const auto batch = collate(read_samples(in), options);
  TensorMap out{{"encoder_input", batch.encoder_input}, {"decoder_input", batch.decoder_input}, {"target", batch.target}};
  const std::pair<const char*, const std::optional<at::Tensor>*> optional_parts[] = {
      {"encoder_lengths", &batch.encoder_lengths},
      {"decoder_lengths", &batch.decoder_lengths},
      {"encoder_mask", &batch.encoder_mask},
      {"decoder_mask", &batch.decoder_mask}};
  for (const auto& [name, value] : optional_parts) {
    if (*value) out[name] = **value;
  }
  return out;
}

BatchingOptions batching_options(Params& params) {
  return BatchingOptions(params.get_required_int("batch_size"))
      .bucket_batches(params.get_int("bucket_batches", 16))
      .shuffle(params.get_bool("shuffle", true))
      .seed(static_cast<uint64_t>(params.get_int("seed", 0)))
      .drop_last(params.get_bool("drop_last", false));
}

TensorMap plan_outputs(const BatchPlan& plan) {
  TensorMap out{{"fill_ratio", at::scalar_tensor(plan.fill_ratio, at::kDouble)}};
  for (size_t i = 0; i < plan.batches.size(); ++i) out[fmt::format("batch.{}", i)] = plan.batches[i];
  return out;
}

TensorMap grouped_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto lengths = in.required("lengths");
  const auto grouped = params.get_bool("group_by_length", true);
  const auto options = batching_options(params);
  return plan_outputs(grouped ? length_grouped_batches(lengths, options) : random_batches(lengths, options));
}

// batches (S, R, b): step s, rank r's batch; every batch holds b, so they stack.
TensorMap rank_batches_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto lengths = in.required("lengths");
  const auto ranks = params.get_required_int("ranks");
  const auto sampler = parse_rank_sampler(params.get_required_string("sampler"), "params.sampler");
  const auto plan = rank_batches(lengths, ranks, sampler, batching_options(params));
  std::vector<at::Tensor> steps;
  steps.reserve(plan.steps.size());
  for (const auto& step : plan.steps) steps.push_back(at::stack(step));
  return {{"batches", at::stack(steps)},
          {"rank_fill_ratio", at::tensor(plan.rank_fill_ratio, at::kDouble)},
          {"fill_ratio", at::scalar_tensor(plan.fill_ratio, at::kDouble)}};
}

}  // namespace

void add_batching_ops(Registry& registry) {
  registry["collate"] = {collate_op,
                         "encoder_input.i, decoder_input.i, target.i [, encoder_lengths.i, decoder_lengths.i, "
                         "encoder_mask.i, decoder_mask.i]; encoder_alignment, sample_alignment -> the batch"};
  registry["length_grouped_batches"] = {
      grouped_op, "lengths; batch_size, bucket_batches, shuffle, seed, drop_last, group_by_length -> batch.i, fill_ratio"};
  registry["rank_batches"] = {
      rank_batches_op,
      "lengths; ranks, batch_size, sampler, bucket_batches, shuffle, seed, drop_last -> batches, rank_fill_ratio, "
      "fill_ratio"};
}

}  // namespace seqpack::ops
