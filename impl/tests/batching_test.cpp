// Collate, length-grouped batches and rank batches: every rejection, and the properties the goldens
// cannot show on their own (data survives the round trip, left- and right-aligned windows make the
// same batch, the batches cover the data set once, sorting the whole data set pads least, every
// rank takes equal steps, grouping globally gives a step's ranks like lengths).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

#include "seqpack/collate.h"
#include "seqpack/length_grouped_batches.h"
#include "seqpack/rank_batches.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

// A window of `steps` rows holding `length` non-zero rows on the `layout` side.
at::Tensor window(int64_t steps, int64_t length, int64_t features, Alignment layout, int64_t seed) {
  at::manual_seed(static_cast<uint64_t>(seed));  // the same data whichever side it is on
  auto x = at::zeros({steps, features}, at::kDouble);
  x.narrow(0, layout == Alignment::Right ? steps - length : 0, length)
      .copy_(at::rand({length, features}, at::kDouble) + 0.5);
  return x;
}

Sample sample(int64_t encoder_length, int64_t decoder_length, Alignment layout = Alignment::Right,
              int64_t encoder_steps = 8, int64_t decoder_steps = 4) {
  const auto seed = encoder_length * 10 + decoder_length;
  return {window(encoder_steps, encoder_length, 3, layout, seed), window(decoder_steps, decoder_length, 2, Alignment::Left, seed),
          window(decoder_steps, decoder_length, 1, Alignment::Left, seed + 1), at::tensor({encoder_length}),
          at::tensor({static_cast<float>(decoder_length)}), std::nullopt, std::nullopt};
}

std::vector<Sample> batch_of(std::initializer_list<std::pair<int64_t, int64_t>> lengths,
                             Alignment layout = Alignment::Right) {
  std::vector<Sample> samples;
  for (const auto& [e, d] : lengths) samples.push_back(sample(e, d, layout));
  return samples;
}

TEST(CollateRejects, EmptyList) { EXPECT_REJECTS(collate({}), "samples", "at least one"); }

TEST(CollateRejects, FeatureCountsDisagree) {
  auto samples = batch_of({{3, 2}, {4, 2}});
  samples[1].encoder_input = at::zeros({8, 5}, at::kDouble);
  EXPECT_REJECTS(collate(samples), "samples[1].encoder_input", "feature counts");
  samples = batch_of({{3, 2}, {4, 2}});
  samples[1].target = at::zeros({4, 2}, at::kDouble);
  EXPECT_REJECTS(collate(samples), "samples[1].target", "differs from sample 0");
}

TEST(CollateRejects, LengthLargerThanItsWindow) {
  auto samples = batch_of({{3, 2}, {4, 2}});
  samples[1].encoder_lengths = at::tensor({int64_t{9}});
  EXPECT_REJECTS(collate(samples), "samples[1].encoder_lengths", "9");
  samples = batch_of({{3, 2}});
  samples[0].decoder_lengths = at::tensor({5.0});
  EXPECT_REJECTS(collate(samples), "samples[0].decoder_lengths");
}

TEST(CollateRejects, BadLengthValues) {
  for (const auto& bad : {at::tensor({int64_t{-1}}), at::tensor({1.5}), at::tensor({std::nan("")}), at::tensor({1, 2}),
                          at::ones({1}, at::kBool)}) {
    auto samples = batch_of({{3, 2}});
    samples[0].encoder_lengths = bad;
    EXPECT_REJECTS(collate(samples), "samples[0].encoder_lengths");
  }
}

TEST(CollateRejects, PartsPresentInSomeSamplesOnly) {
  auto samples = batch_of({{3, 2}, {4, 2}});
  samples[1].decoder_lengths.reset();
  EXPECT_REJECTS(collate(samples), "samples[1].decoder_lengths", "same parts");
  samples = batch_of({{3, 2}, {4, 2}});
  samples[1].encoder_mask = at::ones({8, 3});
  EXPECT_REJECTS(collate(samples), "samples[1].encoder_mask", "same parts");
  samples = batch_of({{3, 2}});
  samples[0].target = at::Tensor();
  EXPECT_REJECTS(collate(samples), "samples[0].target", "required");
}

