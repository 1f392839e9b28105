// Collate alone: windows of T steps, right-aligned as the original's data set makes them, into a
// batch for the LSTM family, from the explicit source and from the original's guess (auto). The
// training epochs over random and length-grouped batches are workloads of the comparison engine
// (perf/lib/workloads.cpp, kind grouping).
// Names: primitive/<collate|collate_auto>/cpp/<distribution>/<B>/<T>
#include <fmt/format.h>

#include "bench_support.h"
#include "seqpack/collate.h"

namespace seqpack::perf {
namespace {

constexpr int64_t kFeatures = 8;

void collate_bench(benchmark::State& state, const LengthDistribution& distribution, int64_t batch, int64_t steps,
                   Source source) {
  const auto lengths = batch_lengths(distribution, batch, steps);
  const auto samples = windows(lengths, steps, std::vector<int64_t>(lengths.size(), steps / 4), steps / 4, kFeatures, 4);
  const auto options = CollateOptions().encoder_alignment(Alignment::Left).sample_alignment(source);
  for (auto _ : state) benchmark::DoNotOptimize(collate(samples, options).encoder_input.data_ptr());
  set_counters(state, lengths, steps);
}

void register_all() {
  const auto& settings = profile().settings;
  for (const auto& distribution : profile().distributions) {
    for (const int64_t batch : settings.at("collate_batch_sizes")) {
      for (const int64_t steps : settings.at("collate_steps")) {
        for (const auto& [op, source] : {std::pair{"collate", Source::Right}, {"collate_auto", Source::Auto}}) {
          const auto name = fmt::format("primitive/{}/cpp/{}/{}/{}", op, distribution.name, batch, steps);
          with_profile(benchmark::RegisterBenchmark(name.c_str(), [=, &distribution](benchmark::State& state) {
                         collate_bench(state, distribution, batch, steps, source);
                       }),
                       "primitive");
        }
      }
    }
  }
}

}  // namespace
}  // namespace seqpack::perf

int main(int argc, char** argv) { return seqpack::perf::run_benchmarks(argc, argv, seqpack::perf::register_all); }
