// Batching: collate alone (windows of T steps, right-aligned as the original's data set makes them,
// into a batch for the LSTM family), and a training epoch over a data set cut into random batches
// against length-grouped batches, padded and packed.
// Names: primitive/<collate|collate_auto>/cpp/<distribution>/<B>/<T>
//        grouping/<model>/cpp/<padded|packed>_<random|grouped>/<distribution>/<B>/<T encoder>.
#include <fmt/format.h>

#include "bench_support.h"
#include "seqpack/collate.h"
#include "seqpack/length_grouped_batches.h"
#include "seqpack/models/training_step.h"

namespace seqpack::perf {
namespace {

constexpr int64_t kFeatures = 8;

// Right-aligned windows of `steps` (encoder) and left-aligned decoders with the given lengths,
// masks and lengths included, as the original's data set yields them.
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

void collate_bench(benchmark::State& state, const LengthDistribution& distribution, int64_t batch, int64_t steps,
                   Source source) {
  const auto lengths = batch_lengths(distribution, batch, steps);
  const auto samples = windows(lengths, steps, std::vector<int64_t>(lengths.size(), steps / 4), steps / 4, kFeatures, 4);
  const auto options = CollateOptions().encoder_alignment(Alignment::Left).sample_alignment(source);
  for (auto _ : state) benchmark::DoNotOptimize(collate(samples, options).encoder_input.data_ptr());
  set_counters(state, lengths, steps);
}

struct Epoch {
  std::vector<models::ModelInputs> inputs;
  std::vector<at::Tensor> targets;
  double fill_ratio = 0;
  int64_t samples = 0, timesteps = 0;
};

// A data set of `batches` batches' worth of windows, cut randomly or by encoder length, each
// batch collated as the original's data module does (trimmed to its longest lengths, left-aligned).
Epoch epoch(const LengthDistribution& distribution, int64_t batch, bool grouped) {
  const int64_t te = profile().settings.at("encoder_steps"), td = profile().settings.at("decoder_steps");
  const int64_t size = batch * profile().settings.at("grouping_data_set_batches").get<int64_t>();
  const auto encoder_lengths = batch_lengths(distribution, size, te, 1);
  const auto decoder_lengths = batch_lengths(distribution, size, td, 2);
  const auto samples = windows(encoder_lengths, te, decoder_lengths, td, profile().model.at("num_past_features"),
                               profile().model.at("num_future_features"));
  const auto options = BatchingOptions(batch).seed(0);
  const auto lengths = at::tensor(encoder_lengths);
  const auto plan = grouped ? length_grouped_batches(lengths, options) : random_batches(lengths, options);
  Epoch out;
  for (const auto& members : plan.batches) {
    std::vector<Sample> chosen;
    for (int64_t k = 0; k < members.numel(); ++k) chosen.push_back(samples[members[k].item<int64_t>()]);
    const auto b = collate(chosen, CollateOptions().encoder_alignment(Alignment::Left).sample_alignment(Source::Right));
    out.inputs.push_back({b.encoder_input, b.decoder_input, b.encoder_lengths->reshape({-1}),
                          b.decoder_lengths->reshape({-1})});
    out.targets.push_back(b.target);
    out.samples += members.numel();
    out.timesteps += b.encoder_lengths->sum().item<int64_t>() + b.decoder_lengths->sum().item<int64_t>();
  }
  out.fill_ratio = plan.fill_ratio;
  return out;
}

// One benchmark iteration is a whole epoch, so that every repetition sees the same mix of short
// and long batches; items_per_second counts training steps.
void grouping_bench(benchmark::State& state, const std::string& model_name, models::Packing packing,
                    const LengthDistribution& distribution, int64_t batch, bool grouped) {
  const auto data = epoch(distribution, batch, grouped);
  torch::manual_seed(0);
  models::TrainingStep step(benchmark_model(model_name, packing));
  for (size_t i = 0; i < data.inputs.size(); ++i) step(data.inputs[i], data.targets[i]);  // warm-up: every shape once
  reset_peak_memory();
  for (auto _ : state) {
    for (size_t i = 0; i < data.inputs.size(); ++i) benchmark::DoNotOptimize(step(data.inputs[i], data.targets[i]).data_ptr());
  }
  const auto epochs = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.inputs.size()));
  state.counters["samples_per_second"] = benchmark::Counter(static_cast<double>(data.samples) * epochs, benchmark::Counter::kIsRate);
  state.counters["timesteps_per_second"] = benchmark::Counter(static_cast<double>(data.timesteps) * epochs, benchmark::Counter::kIsRate);
  state.counters["fill_ratio"] = data.fill_ratio;
  state.counters["peak_memory_mib"] = peak_memory_mib();
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
  for (const std::string model : settings.at("grouping_models")) {
    for (const auto& [path, packing] : {std::pair{"padded", models::Packing::Never}, {"packed", models::Packing::Always}}) {
      for (const bool grouped : {false, true}) {
        for (const auto& distribution : profile().distributions) {
          for (const int64_t batch : settings.at("grouping_batch_sizes")) {
            const auto name = fmt::format("grouping/{}/cpp/{}_{}/{}/{}/{}", model, path, grouped ? "grouped" : "random",
                                          distribution.name, batch, settings.at("encoder_steps").get<int64_t>());
            with_profile(benchmark::RegisterBenchmark(name.c_str(), [=, &distribution](benchmark::State& state) {
                           grouping_bench(state, model, packing, distribution, batch, grouped);
                         }),
                         "grouping");
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace seqpack::perf

int main(int argc, char** argv) { return seqpack::perf::run_benchmarks(argc, argv, seqpack::perf::register_all); }
