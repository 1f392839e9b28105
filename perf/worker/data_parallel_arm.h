#pragma once
// A data_parallel arm of the comparison engine, as one rank runs it: a unit is an epoch of
// data_parallel_steps steps (profile setting, default 8); each step the rank trains on its own
// batch, then the ranks average their gradients (DDP's buckets, after backward) and every rank takes
// the same Adam step. Each step is timed: compute (to the last gradient ready), wait (the
// averaging) and the whole step.
#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

#include "seqpack/distributed/gradient_buckets.h"
#include "seqpack/models/training_step.h"
#include "workloads.h"

namespace c10d {
class Backend;
}

namespace seqpack::perf {

struct StepTimes {
  std::vector<double> compute, wait, step;  // seconds, one value per step, in order
};
// {"compute": [...], "wait": [...], "step": [...]}: what the coordinator's shares are computed from
// (perf/data_parallel.py, the one place of their formulas).
nlohmann::json to_json(const StepTimes& times);

class DataParallelArm {
 public:
  // This rank's part, built without a word to the other ranks, so that the ranks can agree on
  // whether all of them built theirs before any collective. arm.mode is
  // <padded|packed|padding_free>_<random|grouped_per_rank|grouped_global> (InvalidArgument
  // "arm mode" otherwise, "arm kind" for another kind).
  DataParallelArm(const ArmSpec& arm, int rank, int ranks, c10d::Backend& group);

  // DDP's start: rank 0's parameters and buffers on every rank, then one warm-up epoch. Collective.
  void start();
  // `units` epochs. Collective.
  StepTimes run(int64_t units);

  double fill_ratio = 0.0;              // the plan's, over every rank's batches
  std::vector<double> rank_fill_ratio;  // one per rank
  int64_t samples = 0;                  // G x S: every rank's samples of an epoch
  int64_t timesteps = 0;                // their real encoder + decoder steps
  int64_t steps_per_unit = 0;           // S

 private:
  c10d::Backend* group_;
  std::vector<TrainingBatch> batches_;  // this rank's, one per step
  std::shared_ptr<models::ForecastModel> model_;
  std::unique_ptr<models::TrainingStep> step_;
  std::unique_ptr<distributed::GradientBuckets> buckets_;
};

}  // namespace seqpack::perf
