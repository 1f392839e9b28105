// The primitives alone (perf/lib/primitives.cpp), stand-alone in Google Benchmark, over the
// profile's batch sizes, T and every length distribution, for profiling one primitive by hand:
//   SEQPACK_PROFILE=quick build/release/perf/primitives_bench --benchmark_filter=align_pack_fused
// The reports measure the same calls through the comparison engine (perf/run_matrix.py), in paired
// rounds. Names: primitive/<op>/cpp/<distribution>/<B>/<T>.
#include <fmt/format.h>

#include "bench_support.h"
#include "primitives.h"

namespace seqpack::perf {
namespace {

void register_all() {
  const auto& settings = profile().settings;
  for (const auto& op : primitive_names()) {
    for (const auto& distribution : profile().distributions) {
      for (const int64_t batch : settings.at("primitive_batch_sizes")) {
        for (const int64_t steps : settings.at("primitive_steps")) {
          const auto lengths = batch_lengths(distribution, batch, steps);
          const auto name = fmt::format("primitive/{}/cpp/{}/{}/{}", op, distribution.name, batch, steps);
          with_profile(benchmark::RegisterBenchmark(name.c_str(),
                                                    [op, lengths, steps](benchmark::State& state) {
                                                      const auto call = make_primitive(op, lengths, steps);
                                                      reset_peak_memory();
                                                      for (auto _ : state) benchmark::DoNotOptimize(call());
                                                      set_counters(state, lengths, steps);
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