TEST(CollateRejects, RanksStepsAndDtypes) {
  auto samples = batch_of({{3, 2}});
  samples[0].decoder_input = at::zeros({4}, at::kDouble);
  EXPECT_REJECTS(collate(samples), "samples[0].decoder_input", "exactly 2");
  samples = batch_of({{3, 2}});
  samples[0].target = at::zeros({3, 1}, at::kDouble);
  EXPECT_REJECTS(collate(samples), "samples[0].target", "as many steps as decoder_input");
  samples = batch_of({{3, 2}});
  samples[0].encoder_mask = at::ones({});
  EXPECT_REJECTS(collate(samples), "samples[0].encoder_mask", "at least 1");
  samples = batch_of({{3, 2}});
  samples[0].decoder_mask = at::ones({5, 2});
  EXPECT_REJECTS(collate(samples), "samples[0].decoder_mask", "as many steps");
  samples = batch_of({{3, 2}, {4, 2}});
  samples[1].decoder_input = samples[1].decoder_input.to(at::kFloat);
  EXPECT_REJECTS(collate(samples), "samples[1].decoder_input", "dtype");
}

TEST(CollateRejects, NothingToBatch) {
  EXPECT_REJECTS(collate(batch_of({{3, 0}, {2, 0}})), "decoder_lengths", "positive");
  EXPECT_REJECTS(collate(batch_of({{0, 2}, {0, 1}})), "encoder_lengths", "positive");
}

TEST(CollateRejects, OriginalCannotStackUnequalWindows) {
  std::vector<Sample> samples{sample(3, 2, Alignment::Right, 4), sample(5, 2, Alignment::Right, 7)};
  EXPECT_REJECTS(collate(samples, CollateOptions().sample_alignment(Source::Auto)), "samples[1].encoder_input",
                 "unequal length");
}

TEST(CollateRejects, LeavesTheSamplesAsTheyWere) {
  auto samples = batch_of({{3, 2}, {6, 4}});
  const auto before = samples[0].encoder_input.clone();
  samples[1].encoder_lengths = at::tensor({int64_t{9}});
  EXPECT_THROW(collate(samples), InvalidArgument);
  samples[1].encoder_lengths = at::tensor({int64_t{6}});
  collate(samples);
  EXPECT_TRUE(at::equal(samples[0].encoder_input, before));
}

// Row i's real steps in the batch equal sample i's, on the side the batch asked for.
void expect_rows_hold_their_samples(const Batch& batch, const std::vector<Sample>& samples, Alignment target,
                                    Alignment layout) {
  const int64_t steps = batch.encoder_input.size(1);
  for (size_t i = 0; i < samples.size(); ++i) {
    const int64_t length = samples[i].encoder_lengths->item<int64_t>();
    const int64_t window = samples[i].encoder_input.size(0);
    const auto data = samples[i].encoder_input.narrow(0, layout == Alignment::Right ? window - length : 0, length);
    const auto row = batch.encoder_input[static_cast<int64_t>(i)];
    EXPECT_TRUE(at::equal(row.narrow(0, target == Alignment::Right ? steps - length : 0, length), data)) << "row " << i;
    EXPECT_EQ(row.count_nonzero().item<int64_t>(), data.count_nonzero().item<int64_t>()) << "row " << i << ": stray values";
  }
}

