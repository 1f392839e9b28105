// One full training step (forward, the model's default loss through calc_loss, backward, Adam)
// for each LSTM-family model, padded, packed (PyTorch's packed LSTM, as the original),
// segmented and stepwise (packed, run by seqpack's own LSTM runs), over the profile's batch sizes
// and every length distribution. The models use the original's default hyperparameters in float32.
// Names: step/<model>/cpp/<padded|packed|segmented|stepwise>/<distribution>/<B>/<T encoder>.
#include <fmt/format.h>

#include <map>
#include <numeric>

#include "bench_support.h"
#include "seqpack/models/training_step.h"

namespace seqpack::perf {
namespace {

using models::PackedLstm;
using models::Packing;

struct StepPath {
  std::string name;
  Packing packing;
  PackedLstm packed_lstm;
};

void training_step(benchmark::State& state, const std::string& model_name, const StepPath& path,
                   const LengthDistribution& distribution, int64_t batch) {
  const int64_t te = profile().settings.at("encoder_steps"), td = profile().settings.at("decoder_steps");
  const auto encoder_lengths = batch_lengths(distribution, batch, te, 1);
  const auto decoder_lengths = batch_lengths(distribution, batch, td, 2);
  torch::manual_seed(0);
  auto model = benchmark_model(model_name, path.packing, path.packed_lstm);
  models::TrainingStep step(model);
  const models::ModelInputs inputs{left_aligned_batch(encoder_lengths, te, profile().model.at("num_past_features")),
                                   left_aligned_batch(decoder_lengths, td, profile().model.at("num_future_features")),
                                   at::tensor(encoder_lengths), at::tensor(decoder_lengths)};
  const auto target = at::randn({batch, td, 1});
  step(inputs, target);  // warm-up: first-touch allocations and oneDNN primitive creation
  reset_peak_memory();
  for (auto _ : state) benchmark::DoNotOptimize(step(inputs, target).data_ptr());
  auto all_lengths = encoder_lengths;
  all_lengths.insert(all_lengths.end(), decoder_lengths.begin(), decoder_lengths.end());
  set_counters(state, encoder_lengths, te);
  // Real timesteps count encoder and decoder steps; samples count rows once.
  state.counters["timesteps_per_second"] = benchmark::Counter(
      static_cast<double>(std::accumulate(all_lengths.begin(), all_lengths.end(), int64_t{0})) *
          static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

// The profile's optional "step_paths" (default padded, packed, segmented, stepwise): padded,
// packed (PyTorch's packed LSTM), segmented or stepwise (seqpack's), or a packing choice (auto,
// calibrated).
std::vector<StepPath> step_paths() {
  const std::map<std::string, StepPath> fixed{{"padded", {"padded", Packing::Never, PackedLstm::PyTorch}},
                                              {"packed", {"packed", Packing::Always, PackedLstm::PyTorch}},
                                              {"segmented", {"segmented", Packing::Always, PackedLstm::Segments}},
                                              {"stepwise", {"stepwise", Packing::Always, PackedLstm::Stepwise}}};
  std::vector<StepPath> out;
  const auto names = profile().settings.value("step_paths", std::vector<std::string>{"padded", "packed", "segmented", "stepwise"});
  for (const auto& name : names) {
    const auto path = fixed.find(name);
    out.push_back(path != fixed.end() ? path->second
                                      : StepPath{name, models::parse_packing(name, "profile step_paths"), PackedLstm::PyTorch});
  }
  return out;
}

void register_all() {
  for (const std::string model : {"attention_lstm", "encoder_decoder_lstm", "transformer_lstm"}) {
    for (const auto& path : step_paths()) {
      for (const auto& distribution : profile().distributions) {
        for (const int64_t batch : profile().settings.at("step_batch_sizes")) {
          const auto name = fmt::format("step/{}/cpp/{}/{}/{}/{}", model, path.name, distribution.name, batch,
                                        profile().settings.at("encoder_steps").get<int64_t>());
          with_profile(benchmark::RegisterBenchmark(name.c_str(),
                                                    [=](benchmark::State& state) {
                                                      training_step(state, model, path, distribution, batch);
                                                    }),
                       "step");
        }
      }
    }
  }
}

}  // namespace
}  // namespace seqpack::perf

int main(int argc, char** argv) { return seqpack::perf::run_benchmarks(argc, argv, seqpack::perf::register_all); }
