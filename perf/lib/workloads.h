#pragma once
// The measured workloads of the comparison engine (perf/engine.py drives them through
// perf/worker/perf_worker.cpp): one arm of a comparison is built once, warmed up, then run k units
// at a time on request. The Python side of the same arms is reference/seqpack_reference/perf/worker.py.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <c10/core/Device.h>

#include "seqpack/collate.h"
#include "seqpack/models/forecast_model.h"
#include "seqpack/precision.h"

namespace seqpack::perf {

// A C++ model path: how the model packs and which packed LSTM it runs.
struct ModelPath {
  models::Packing packing;
  models::PackedLstm packed_lstm;
};

// The path an arm mode names (padded | packed | segmented | stepwise | padding_free, declared once
// in workloads.cpp), or nullptr.
const ModelPath* model_path_named(std::string_view mode);

// A batch of a data set's windows (bench_support.h) as a training step takes it: the members
// collated to their own longest lengths as the original's data module does, encoders left-aligned.
struct TrainingBatch {
  models::ModelInputs inputs;
  at::Tensor target;
};
TrainingBatch collate_windows(const std::vector<Sample>& samples, const at::Tensor& members);

// One arm: what to run and where in the matrix. The JSON fields have the same names.
struct ArmSpec {
  std::string kind;          // step | lstm_step | forward | grouping | primitive
  std::string what;          // the model ("transformer_lstm", "tft", ...); "lstm" for lstm_step; the primitive
  std::string mode;          // step: padded | packed | segmented | stepwise | padding_free | auto | calibrated;
                             // lstm_step: the same but padding_free; forward: padded | packed | compiled;
                             // grouping: <a step path>_<random|grouped>; primitive: "-". The TFT family
                             // (tft, pftft, xtft): padded only, in step and forward arms.
  std::string distribution;  // a name in perf/distributions.csv
  int64_t batch = 0;
  int64_t encoder_steps = 0, decoder_steps = 0;
  // Test-only: each unit spins this fraction of its own measured time longer, a known slowdown for
  // measuring the gate's power (perf/gate.py characterise). 0 everywhere else.
  double slowdown = 0.0;
  // Where and in what precision the arm runs: the JSON's "device" ("cpu" | "cuda:N", one
  // that is here) and "precision" ("float32" | "bfloat16" | "float16": autocast, float16 with a
  // gradient scaler in training steps). Primitives run on the CPU in float32 only.
  c10::Device device{c10::kCPU};
  Precision precision = Precision::Float32;
  // Hyperparameters over profiles.json's "model" ("d_model", ...); a key the model does not take is refused.
  nlohmann::json model_params = nlohmann::json::object();
};

ArmSpec arm_from_json(const nlohmann::json& arm);

// A built arm. run(k) runs k units (a training step, a forward, an epoch or a primitive's call) and
// returns nothing; the caller times it. steps_per_unit counts training steps per unit (an epoch holds
// several).
struct Workload {
  std::function<void(int64_t)> run;
  double fill_ratio = 0.0;
  int64_t samples = 0;    // rows per unit
  int64_t timesteps = 0;  // real (encoder + decoder) timesteps per unit
  int64_t steps_per_unit = 1;
  // What the arm holds between units, alike on every path of a model: its parameters, and in a
  // training step Adam's two moments of each (bytes; 0 for primitives).
  int64_t held_bytes = 0;
};

// Builds the arm and runs one warm-up unit (first-touch allocations, oneDNN primitives, a package's
// constants). InvalidArgument for an arm that does not exist.
Workload make_workload(const ArmSpec& arm);

}  // namespace seqpack::perf
