#pragma once
// Shared by the benchmark programs: the profile (perf/profiles.json, chosen by SEQPACK_PROFILE,
// default quick), the distributions, left-aligned batches, and the peak-memory counter.
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "length_distributions.h"
#include "seqpack/collate.h"
#include "seqpack/models/forecast_model.h"

namespace seqpack::perf {

struct Profile {
  std::string name;
  nlohmann::json settings;   // the profile's entry in profiles.json
  nlohmann::json model;      // the "model" entry
  std::vector<LengthDistribution> distributions;
};

const Profile& profile();

// This build's source perf/ folder (perf_source_dir.cpp: the one place its path is compiled in).
const char* perf_source_dir();

// The distribution of perf/distributions.csv named `name`, or the lengths file it names
// ("file:PATH[@clip|@scale]", read_lengths_file); InvalidArgument ("arm distribution") if neither.
const LengthDistribution& distribution_named(const std::string& name);

// (B, T, F) float32, row i holding lengths[i] random steps from step 0 and zeros after.
at::Tensor left_aligned_batch(const std::vector<int64_t>& lengths, int64_t steps, int64_t features);
// The same rows right-aligned (data at the end).
at::Tensor right_aligned_batch(const std::vector<int64_t>& lengths, int64_t steps, int64_t features);

// Windows as the original's data set yields them: encoders right-aligned in `steps`, decoders and
// targets left-aligned in `decoder_steps`, with their masks and lengths.
std::vector<Sample> windows(const std::vector<int64_t>& encoder_lengths, int64_t steps,
                            const std::vector<int64_t>& decoder_lengths, int64_t decoder_steps, int64_t features,
                            int64_t decoder_features);

// How a benchmark model is built beyond its name: the LSTM family's path (the TFT family has only
// its padded one), hyperparameters over profiles.json's "model" (an arm's model_params), and the
// window the model is built for (TFT's ctxt_seq_len and tgt_seq_len).
struct ModelBuild {
  models::Packing packing = models::Packing::Never;
  models::PackedLstm packed_lstm = models::PackedLstm::PyTorch;
  nlohmann::json params = nlohmann::json::object();
  int64_t encoder_steps = 0, decoder_steps = 0;
};

// One model of model_registry.h ("attention_lstm", "tft", ...), float32 on the CPU, built from
// profiles.json's "model" params (the feature counts; every other hyperparameter the original's
// default) with build.params over them. TFT and PFTFT get one static feature and TFT its window, as
// the original's Lightning modules build them. A key the model does not take is refused.
std::shared_ptr<models::ForecastModel> benchmark_model(const std::string& name, const ModelBuild& build);
// An LSTM-family model at the profile's params, on the given path.
std::shared_ptr<models::ForecastModel> benchmark_model(const std::string& name, models::Packing packing,
                                                       models::PackedLstm packed_lstm = models::PackedLstm::PyTorch);

// Peak resident memory of the process since the last reset, in MiB (Linux: /proc/self, VmHWM).
void reset_peak_memory();
double peak_memory_mib();

// Sets the counters every benchmark reports: samples/s and real timesteps/s as rates, the fill
// ratio, and the peak memory of the run.
void set_counters(benchmark::State& state, const std::vector<int64_t>& lengths, int64_t steps);

// The profile's minimum time for `kind` (<kind>_min_time_s); repetitions come from the command line.
benchmark::internal::Benchmark* with_profile(benchmark::internal::Benchmark* bench, const std::string& kind);

// A benchmark program's main: Google Benchmark's flags, then register_all(), then the runs.
int run_benchmarks(int argc, char** argv, void (*register_all)());

}  // namespace seqpack::perf