TEST(CollateProperties, EveryRowKeepsItsDataForEveryAlignmentPair) {
  for (const auto layout : {Alignment::Left, Alignment::Right}) {
    for (const auto target : {Alignment::Left, Alignment::Right}) {
      const auto samples = batch_of({{3, 2}, {7, 4}, {1, 1}, {5, 3}}, layout);
      const auto source = layout == Alignment::Left ? Source::Left : Source::Right;
      const auto batch = collate(samples, CollateOptions().encoder_alignment(target).sample_alignment(source));
      EXPECT_EQ(batch.encoder_input.sizes(), (at::IntArrayRef{4, 7, 3}));
      EXPECT_EQ(batch.decoder_input.sizes(), (at::IntArrayRef{4, 4, 2}));
      EXPECT_EQ(batch.encoder_lengths->sizes(), (at::IntArrayRef{4, 1}));
      expect_rows_hold_their_samples(batch, samples, target, layout);
    }
  }
}

TEST(CollateProperties, LeftAndRightWindowsMakeTheSameBatch) {
  for (const auto target : {Alignment::Left, Alignment::Right}) {
    const auto from_right = collate(batch_of({{3, 2}, {7, 4}, {1, 3}}, Alignment::Right),
                                    CollateOptions().encoder_alignment(target).sample_alignment(Source::Right));
    const auto from_left = collate(batch_of({{3, 2}, {7, 4}, {1, 3}}, Alignment::Left),
                                   CollateOptions().encoder_alignment(target).sample_alignment(Source::Left));
    EXPECT_TRUE(at::equal(from_right.encoder_input, from_left.encoder_input));
    EXPECT_TRUE(at::equal(from_right.target, from_left.target));
  }
}

TEST(CollateProperties, GuessAgreesWithExplicitSourceOnZeroPaddedRightWindows) {
  const auto samples = batch_of({{3, 2}, {7, 4}, {1, 3}, {8, 1}});
  const auto guessed = collate(samples, CollateOptions().sample_alignment(Source::Auto));
  const auto named = collate(samples, CollateOptions().sample_alignment(Source::Right));
  EXPECT_TRUE(at::equal(guessed.encoder_input, named.encoder_input));
}

at::Tensor data_set_lengths(int64_t size) { return at::randint(1, 200, {size}, at::kLong); }

TEST(BatchesRejects, Arguments) {
  EXPECT_REJECTS(length_grouped_batches(data_set_lengths(10), BatchingOptions(0)), "batch_size", "at least 1");
  EXPECT_REJECTS(length_grouped_batches(data_set_lengths(10), BatchingOptions(2).bucket_batches(0)), "bucket_batches");
  EXPECT_REJECTS(length_grouped_batches(at::zeros({0}, at::kLong), BatchingOptions(2)), "lengths", "at least one");
  EXPECT_REJECTS(random_batches(at::tensor({3, -2}), BatchingOptions(2)), "lengths", "row 1");
  EXPECT_REJECTS(length_grouped_batches(at::tensor({3.0, 2.5}), BatchingOptions(2)), "lengths", "row 1");
}

TEST(BatchesProperties, CoverTheDataSetOnceAndAreReproducible) {
  const auto lengths = data_set_lengths(1000);
  for (const bool grouped : {true, false}) {
    auto options = BatchingOptions(32).seed(7);
    const auto plan = grouped ? length_grouped_batches(lengths, options) : random_batches(lengths, options);
    std::multiset<int64_t> seen;
    for (const auto& batch : plan.batches) {
      EXPECT_LE(batch.numel(), 32);
      for (int64_t i = 0; i < batch.numel(); ++i) seen.insert(batch[i].item<int64_t>());
    }
    EXPECT_EQ(seen.size(), 1000u);
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 1000u);
    const auto again = grouped ? length_grouped_batches(lengths, options) : random_batches(lengths, options);
    ASSERT_EQ(again.batches.size(), plan.batches.size());
    for (size_t b = 0; b < plan.batches.size(); ++b) EXPECT_TRUE(at::equal(again.batches[b], plan.batches[b]));
    options.seed(8);
    const auto other = grouped ? length_grouped_batches(lengths, options) : random_batches(lengths, options);
    EXPECT_FALSE(at::equal(other.batches[0], plan.batches[0]));
  }
}

