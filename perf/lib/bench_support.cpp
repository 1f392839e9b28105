#include "bench_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "seqpack/errors.h"
#include "seqpack/models/model_registry.h"

namespace seqpack::perf {

const Profile& profile() {
  static const Profile loaded = [] {
    const char* chosen = std::getenv("SEQPACK_PROFILE");
    Profile p{chosen ? chosen : "quick", {}, {}, read_distributions(std::string(perf_source_dir()) + "/distributions.csv")};
    std::ifstream in(std::string(perf_source_dir()) + "/profiles.json");
    const auto all = nlohmann::json::parse(in);
    if (!all.contains(p.name) || p.name == "model" || p.name == "model_params") reject("SEQPACK_PROFILE", "no profile \"{}\" in profiles.json", p.name);
    p.settings = all.at(p.name);
    p.model = all.at("model");
    return p;
  }();
  return loaded;
}

const LengthDistribution& distribution_named(const std::string& name) {
  for (const auto& d : profile().distributions) {
    if (d.name == name) return d;
  }
  if (name.starts_with(kFilePrefix)) {
    static std::map<std::string, LengthDistribution> files;  // read once per worker: arms share them
    if (const auto found = files.find(name); found != files.end()) return found->second;
    auto read = read_lengths_file(name, std::filesystem::path(perf_source_dir()).parent_path());
    return files.emplace(name, std::move(read)).first->second;
  }
  reject("arm distribution", "no distribution \"{}\" in perf/distributions.csv, and not file:PATH", name);
}

at::Tensor left_aligned_batch(const std::vector<int64_t>& lengths, int64_t steps, int64_t features) {
  const auto batch = static_cast<int64_t>(lengths.size());
  const auto valid = at::arange(steps).unsqueeze(0) < at::tensor(lengths).unsqueeze(1);
  return at::randn({batch, steps, features}) * valid.unsqueeze(-1);
}

at::Tensor right_aligned_batch(const std::vector<int64_t>& lengths, int64_t steps, int64_t features) {
  return left_aligned_batch(lengths, steps, features).flip(1).contiguous();
}

std::vector<Sample> windows(const std::vector<int64_t>& encoder_lengths, int64_t steps,
                            const std::vector<int64_t>& decoder_lengths, int64_t decoder_steps, int64_t features,
                            int64_t decoder_features) {
  const auto encoders = right_aligned_batch(encoder_lengths, steps, features);
  const auto decoders = left_aligned_batch(decoder_lengths, decoder_steps, decoder_features);
  const auto targets = left_aligned_batch(decoder_lengths, decoder_steps, 1);
  std::vector<Sample> samples;
  for (size_t i = 0; i < encoder_lengths.size(); ++i) {
    const auto row = static_cast<int64_t>(i);
    samples.push_back({encoders[row].clone(), decoders[row].clone(), targets[row].clone(),
                       at::tensor({encoder_lengths[i]}), at::tensor({static_cast<float>(decoder_lengths[i])}),
                       (encoders[row] != 0).to(at::kFloat), (decoders[row] != 0).to(at::kFloat)});
  }
  return samples;
}

std::shared_ptr<models::ForecastModel> benchmark_model(const std::string& name, const ModelBuild& build) {
  const auto* entry = models::find_model(name);
  if (!entry) reject("model", "no benchmark model \"{}\"", name);
  if (!build.params.is_object()) reject("arm model_params", "must be an object of hyperparameters");
  auto params = profile().model;
  params.erase("description");  // profiles.json's note, not a hyperparameter
  for (const auto& key : {"packing", "packed_lstm"}) {
    if (build.params.contains(key)) reject("arm model_params", "may not set \"{}\": the arm's mode names the path", key);
  }
  if (entry->family == models::ModelFamily::Lstm) {
    params["packing"] = std::string(models::to_string(build.packing));
    params["packed_lstm"] = std::string(models::to_string(build.packed_lstm));
  } else {
    // What the original's Lightning modules pass (reference: registry.py's static_params and window_params).
    if (entry->takes_static_covariates) params["num_static_features"] = 1;
    for (const auto& asked : entry->parameters()) {
      if (asked.name == "ctxt_seq_len") params["ctxt_seq_len"] = build.encoder_steps;
      if (asked.name == "tgt_seq_len") params["tgt_seq_len"] = build.decoder_steps;
    }
  }
  params.update(build.params);
  ops::Params reader(params);
  auto model = entry->build(reader);
  reader.finish(entry->op());
  return model;
}

std::shared_ptr<models::ForecastModel> benchmark_model(const std::string& name, models::Packing packing,
                                                       models::PackedLstm packed_lstm) {
  const auto* entry = models::find_model(name);
  if (!entry || entry->family != models::ModelFamily::Lstm) reject("model", "no benchmark model \"{}\"", name);
  return benchmark_model(name, ModelBuild{.packing = packing, .packed_lstm = packed_lstm});
}

void reset_peak_memory() {
  std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current resident size
}

double peak_memory_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0.0;
}

void set_counters(benchmark::State& state, const std::vector<int64_t>& lengths, int64_t steps) {
  const auto batch = static_cast<double>(lengths.size());
  const auto real_steps = static_cast<double>(std::accumulate(lengths.begin(), lengths.end(), int64_t{0}));
  const auto iterations = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());  // items_per_second = it/s
  state.counters["samples_per_second"] = benchmark::Counter(batch * iterations, benchmark::Counter::kIsRate);
  state.counters["timesteps_per_second"] = benchmark::Counter(real_steps * iterations, benchmark::Counter::kIsRate);
  state.counters["fill_ratio"] = fill_ratio(lengths, steps);
  state.counters["peak_memory_mib"] = peak_memory_mib();
}

benchmark::internal::Benchmark* with_profile(benchmark::internal::Benchmark* bench, const std::string& kind) {
  const auto min_time = profile().settings.at(kind + "_min_time_s").get<double>();
  // Repetitions come from the command line (--benchmark_repetitions): the program stands alone.
  return bench->MinTime(min_time)->Unit(benchmark::kMillisecond);
}

int run_benchmarks(int argc, char** argv, void (*register_all)()) {
  // Repetitions of different benchmarks run in random order, so that a busy spell on a shared
  // machine spreads over all the points instead of shifting every repetition of one (without it,
  // one run measured the same padded LSTM step at 70-127 ms across its points). A later
  // --benchmark_enable_random_interleaving=false on the command line wins.
  std::vector<char*> args(argv, argv + argc);
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, interleave.data());
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace seqpack::perf
