#include "data_parallel_arm.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string_view>

#include "bench_support.h"
#include "seqpack/models/unique_parameters.h"
#include "seqpack/distributed/broadcast_parameters.h"
#include "seqpack/errors.h"
#include "seqpack/rank_batches.h"

namespace seqpack::perf {
namespace {

using Clock = std::chrono::steady_clock;

// The paths a data_parallel arm runs (of workloads.cpp's kPaths).
constexpr std::string_view kDataParallelPaths[] = {"padded", "packed", "padding_free"};

struct Mode {
  ModelPath path;
  RankSampler sampler;
};

Mode parse_mode(const std::string& mode) {
  for (const auto name : kDataParallelPaths) {
    if (mode.size() > name.size() && mode.starts_with(name) && mode[name.size()] == '_') {
      try {
        return {*model_path_named(name), parse_rank_sampler(std::string_view(mode).substr(name.size() + 1), "")};
      } catch (const InvalidArgument&) {
        break;  // the whole mode's rule says more than the sampler's
      }
    }
  }
  reject("arm mode",
         "data_parallel runs <padded|packed|padding_free>_<random|grouped_per_rank|grouped_global>, not \"{}\"", mode);
}

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}


}  // namespace

nlohmann::json to_json(const StepTimes& times) {
  return {{"compute", times.compute}, {"wait", times.wait}, {"step", times.step}};
}

DataParallelArm::DataParallelArm(const ArmSpec& arm, int rank, int ranks, c10d::Backend& group) : group_(&group) {
  if (arm.kind != "data_parallel") {
    reject("arm kind", "the data-parallel worker runs data_parallel, not \"{}\"", arm.kind);
  }
  const auto mode = parse_mode(arm.mode);
  steps_per_unit = profile().settings.value("data_parallel_steps", int64_t{8});
  if (steps_per_unit < 1) reject("data_parallel_steps", "the profile's steps per epoch must be at least 1");
  const int64_t size = arm.batch * ranks * steps_per_unit;
  const auto& distribution = distribution_named(arm.distribution);
  // The data set as grouping arms draw it: encoder lengths with seed 1, decoder lengths with seed 2.
  const auto encoder_lengths = batch_lengths(distribution, size, arm.encoder_steps, 1);
  const auto decoder_lengths = batch_decoder_lengths(distribution, size, arm.decoder_steps, 2);
  const auto data_set = windows(encoder_lengths, arm.encoder_steps, decoder_lengths, arm.decoder_steps,
                               profile().model.at("num_past_features"), profile().model.at("num_future_features"));
  const auto plan = rank_batches(at::tensor(encoder_lengths), ranks, mode.sampler, BatchingOptions(arm.batch).seed(0));
  for (const auto& shards : plan.steps) batches_.push_back(collate_windows(data_set, shards.at(rank)));
  fill_ratio = plan.fill_ratio;
  rank_fill_ratio = plan.rank_fill_ratio;
  samples = size;
  timesteps = std::accumulate(encoder_lengths.begin(), encoder_lengths.end(), int64_t{0}) +
              std::accumulate(decoder_lengths.begin(), decoder_lengths.end(), int64_t{0});
  torch::manual_seed(0);  // every rank builds the same model; start() makes sure of it as DDP does
  model_ = benchmark_model(arm.what, mode.path.packing, mode.path.packed_lstm);
  step_ = std::make_unique<models::TrainingStep>(model_);
  buckets_ = std::make_unique<distributed::GradientBuckets>(models::unique_parameters(*model_));
}

void DataParallelArm::start() {
  distributed::broadcast_module_state(*group_, *model_);
  run(1);  // warm-up: first-touch allocations, oneDNN primitives, every shape of an epoch once
}

StepTimes DataParallelArm::run(int64_t units) {
  StepTimes times;
  for (int64_t u = 0; u < units; ++u) {
    for (const auto& batch : batches_) {
      const auto start = Clock::now();
      step_->backward(batch.inputs, batch.target);
      const auto ready = Clock::now();  // the last bucket's gradients are ready once backward returns
      buckets_->average_gradients(*group_);
      const auto averaged = Clock::now();
      step_->update();
      const auto end = Clock::now();
      times.compute.push_back(seconds(start, ready));
      times.wait.push_back(seconds(ready, averaged));
      times.step.push_back(seconds(start, end));
    }
  }
  return times;
}

}  // namespace seqpack::perf
