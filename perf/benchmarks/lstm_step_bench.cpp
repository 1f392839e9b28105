// The LSTM alone: one training step (forward through run_lstm, a loss over the valid steps,
// backward, gradients cleared) of the LSTM-family models' LSTM at the original's defaults
// (2 layers, hidden 128, dropout 0.1 between layers, float32), padded, packed by PyTorch,
// segmented and stepwise (seqpack's packed runs), over the profile's step batch sizes and every
// distribution. This isolates what packing can save: the rest of a model's step runs padded.
// Names: lstm_step/lstm/cpp/<padded|packed|segmented|stepwise>/<distribution>/<B>/<T encoder>.
#include <fmt/format.h>

#include "bench_support.h"
#include "seqpack/masks.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/lstm_path.h"

namespace seqpack::perf {
namespace {

using models::PackedLstm;
using models::Packing;

struct LstmPath {
  std::string name;
  Packing packing;
  PackedLstm packed_lstm;
};

const std::vector<LstmPath> kPaths{{"padded", Packing::Never, PackedLstm::PyTorch},
                                   {"packed", Packing::Always, PackedLstm::PyTorch},
                                   {"segmented", Packing::Always, PackedLstm::Segments},
                                   {"stepwise", Packing::Always, PackedLstm::Stepwise}};

void lstm_step(benchmark::State& state, const LstmPath& path, const LengthDistribution& distribution, int64_t batch) {
  const int64_t steps = profile().settings.at("encoder_steps");
  const int64_t features = profile().model.at("num_past_features");
  const auto lengths = batch_lengths(distribution, batch, steps, 1);
  torch::manual_seed(0);
  torch::nn::LSTM lstm(models::family_lstm_options(features, 128, 2, 0.1));
  const auto input = left_aligned_batch(lengths, steps, features);
  const auto lengths_tensor = at::tensor(lengths);
  // Both paths see the same loss: the padded path's output is masked like the packed one's zeros.
  const auto valid = create_mask(steps, lengths_tensor).unsqueeze(-1).to(at::kFloat);
  auto step = [&] {
    const auto run = models::run_lstm(lstm, input, lengths_tensor, path.packing, path.packed_lstm,
                                      models::LstmRole::Decoder);
    (run.output * valid).square().sum().backward();
    for (auto& p : lstm->parameters()) p.mutable_grad().reset();
  };
  step();  // warm-up: first-touch allocations and oneDNN primitive creation
  reset_peak_memory();
  for (auto _ : state) step();
  set_counters(state, lengths, steps);
}

void register_all() {
  for (const auto& path : kPaths) {
    for (const auto& distribution : profile().distributions) {
      for (const int64_t batch : profile().settings.at("step_batch_sizes")) {
        const auto name = fmt::format("lstm_step/lstm/cpp/{}/{}/{}/{}", path.name, distribution.name, batch,
                                      profile().settings.at("encoder_steps").get<int64_t>());
        with_profile(benchmark::RegisterBenchmark(
                         name.c_str(), [=](benchmark::State& state) { lstm_step(state, path, distribution, batch); }),
                     "step");
      }
    }
  }
}

}  // namespace
}  // namespace seqpack::perf

int main(int argc, char** argv) { return seqpack::perf::run_benchmarks(argc, argv, seqpack::perf::register_all); }
