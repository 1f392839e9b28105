#include "ddp_equivalence.h"

#include <ATen/ATen.h>

#include <cstdlib>

#include "bench_support.h"
#include "rank_group.h"
#include "seqpack/models/unique_parameters.h"
#include "seqpack/distributed/broadcast_parameters.h"
#include "seqpack/distributed/gradient_buckets.h"
#include "seqpack/errors.h"
#include "seqpack/models/model_registry.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/models/training_step.h"
#include "seqpack/ops/op_arguments.h"
#include "seqpack/rank_batches.h"
#include "workloads.h"

namespace seqpack::perf {
namespace {

// Per-rank batch size and the window (the same as the Python side's equivalence).
constexpr int64_t kBatch = 4, kEncoderSteps = 8, kDecoderSteps = 4;

// A collated batch zero-padded back to the whole window, in float64: a row's output (padded path:
// the LSTM runs through the padding) and the unmasked loss's element count then do not depend on
// which rows share its batch, so the mean over equal shards is the mean over their concatenation.
TrainingBatch whole_window(const TrainingBatch& b) {
  const auto pad = [](const at::Tensor& x, int64_t steps) {
    return at::constant_pad_nd(x, {0, 0, 0, steps - x.size(1)}).to(at::kDouble);
  };
  return {{pad(b.inputs.past_sequence, kEncoderSteps), pad(b.inputs.future_sequence, kDecoderSteps),
           b.inputs.encoder_lengths, b.inputs.decoder_lengths},
          pad(b.target, kDecoderSteps)};
}

std::shared_ptr<models::ForecastModel> small_model(const models::ModelEntry& entry, const std::string& path) {
  auto params = entry.small_config;
  params["packing"] = path == "packed" ? "always" : "never";
  ops::Params reader(params);
  auto model = entry.build(reader);
  reader.finish(entry.op());
  model->to(at::kDouble);
  return model;
}

std::string lstm_model_names() {
  std::string names;
  for (const auto* entry : models::models_of(models::ModelFamily::Lstm)) {
    names += (names.empty() ? "" : "|") + entry->name;
  }
  return names;
}

}  // namespace

void run_equivalence(const EquivalenceOptions& options) {
  const bool distributed = std::getenv("WORLD_SIZE") != nullptr;
  const auto* entry = models::find_model(options.model);
  if (entry == nullptr || entry->family != models::ModelFamily::Lstm) {
    reject("--model", "must be an LSTM-family model ({}), got \"{}\"", lstm_model_names(), options.model);
  }
  if (options.path != "padded" && options.path != "packed") {
    reject("--path", "must be padded or packed, got \"{}\"", options.path);
  }
  if (options.steps < 0 || options.steps > 1000) reject("--steps", "must be in [0, 1000], got {}", options.steps);
  if (distributed && options.as_ranks) {
    reject("--as-ranks", "is for a run without torchrun; under torchrun (WORLD_SIZE is set) the ranks are its own");
  }
  if (options.as_ranks && (*options.as_ranks < 1 || *options.as_ranks > 64)) {
    reject("--as-ranks", "must be in [1, 64], got {}", *options.as_ranks);
  }
  at::set_num_threads(1);
  std::optional<RankGroup> group;
  if (distributed) group = join_rank_group();
  const int64_t ranks = distributed ? group->ranks : options.as_ranks.value_or(1);

  // The data set: kBatch x ranks x steps windows, lengths as the benchmarks draw them.
  const auto& distribution = distribution_named("triangular");
  const int64_t size = kBatch * ranks * options.steps;
  const auto encoder_lengths = batch_lengths(distribution, size, kEncoderSteps, 1);
  const auto decoder_lengths = batch_lengths(distribution, size, kDecoderSteps, 2);
  torch::manual_seed(1);
  const auto& config = entry->small_config;
  const auto samples = windows(encoder_lengths, kEncoderSteps, decoder_lengths, kDecoderSteps,
                               config.at("num_past_features"), config.at("num_future_features"));
  std::vector<std::vector<at::Tensor>> steps;  // steps[s][r]: rank r's shard at step s
  if (size > 0) {
    const auto batching = BatchingOptions(kBatch).seed(0);
    steps = rank_batches(at::tensor(encoder_lengths), ranks, RankSampler::Random, batching).steps;
  }

  torch::manual_seed(0);
  auto model = small_model(*entry, options.path);
  if (distributed) distributed::broadcast_module_state(*group->group, *model);  // as DDP's constructor
  Criterion mse;  // MSE, mean over every element, padding included
  models::TrainingStep step(model, models::TrainingStepOptions().criterion(mse).use_loss_masking(false));
  distributed::GradientBuckets buckets(models::unique_parameters(*model));
  for (const auto& shards : steps) {
    const auto members = distributed ? shards.at(group->rank) : at::cat(shards);
    const auto batch = whole_window(collate_windows(samples, members));
    if (distributed) {
      step.backward(batch.inputs, batch.target);
      buckets.average_gradients(*group->group);
      step.update();
    } else {
      step(batch.inputs, batch.target);
    }
  }
  if (!distributed || group->rank == 0) write_safetensors(options.out, models::state_dict(*model));
  if (distributed) every_rank_ready(*group->group, true);  // no rank leaves while another still writes
}

}  // namespace seqpack::perf
