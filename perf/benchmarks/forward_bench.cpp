// Inference forward (no gradient, eval mode) of each LSTM-family model: eager C++ padded and
// packed, and the AOTInductor package of the padded forward (reference/seqpack_reference/compiled/
// export.py --perf, found under $SEQPACK_AOTI_DIR/perf/) run through CompiledModel. The eager
// models load the package's weights, so all three run the same model; float32, the original's
// default sizes, T as exported (the profile's encoder_steps and decoder_steps).
// Names: forward/<model>/cpp/<padded|packed|compiled>/<distribution>/<B>/<T encoder>.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "bench_support.h"
#include "seqpack/compiled_model.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/safetensors.h"

namespace seqpack::perf {
namespace {

using models::Packing;

std::filesystem::path package_folder() {
  const char* root = std::getenv("SEQPACK_AOTI_DIR");
  return std::filesystem::path(root ? root : "") / "perf";
}

void forward(benchmark::State& state, const std::string& model_name, const std::string& path,
             const LengthDistribution& distribution, int64_t batch) {
  const auto package = package_folder() / (model_name + ".pt2");
  const auto weights = package_folder() / (model_name + ".weights.safetensors");
  if (!std::filesystem::exists(package) || !std::filesystem::exists(weights)) {
    state.SkipWithError("no package: run seqpack_reference.compiled.export --perf and set SEQPACK_AOTI_DIR");
    return;
  }
  const int64_t te = profile().settings.at("encoder_steps"), td = profile().settings.at("decoder_steps");
  const auto encoder_lengths = batch_lengths(distribution, batch, te, 1);
  const auto decoder_lengths = batch_lengths(distribution, batch, td, 2);
  const std::vector<at::Tensor> inputs{left_aligned_batch(encoder_lengths, te, profile().model.at("num_past_features")),
                                       left_aligned_batch(decoder_lengths, td, profile().model.at("num_future_features")),
                                       at::tensor(encoder_lengths), at::tensor(decoder_lengths)};
  torch::NoGradGuard no_grad;
  std::function<at::Tensor()> run;
  std::unique_ptr<CompiledModel> compiled;
  std::shared_ptr<models::ForecastModel> model;
  if (path == "compiled") {
    compiled = std::make_unique<CompiledModel>(package.string());
    run = [&] { return compiled->forward(inputs); };
  } else {
    model = benchmark_model(model_name, path == "packed" ? Packing::Always : Packing::Never);
    models::load_state_dict(*model, read_safetensors(weights.string()).tensors);
    model->eval();
    run = [&] { return model->forward({inputs[0], inputs[1], inputs[2], inputs[3]}); };
  }
  run();  // warm-up: first-touch allocations, oneDNN primitives, the package's constants
  reset_peak_memory();
  for (auto _ : state) benchmark::DoNotOptimize(run().data_ptr());
  auto all_lengths = encoder_lengths;
  all_lengths.insert(all_lengths.end(), decoder_lengths.begin(), decoder_lengths.end());
  set_counters(state, encoder_lengths, te);
  state.counters["timesteps_per_second"] = benchmark::Counter(
      static_cast<double>(std::accumulate(all_lengths.begin(), all_lengths.end(), int64_t{0})) *
          static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

void register_all() {
  for (const std::string model : profile().settings.value("forward_models", std::vector<std::string>{})) {
    for (const std::string path : {"padded", "packed", "compiled"}) {
      for (const auto& distribution : profile().distributions) {
        for (const int64_t batch : profile().settings.value("forward_batch_sizes", std::vector<int64_t>{})) {
          const auto name = fmt::format("forward/{}/cpp/{}/{}/{}/{}", model, path, distribution.name, batch,
                                        profile().settings.at("encoder_steps").get<int64_t>());
          with_profile(benchmark::RegisterBenchmark(name.c_str(),
                                                    [=](benchmark::State& state) {
                                                      forward(state, model, path, distribution, batch);
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
