// Deterministic workloads for the instruction-count gate: each primitive (fused align-and-pack
// among them), one training step of each LSTM-family model (padded, packed by PyTorch's LSTM, packed
// by seqpack's segmented and stepwise LSTMs), the padding-free step and a TFT-family step, at a fixed
// small size, one thread. Under valgrind (perf/gate.py runs
//   valgrind --tool=callgrind --instr-atstart=no instruction_counts [FILTER])
// only the measured call of each workload is instrumented, after an uncounted warm-up call, and
// its counts are dumped under the workload's name. Without valgrind it runs each once (a smoke test).
#include <valgrind/callgrind.h>

#include <fmt/format.h>

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "seqpack/calc_loss.h"
#include "seqpack/collate.h"
#include "seqpack/length_grouped_batches.h"
#include "seqpack/masks.h"
#include "seqpack/models/model_registry.h"
#include "seqpack/models/training_step.h"
#include "seqpack/sequence.h"
#include "workloads.h"

namespace seqpack::perf {
namespace {

constexpr int64_t kBatch = 64, kSteps = 128, kFeatures = 8;  // data-sized work dominates fixed costs

struct CountedCall {
  std::string name;
  std::function<void()> run;  // the measured call; set-up happens when the workload is built
};

std::vector<int64_t> lengths() {
  return batch_lengths(distribution_named("uniform_half"), kBatch, kSteps);
}

std::vector<CountedCall> primitives() {
  const auto x = left_aligned_batch(lengths(), kSteps, kFeatures);
  const auto l = at::tensor(lengths());
  const auto packed = pack_decoder_sequences(x, l);
  const auto right = align_encoder_sequences(x, l, AlignOptions(Source::Left).alignment(Alignment::Right));
  const auto y = at::randn({kBatch, kSteps, 7}).requires_grad_(true);
  const auto target = at::randn({kBatch, kSteps, 1}) + 3.0;
  std::vector<CountedCall> all{
      {"align_explicit", [=] { align_encoder_sequences(x, l, AlignOptions(Source::Left)); }},
      {"align_auto", [=] { align_encoder_sequences(x, l, AlignOptions(Source::Auto)); }},
      {"pack", [=] { pack_decoder_sequences(x, l); }},
      {"align_pack_fused", [=] { pack_encoder_sequences(right, l, PackEncoderOptions(Source::Right)); }},
      {"unpack", [=] { unpack_to_fixed_length(packed, UnpackOptions().total_length(kSteps)); }},
      {"create_mask", [=] { create_mask(kSteps, l); }},
      {"get_attention_mask", [=] { get_attention_mask(l, l, kSteps, kSteps); }},
  };
  for (const auto& [name, kind] : {std::pair{"loss_mse", CriterionKind::MSE}, {"loss_mae", CriterionKind::MAE},
                                   {"loss_huber", CriterionKind::Huber}, {"loss_mape", CriterionKind::MAPE},
                                   {"loss_smape", CriterionKind::SMAPE}, {"loss_quantile", CriterionKind::Quantile}}) {
    const auto prediction = kind == CriterionKind::Quantile ? y : y.narrow(2, 0, 1);
    // An init-capture: clang before 16 cannot capture a structured binding.
    all.push_back({name, [=, kind = kind] { calc_loss(prediction, target, l, Criterion().kind(kind)).backward(); }});
  }
  std::vector<Sample> samples;
  const auto windows = right_aligned_batch(lengths(), kSteps, kFeatures);
  for (int64_t i = 0; i < kBatch; ++i) {
    samples.push_back({windows[i].clone(), x[i].narrow(0, 0, 8).clone(), x[i].narrow(0, 0, 8).narrow(1, 0, 1).clone(),
                       at::tensor({lengths()[i]}), at::tensor({int64_t{8}}), std::nullopt, std::nullopt});
  }
  all.push_back({"collate", [=] { collate(samples); }});
  const auto data_set = at::tensor(batch_lengths(distribution_named("heavy_tailed"), 256, 64));
  all.push_back({"length_grouped_batches", [=] { length_grouped_batches(data_set, BatchingOptions(16).bucket_batches(4)); }});
  return all;
}

std::vector<CountedCall> steps() {
  std::vector<CountedCall> all;
  for (const auto* model : models::models_of(models::ModelFamily::Lstm)) {
    for (const auto& [path, packing, packed_lstm] :
         {std::tuple{"padded", models::Packing::Never, models::PackedLstm::PyTorch},
          {"packed", models::Packing::Always, models::PackedLstm::PyTorch},
          {"segmented", models::Packing::Always, models::PackedLstm::Segments},
          {"stepwise", models::Packing::Always, models::PackedLstm::Stepwise}}) {
      torch::manual_seed(0);
      auto step = std::make_shared<models::TrainingStep>(benchmark_model(model->name, packing, packed_lstm));
      const auto encoder = batch_lengths(distribution_named("uniform_half"), 8, 16, 1);
      const auto decoder = batch_lengths(distribution_named("uniform_half"), 8, 4, 2);
      const models::ModelInputs inputs{left_aligned_batch(encoder, 16, profile().model.at("num_past_features")),
                                       left_aligned_batch(decoder, 4, profile().model.at("num_future_features")),
                                       at::tensor(encoder), at::tensor(decoder)};
      const auto target = at::randn({8, 4, 1});
      all.push_back({fmt::format("step_{}_{}", model->name, path), [=] { (*step)(inputs, target); }});
    }
  }
  return all;
}

// One step of the paths that the loop above cannot build from (model, packing): padding_free, the
// suite's fastest (every layer on the real steps), and a TFT-family model (its own inputs and static
// covariates), built as the benchmark worker builds them, at the same small size.
std::vector<CountedCall> arm_steps() {
  std::vector<CountedCall> all;
  const auto tft_params = nlohmann::json{{"d_model", 16}, {"d_hidden_continuous", 8}, {"num_heads", 2},
                                         {"num_lstm_layers", 1}};
  for (const auto& [model, mode, params] :
       {std::tuple{"transformer_lstm", "padding_free", nlohmann::json::object()},
        {"attention_lstm", "padding_free", nlohmann::json::object()}, {"tft", "padded", tft_params}}) {
    torch::manual_seed(0);
    const auto arm = arm_from_json({{"kind", "step"}, {"what", model}, {"mode", mode}, {"distribution", "uniform_half"},
                                    {"batch", 8}, {"encoder_steps", 16}, {"decoder_steps", 4},
                                    {"model_params", params}});
    auto workload = std::make_shared<Workload>(make_workload(arm));
    all.push_back({fmt::format("step_{}_{}", model, mode), [workload] { workload->run(1); }});
  }
  return all;
}

}  // namespace
}  // namespace seqpack::perf

int main(int argc, char** argv) {
  using namespace seqpack::perf;
  at::set_num_threads(1);  // one thread: the count must not depend on scheduling
  at::manual_seed(0);
  const std::string filter = argc > 1 ? argv[1] : "";
  auto workloads = primitives();
  for (auto& w : steps()) workloads.push_back(std::move(w));
  for (auto& w : arm_steps()) workloads.push_back(std::move(w));
  for (const auto& w : workloads) {
    if (filter == "--list") {
      std::cout << w.name << "\n";
      continue;
    }
    if (w.name.find(filter) == std::string::npos) continue;
    w.run();  // warm-up: first-call allocations and kernel caches are not what the gate watches
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
    w.run();
    CALLGRIND_STOP_INSTRUMENTATION;
    CALLGRIND_DUMP_STATS_AT(w.name.c_str());
  }
  return 0;
}