TEST(BatchesProperties, DropLastDropsOnlyTheShortBatch) {
  const auto plan = length_grouped_batches(data_set_lengths(100), BatchingOptions(32).drop_last(true));
  EXPECT_EQ(plan.batches.size(), 3u);
  for (const auto& batch : plan.batches) EXPECT_EQ(batch.numel(), 32);
}

TEST(BatchesProperties, SortingTheWholeDataSetPadsLeast) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const auto lengths = data_set_lengths(512);
    const auto whole = length_grouped_batches(lengths, BatchingOptions(16).bucket_batches(32).seed(seed));
    const auto bucketed = length_grouped_batches(lengths, BatchingOptions(16).bucket_batches(4).seed(seed));
    const auto random = random_batches(lengths, BatchingOptions(16).seed(seed));
    EXPECT_GE(whole.fill_ratio, bucketed.fill_ratio);
    EXPECT_GE(whole.fill_ratio, random.fill_ratio);
  }
}

// Unshuffled plans small enough to count by hand: fill = real steps / (batch size x longest row).
TEST(BatchesProperties, FillRatioCountsRealStepsOverPaddedSteps) {
  const auto lengths = at::tensor({5, 1, 4, 2, 3, 3});
  // In order, pairs (5, 1), (4, 2), (3, 3): 18 real steps of 2*5 + 2*4 + 2*3 = 24.
  EXPECT_DOUBLE_EQ(random_batches(lengths, BatchingOptions(2).shuffle(false)).fill_ratio, 18.0 / 24.0);
  // One bucket of 3 batches sorted longest first: (5, 4), (3, 3), (2, 1): 18 of 10 + 6 + 4 = 20.
  EXPECT_DOUBLE_EQ(length_grouped_batches(lengths, BatchingOptions(2).bucket_batches(3).shuffle(false)).fill_ratio,
                   18.0 / 20.0);
  // Buckets of one batch sort within each pair only: the in-order pairs again, 18 / 24.
  EXPECT_DOUBLE_EQ(length_grouped_batches(lengths, BatchingOptions(2).bucket_batches(1).shuffle(false)).fill_ratio,
                   18.0 / 24.0);
  // Five samples: (5, 1), (4, 2), (3) is 15 of 10 + 8 + 3 = 21; dropping the short last batch
  // leaves 12 of 18.
  const auto five = at::tensor({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(random_batches(five, BatchingOptions(2).shuffle(false)).fill_ratio, 15.0 / 21.0);
  EXPECT_DOUBLE_EQ(random_batches(five, BatchingOptions(2).shuffle(false).drop_last(true)).fill_ratio, 12.0 / 18.0);
  // Nothing real and nothing padded: 1 by definition.
  EXPECT_DOUBLE_EQ(random_batches(at::tensor({0, 0, 0}), BatchingOptions(2).shuffle(false)).fill_ratio, 1.0);
}

constexpr RankSampler kRankSamplers[] = {RankSampler::Random, RankSampler::GroupedPerRank, RankSampler::GroupedGlobal};

TEST(RankBatchesRejects, Arguments) {
  const auto ten = at::arange(1, 11, at::kLong);
  EXPECT_REJECTS(parse_rank_sampler("sorted", "params.sampler"), "params.sampler", "grouped_global", "sorted");
  EXPECT_REJECTS(rank_batches(ten, 0, RankSampler::Random, BatchingOptions(5)), "ranks", "at least 1");
  EXPECT_REJECTS(rank_batches(ten, 2, RankSampler::Random, BatchingOptions(0)), "batch_size", "at least 1");
  EXPECT_REJECTS(rank_batches(ten, 2, RankSampler::GroupedPerRank, BatchingOptions(5).bucket_batches(0)),
                 "bucket_batches", "at least 1");
  EXPECT_REJECTS(rank_batches(ten, 3, RankSampler::Random, BatchingOptions(2)), "lengths",
                 "multiple of ranks x batch_size = 6", "got 10");
  EXPECT_REJECTS(rank_batches(ten, 4, RankSampler::GroupedGlobal, BatchingOptions(3).drop_last(true)), "lengths",
                 "at least ranks x batch_size = 12");
  EXPECT_REJECTS(rank_batches(ten, int64_t{1} << 40, RankSampler::Random, BatchingOptions(int64_t{1} << 40)),
                 "ranks x batch_size");
  EXPECT_REJECTS(rank_batches(at::zeros({0}, at::kLong), 1, RankSampler::Random, BatchingOptions(1)), "lengths",
                 "at least one");
  EXPECT_REJECTS(rank_batches(at::tensor({3, -2}), 1, RankSampler::Random, BatchingOptions(1)), "lengths", "row 1");
  EXPECT_REJECTS(rank_batches(at::tensor({3.0, 2.5}), 1, RankSampler::Random, BatchingOptions(1)), "lengths", "row 1");
  EXPECT_REJECTS(rank_batches(at::ones({4, 2}), 2, RankSampler::Random, BatchingOptions(2)), "lengths", "shape");
}

TEST(RankBatches, SamplerNamesRoundTrip) {
  for (const auto sampler : kRankSamplers) EXPECT_EQ(parse_rank_sampler(to_string(sampler), "sampler"), sampler);
}

TEST(RankBatchesProperties, EveryRankTakesEqualStepsAndEverySampleOnce) {
  const auto lengths = data_set_lengths(240);
  for (const auto sampler : kRankSamplers) {
    for (int64_t ranks = 1; ranks <= 4; ++ranks) {
      const auto plan = rank_batches(lengths, ranks, sampler, BatchingOptions(5).bucket_batches(3).seed(2));
      ASSERT_EQ(static_cast<int64_t>(plan.steps.size()), 240 / (5 * ranks)) << to_string(sampler);
      ASSERT_EQ(static_cast<int64_t>(plan.rank_fill_ratio.size()), ranks);
      std::set<int64_t> seen;
      for (const auto& step : plan.steps) {
        ASSERT_EQ(static_cast<int64_t>(step.size()), ranks);
        for (const auto& batch : step) {
          ASSERT_EQ(batch.numel(), 5);
          for (int64_t i = 0; i < batch.numel(); ++i) seen.insert(batch[i].item<int64_t>());
        }
      }
      EXPECT_EQ(seen.size(), 240u) << to_string(sampler) << " at R = " << ranks;
      EXPECT_GT(plan.fill_ratio, 0.0);
      EXPECT_LE(plan.fill_ratio, 1.0);
    }
  }
}

TEST(RankBatchesProperties, TheSeedDeterminesThePlan) {
  const auto lengths = data_set_lengths(96);
  for (const auto sampler : kRankSamplers) {
    const auto plan = rank_batches(lengths, 2, sampler, BatchingOptions(4).bucket_batches(2).seed(3));
    const auto again = rank_batches(lengths, 2, sampler, BatchingOptions(4).bucket_batches(2).seed(3));
    const auto other = rank_batches(lengths, 2, sampler, BatchingOptions(4).bucket_batches(2).seed(4));
    bool differs = false;
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      for (size_t r = 0; r < 2; ++r) {
        EXPECT_TRUE(at::equal(plan.steps[s][r], again.steps[s][r]));
        differs = differs || !at::equal(plan.steps[s][r], other.steps[s][r]);
      }
    }
    EXPECT_TRUE(differs) << to_string(sampler);
  }
}

TEST(RankBatchesProperties, DropLastLeavesOutTheTailOfTheOrder) {
  // 26 samples, 6 a step: 4 steps; unshuffled, samples 24 and 25 are the ones left out.
  const auto plan =
      rank_batches(at::arange(1, 27, at::kLong), 2, RankSampler::GroupedPerRank, BatchingOptions(3).shuffle(false).drop_last(true));
  ASSERT_EQ(plan.steps.size(), 4u);
  std::set<int64_t> seen;
  for (const auto& step : plan.steps) {
    for (const auto& batch : step) {
      for (int64_t i = 0; i < batch.numel(); ++i) seen.insert(batch[i].item<int64_t>());
    }
  }
  EXPECT_EQ(seen.size(), 24u);
  EXPECT_EQ(*seen.rbegin(), 23);
}

// Unshuffled, one bucket: sorted longest first 1 6 3 4 | 5 2 7 0 (lengths 8 7 6 5 | 4 3 2 1), each
// global batch dealt to the ranks by positions r, r + 2.
TEST(RankBatchesProperties, GroupedGlobalDealsASortedBatchRoundRobin) {
  const auto plan = rank_batches(at::tensor({1, 8, 3, 6, 5, 4, 7, 2}), 2, RankSampler::GroupedGlobal,
                                 BatchingOptions(2).bucket_batches(2).shuffle(false));
  const std::vector<std::vector<std::vector<int64_t>>> want = {{{1, 3}, {6, 4}}, {{5, 7}, {2, 0}}};
  for (size_t s = 0; s < 2; ++s) {
    for (size_t r = 0; r < 2; ++r) EXPECT_TRUE(at::equal(plan.steps[s][r], at::tensor(want[s][r])));
  }
  EXPECT_DOUBLE_EQ(plan.rank_fill_ratio[0], 20.0 / 24.0);
  EXPECT_DOUBLE_EQ(plan.rank_fill_ratio[1], 16.0 / 20.0);
  EXPECT_DOUBLE_EQ(plan.fill_ratio, 36.0 / 44.0);
}

// The mean over steps of (longest of the longest rank batch - shortest of them).
double mean_step_spread(const at::Tensor& lengths, const RankBatchPlan& plan) {
  double total = 0;
  for (const auto& step : plan.steps) {
    int64_t low = INT64_MAX, high = 0;
    for (const auto& batch : step) {
      const auto longest = lengths.index_select(0, batch).max().item<int64_t>();
      low = std::min(low, longest);
      high = std::max(high, longest);
    }
    total += static_cast<double>(high - low);
  }
  return total / static_cast<double>(plan.steps.size());
}

TEST(RankBatchesProperties, GroupingGloballyGivesAStepsRanksLikeLengths) {
  const auto lengths = data_set_lengths(512);
  const auto spread = [&](RankSampler sampler) {
    return mean_step_spread(lengths, rank_batches(lengths, 4, sampler, BatchingOptions(8).seed(1)));
  };
  EXPECT_LT(spread(RankSampler::GroupedGlobal), 0.25 * spread(RankSampler::GroupedPerRank));
  EXPECT_LT(spread(RankSampler::GroupedGlobal), 0.25 * spread(RankSampler::Random));
}

TEST(RankBatchesProperties, OneRankGroupsAsLengthGroupedBatches) {
  const auto lengths = data_set_lengths(120);
  for (const bool shuffle : {true, false}) {
    const auto options = BatchingOptions(8).bucket_batches(3).shuffle(shuffle).seed(9);
    const auto grouped = length_grouped_batches(lengths, options);
    const auto random = random_batches(lengths, options);
    for (const auto sampler : kRankSamplers) {
      const auto plan = rank_batches(lengths, 1, sampler, options);
      const auto& want = sampler == RankSampler::Random ? random : grouped;
      ASSERT_EQ(plan.steps.size(), want.batches.size());
      for (size_t s = 0; s < plan.steps.size(); ++s) EXPECT_TRUE(at::equal(plan.steps[s][0], want.batches[s]));
      EXPECT_DOUBLE_EQ(plan.fill_ratio, want.fill_ratio);
    }
  }
}

}  // namespace
}  // namespace seqpack
