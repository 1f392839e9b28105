#include "seqpack/rank_batches.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/limits.h"
#include "sorted_buckets.h"

namespace seqpack {
namespace {

using detail::permuted;
using detail::sorted_buckets;

// Rank r takes positions r, r + R, ...: in a batch sorted longest first, each rank a like share.
std::vector<at::Tensor> dealt(const at::Tensor& global_batch, int64_t ranks) {
  std::vector<at::Tensor> share;
  share.reserve(static_cast<size_t>(ranks));
  for (int64_t r = 0; r < ranks; ++r) share.push_back(global_batch.slice(0, r, global_batch.numel(), ranks).clone());
  return share;
}

}  // namespace

RankSampler parse_rank_sampler(std::string_view text, std::string_view argument) {
  if (text == "random") return RankSampler::Random;
  if (text == "grouped_per_rank") return RankSampler::GroupedPerRank;
  if (text == "grouped_global") return RankSampler::GroupedGlobal;
  reject(argument, "must be \"random\", \"grouped_per_rank\" or \"grouped_global\" (got \"{}\")", text);
}

std::string_view to_string(RankSampler sampler) {
  switch (sampler) {
    case RankSampler::Random: return "random";
    case RankSampler::GroupedPerRank: return "grouped_per_rank";
    case RankSampler::GroupedGlobal: return "grouped_global";
  }
  return "unknown";
}

RankBatchPlan rank_batches(const at::Tensor& lengths, int64_t ranks, RankSampler sampler,
                           const BatchingOptions& options) {
  if (ranks < 1) reject("ranks", "must be at least 1 (got {})", ranks);
  if (options.batch_size() < 1) reject("batch_size", "must be at least 1 (got {})", options.batch_size());
  if (options.bucket_batches() < 1) reject("bucket_batches", "must be at least 1 (got {})", options.bucket_batches());
  if (lengths.defined() && lengths.numel() == 0) reject("lengths", "must hold at least one sample (got none)");
  const auto values = checked_lengths(lengths, "lengths", {});
  const int64_t size = values.numel();
  const int64_t per_step = checked_multiply(ranks, options.batch_size(), "ranks x batch_size");
  if (options.drop_last() && size < per_step) {
    reject("lengths", "with drop_last, must hold at least ranks x batch_size = {} samples (got {})", per_step, size);
  }
  if (!options.drop_last() && size % per_step != 0) {
    reject("lengths", "the number of samples must be a multiple of ranks x batch_size = {} (got {}; drop_last drops the rest)",
           per_step, size);
  }
  const int64_t step_count = size / per_step;
  // A bucket larger than the data set is the data set: capping it keeps the product in range.
  const int64_t bucket_batches = std::min(options.bucket_batches(), step_count);

  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  auto order = options.shuffle() ? at::randperm(size, generator, at::kLong) : at::arange(size, at::kLong);
  order = order.narrow(0, 0, step_count * per_step);

  RankBatchPlan plan;
  plan.steps.resize(static_cast<size_t>(step_count));
  if (sampler == RankSampler::GroupedPerRank) {
    for (int64_t r = 0; r < ranks; ++r) {
      const auto share = order.slice(0, r, order.numel(), ranks);
      auto batches = sorted_buckets(share, values, options.batch_size() * bucket_batches, options.batch_size());
      if (options.shuffle()) batches = permuted(batches, generator);  // rank 0's permutation first
      for (int64_t s = 0; s < step_count; ++s) plan.steps[static_cast<size_t>(s)].push_back(batches[static_cast<size_t>(s)]);
    }
  } else {
    std::vector<at::Tensor> global_batches;
    if (sampler == RankSampler::Random) {
      for (int64_t s = 0; s < step_count; ++s) global_batches.push_back(order.narrow(0, s * per_step, per_step));
    } else {
      global_batches = sorted_buckets(order, values, per_step * bucket_batches, per_step);
      if (options.shuffle()) global_batches = permuted(global_batches, generator);
    }
    for (int64_t s = 0; s < step_count; ++s) plan.steps[static_cast<size_t>(s)] = dealt(global_batches[static_cast<size_t>(s)], ranks);
  }

  std::vector<at::Tensor> all;
  for (int64_t r = 0; r < ranks; ++r) {
    std::vector<at::Tensor> own;
    for (const auto& step : plan.steps) own.push_back(step[static_cast<size_t>(r)]);
    plan.rank_fill_ratio.push_back(fill_ratio(values, own));
    all.insert(all.end(), own.begin(), own.end());
  }
  plan.fill_ratio = fill_ratio(values, all);
  return plan;
}

}  // namespace seqpack
