#pragma once
// A data-parallel epoch's batches: R ranks each take one batch of batch_size samples per step, the
// same number of steps each, every sample once. Three samplers: random batches; length-grouped per
// rank (each rank groups its own share); length-grouped globally (each global batch of R x b is
// grouped, then dealt to the ranks, so that ranks see like lengths within a step and wait less on
// one another). Seeded with PyTorch's CPU generator as length_grouped_batches is, so that
// reference/seqpack_reference/batching.py's rank_batches makes the same plan.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "seqpack/length_grouped_batches.h"

namespace seqpack {

enum class RankSampler { Random, GroupedPerRank, GroupedGlobal };

// "random" | "grouped_per_rank" | "grouped_global"; anything else is rejected naming `argument`.
RankSampler parse_rank_sampler(std::string_view text, std::string_view argument);
std::string_view to_string(RankSampler sampler);

struct RankBatchPlan {
  std::vector<std::vector<at::Tensor>> steps;  // steps[s][r]: rank r's batch at step s, (b,) int64
  std::vector<double> rank_fill_ratio;         // per rank, fill_ratio over its batches
  double fill_ratio = 1.0;                     // over every (step, rank) batch
};

// lengths: (N,) or (N, 1), as length_grouped_batches takes them. options.batch_size is per rank;
// a step takes G = ranks x batch_size samples. N must be a multiple of G; with drop_last, N >= G
// and the last N mod G samples of the (shuffled) order are left out. bucket_batches: batches per
// sorted bucket (per rank's batches for GroupedPerRank, global batches for GroupedGlobal; unused by
// Random). InvalidArgument for ranks, batch_size or bucket_batches below 1 and for such N.
RankBatchPlan rank_batches(const at::Tensor& lengths, int64_t ranks, RankSampler sampler,
                           const BatchingOptions& options);

}  // namespace seqpack
