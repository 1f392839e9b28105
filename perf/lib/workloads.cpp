#include "workloads.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string_view>

#include "bench_support.h"
#include "device.h"
#include "primitives.h"
#include "seqpack/collate.h"
#include "seqpack/compiled_model.h"
#include "seqpack/errors.h"
#include "seqpack/length_grouped_batches.h"
#include "seqpack/masks.h"
#include "seqpack/models/attention_lstm.h"  // family_lstm_options
#include "seqpack/models/lstm_path.h"
#include "seqpack/models/model_registry.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/models/temporal_fusion_core.h"
#include "seqpack/models/training_step.h"
#include "seqpack/models/unique_parameters.h"
#include "seqpack/safetensors.h"

namespace seqpack::perf {
namespace {

using models::PackedLstm;
using models::Packing;

// The C++ model paths an arm mode names, declared once: step arms take them by name, lstm_step arms
// the LSTM-only ones, grouping arms as <path>_<random|grouped>. padded, packed (PyTorch's packed LSTM,
// as the original), segmented and stepwise (seqpack's packed runs; only the LSTMs run packed), and
// padding_free: every layer on the real timesteps (seqpack/models/real_steps.h), its LSTMs through
// seqpack's stepwise packed run, the fastest packed run on CPU in reports/2026-11-29-full-cpu (at 39
// of its 48 varied step points; segmented at the other 9).
struct NamedPath {
  std::string_view mode;
  ModelPath path;
};
constexpr NamedPath kPaths[] = {
    {"padded", {Packing::Never, PackedLstm::PyTorch}},
    {"packed", {Packing::Always, PackedLstm::PyTorch}},
    {"segmented", {Packing::Always, PackedLstm::Segments}},
    {"stepwise", {Packing::Always, PackedLstm::Stepwise}},
    {"padding_free", {Packing::PaddingFree, PackedLstm::Stepwise}},
};

std::string path_names() {
  std::string names;
  for (const auto& named : kPaths) {
    if (!names.empty()) names += '|';
    names += named.mode;
  }
  return names;
}

// A named path, or a packing choice made per batch (auto, calibrated) with PyTorch's packed LSTM.
ModelPath step_path(const std::string& mode) {
  if (const auto* named = model_path_named(mode)) return *named;
  return {models::parse_packing(mode, "arm mode"), PackedLstm::PyTorch};
}

int64_t sum(const std::vector<int64_t>& values) { return std::accumulate(values.begin(), values.end(), int64_t{0}); }

bool is_temporal_fusion(const std::string& model) {
  const auto* entry = models::find_model(model);
  return entry && entry->family == models::ModelFamily::TemporalFusion;
}

// The model's inputs on the arm's device, lengths too (a training loop moves its whole batch there).
models::ModelInputs on_device(const models::ModelInputs& in, c10::Device device) {
  auto moved = [device](const std::optional<at::Tensor>& t) {
    return t ? std::optional<at::Tensor>(t->to(device)) : std::nullopt;
  };
  return {in.past_sequence.to(device), in.future_sequence.to(device), moved(in.encoder_lengths),
          moved(in.decoder_lengths), moved(in.static_covariates)};
}

// The encoder and decoder batch of a step or forward arm: lengths drawn with seeds 1 and 2, as the
// Python side draws them. The LSTM family takes its encoders left-aligned; the TFT family right-aligned
// (as the original's data module writes them, and as the conformance goldens build them), decoders
// left-aligned.
struct PointBatch {
  std::vector<int64_t> encoder_lengths, decoder_lengths;
  models::ModelInputs inputs;
};

// A feature count of the arm's model: its model_params', else the profile's.
int64_t feature_count(const ArmSpec& arm, const char* key) {
  return arm.model_params.value(key, profile().model.at(key).get<int64_t>());
}

PointBatch point_batch(const ArmSpec& arm) {
  const auto& distribution = distribution_named(arm.distribution);
  const auto past_features = feature_count(arm, "num_past_features");
  const auto future_features = feature_count(arm, "num_future_features");
  PointBatch b;
  b.encoder_lengths = batch_lengths(distribution, arm.batch, arm.encoder_steps, 1);
  b.decoder_lengths = batch_decoder_lengths(distribution, arm.batch, arm.decoder_steps, 2);
  const auto past = is_temporal_fusion(arm.what) ? right_aligned_batch(b.encoder_lengths, arm.encoder_steps, past_features)
                                                 : left_aligned_batch(b.encoder_lengths, arm.encoder_steps, past_features);
  b.inputs = {past, left_aligned_batch(b.decoder_lengths, arm.decoder_steps, future_features),
              at::tensor(b.encoder_lengths), at::tensor(b.decoder_lengths)};
  return b;
}

// The arm's model, float32 on the CPU (moved by the caller): TFT-family models run padded only.
std::shared_ptr<models::ForecastModel> arm_model(const ArmSpec& arm, const ModelPath& path) {
  try {
    return benchmark_model(arm.what, ModelBuild{.packing = path.packing, .packed_lstm = path.packed_lstm,
                                                .params = arm.model_params, .encoder_steps = arm.encoder_steps,
                                                .decoder_steps = arm.decoder_steps});
  } catch (const InvalidArgument& error) {  // the model's params reader names the op; the arm's field is what was sent
    reject("arm model_params", "{}", error.what());
  }
}

void check_padded_only(const ArmSpec& arm) {
  if (is_temporal_fusion(arm.what) && arm.mode != "padded") {
    reject("arm mode", "{} runs padded only (the TFT family has no packed path), not \"{}\"", arm.what, arm.mode);
  }
}

// TFT and PFTFT: the static covariates their Lightning modules derive from the encoder lengths (the
// model's static_covariates_from_lengths; the Python side: registry.py's static_covariates, i.e.
// tft_static_covariates / pftft_static_covariates), float32 as the inputs. Others: unchanged.
void add_static_covariates(models::ModelInputs& inputs, const models::ForecastModel& model) {
  if (const auto* tft = dynamic_cast<const models::TemporalFusionCore*>(&model)) {
    inputs.static_covariates = tft->static_covariates_from_lengths(*inputs.encoder_lengths, at::kFloat);
  }
}

// The bytes of a module's parameters, each counted once (a module shared by two owners is listed
// under both names).
int64_t parameter_bytes(const torch::nn::Module& module) {
  int64_t bytes = 0;
  for (const auto& p : models::unique_parameters(module)) bytes += p.numel() * p.element_size();
  return bytes;
}

// One full training step (forward, the model's default loss through calc_loss, backward, Adam), on
// the arm's device, forward and loss under autocast in a lower precision (float16 through a gradient
// scaler: TrainingStep).
Workload training_step(const ArmSpec& arm) {
  check_padded_only(arm);
  auto b = point_batch(arm);
  const auto path = is_temporal_fusion(arm.what) ? ModelPath{Packing::Never, PackedLstm::PyTorch} : step_path(arm.mode);
  torch::manual_seed(0);
  auto model = arm_model(arm, path);
  add_static_covariates(b.inputs, *model);
  model->to(arm.device);
  auto step = std::make_shared<models::TrainingStep>(model, models::TrainingStepOptions().precision(arm.precision));
  const auto target = at::randn({arm.batch, arm.decoder_steps, 1}).to(arm.device);
  const auto inputs = on_device(b.inputs, arm.device);
  Workload w;
  w.run = [step, inputs, target](int64_t units) {
    for (int64_t i = 0; i < units; ++i) (*step)(inputs, target);
  };
  w.held_bytes = 3 * parameter_bytes(*model);  // the parameters and Adam's exp_avg and exp_avg_sq
  w.fill_ratio = fill_ratio(b.encoder_lengths, arm.encoder_steps);
  w.samples = arm.batch;
  w.timesteps = sum(b.encoder_lengths) + sum(b.decoder_lengths);
  return w;
}

// The LSTM alone (the family's 2-layer, hidden 128 LSTM, dropout 0.1 between layers): forward through
// run_lstm, a loss over the valid steps, backward, gradients cleared. What packing can save.
Workload lstm_step(const ArmSpec& arm) {
  if (arm.what != "lstm") reject("arm what", "lstm_step runs \"lstm\", not \"{}\"", arm.what);
  const int64_t features = profile().model.at("num_past_features");
  const auto lengths = batch_lengths(distribution_named(arm.distribution), arm.batch, arm.encoder_steps, 1);
  const auto path = step_path(arm.mode);
  if (path.packing == Packing::PaddingFree) {  // run_lstm would run it padded (lstm_path.h: packs)
    reject("arm mode", "lstm_step has no padding_free path (the LSTM alone on the real steps is \"stepwise\")");
  }
  torch::manual_seed(0);
  torch::nn::LSTM lstm(models::family_lstm_options(features, 128, 2, 0.1));
  lstm->to(arm.device);
  const auto input = left_aligned_batch(lengths, arm.encoder_steps, features).to(arm.device);
  const auto lengths_tensor = at::tensor(lengths).to(arm.device);
  // Both paths see the same loss: the padded output is masked like the packed one's zeros.
  const auto valid = create_mask(arm.encoder_steps, lengths_tensor).unsqueeze(-1).to(at::kFloat);
  Workload w;
  // A lower precision: forward and loss under autocast. No optimizer steps here, so float16 has no
  // gradient scaler (what it would scale is cleared unread).
  w.run = [lstm, input, lengths_tensor, valid, path, device = arm.device, precision = arm.precision](int64_t units) mutable {
    for (int64_t i = 0; i < units; ++i) {
      at::Tensor loss;
      {
        AutocastGuard autocast(device.type(), precision);
        const auto run = models::run_lstm(lstm, input, lengths_tensor, path.packing, path.packed_lstm,
                                          models::LstmRole::Decoder);
        loss = (run.output * valid).square().sum();
      }
      loss.backward();
      for (auto& p : lstm->parameters()) p.mutable_grad().reset();
    }
  };
  w.held_bytes = parameter_bytes(*lstm);
  w.fill_ratio = fill_ratio(lengths, arm.encoder_steps);
  w.samples = arm.batch;
  w.timesteps = sum(lengths);
  return w;
}

// Inference forward (eval, no gradient) on the arm's device, under autocast in a lower precision:
// eager padded or packed, or the AOTInductor package of the padded forward
// (seqpack_reference.compiled.export --perf, under $SEQPACK_AOTI_DIR/perf/; the LSTM family at the
// profile's params, float32 on the CPU). The eager LSTM-family models at the profile's params load the
// package's weights, so all three run the same model. The TFT family runs padded eager only (no
// package: export --perf exports the LSTM family).
Workload forward(const ArmSpec& arm) {
  check_padded_only(arm);
  if (arm.mode != "padded" && arm.mode != "packed" && arm.mode != "compiled") {
    reject("arm mode", "forward runs padded, packed or compiled, not \"{}\"", arm.mode);
  }
  const bool with_package = !is_temporal_fusion(arm.what) && arm.model_params.empty();
  if (arm.mode == "compiled") {
    if (!with_package) reject("arm mode", "compiled runs the exported package: the LSTM family at the profile's params only");
    if (!arm.device.is_cpu()) reject("arm device", "the compiled forward's package is exported for the CPU only");
    if (arm.precision != Precision::Float32) reject("arm precision", "the compiled forward runs float32 only");
  }
  const char* root = std::getenv("SEQPACK_AOTI_DIR");
  const auto folder = std::filesystem::path(root ? root : "") / "perf";
  const auto package = folder / (arm.what + ".pt2"), weights = folder / (arm.what + ".weights.safetensors");
  if (with_package && (!std::filesystem::exists(package) || !std::filesystem::exists(weights))) {
    reject("SEQPACK_AOTI_DIR", "no package for \"{}\" under \"{}\" (run seqpack_reference.compiled.export --perf)",
           arm.what, folder.string());
  }
  auto b = point_batch(arm);
  Workload w;
  if (arm.mode == "compiled") {
    const std::vector<at::Tensor> inputs{b.inputs.past_sequence, b.inputs.future_sequence, *b.inputs.encoder_lengths,
                                         *b.inputs.decoder_lengths};
    auto compiled = std::make_shared<CompiledModel>(package.string());
    w.run = [compiled, inputs](int64_t units) {
      torch::NoGradGuard no_grad;
      for (int64_t i = 0; i < units; ++i) compiled->forward(inputs);
    };
  } else {
    torch::manual_seed(0);
    auto model = arm_model(arm, {arm.mode == "packed" ? Packing::Always : Packing::Never, PackedLstm::PyTorch});
    if (with_package) models::load_state_dict(*model, read_safetensors(weights.string()).tensors);
    add_static_covariates(b.inputs, *model);
    model->to(arm.device);
    model->eval();
    const auto model_inputs = on_device(b.inputs, arm.device);
    w.run = [model, model_inputs, device = arm.device, precision = arm.precision](int64_t units) {
      torch::NoGradGuard no_grad;
      AutocastGuard autocast(device.type(), precision);
      for (int64_t i = 0; i < units; ++i) model->forward(model_inputs);
    };
    w.held_bytes = parameter_bytes(*model);
  }
  w.fill_ratio = fill_ratio(b.encoder_lengths, arm.encoder_steps);
  w.samples = arm.batch;
  w.timesteps = sum(b.encoder_lengths) + sum(b.decoder_lengths);
  return w;
}

// One unit is an epoch over a data set of `grouping_data_set_batches` batches of windows, cut into
// random batches or length-grouped ones, each batch collated to its own longest lengths as the
// original's data module does; the unit counts one training step per batch.
Workload grouping(const ArmSpec& arm) {
  const auto split = arm.mode.rfind('_');  // padding_free_grouped: the path's name holds a '_' too
  const auto* named =
      split == std::string::npos ? nullptr : model_path_named(std::string_view(arm.mode).substr(0, split));
  const auto cut = split == std::string::npos ? "" : arm.mode.substr(split + 1);
  if (!named || (cut != "random" && cut != "grouped")) {
    reject("arm mode", "grouping runs <{}>_<random|grouped>, not \"{}\"", path_names(), arm.mode);
  }
  if (is_temporal_fusion(arm.what)) reject("arm what", "grouping runs the LSTM family, not \"{}\"", arm.what);
  const int64_t size = arm.batch * profile().settings.at("grouping_data_set_batches").get<int64_t>();
  const auto& distribution = distribution_named(arm.distribution);
  const auto encoder_lengths = batch_lengths(distribution, size, arm.encoder_steps, 1);
  const auto decoder_lengths = batch_decoder_lengths(distribution, size, arm.decoder_steps, 2);
  const auto samples = windows(encoder_lengths, arm.encoder_steps, decoder_lengths, arm.decoder_steps,
                               feature_count(arm, "num_past_features"), feature_count(arm, "num_future_features"));
  const auto options = BatchingOptions(arm.batch).seed(0);
  const auto lengths = at::tensor(encoder_lengths);
  const auto plan = cut == "grouped" ? length_grouped_batches(lengths, options) : random_batches(lengths, options);
  auto inputs = std::make_shared<std::vector<models::ModelInputs>>();
  auto targets = std::make_shared<std::vector<at::Tensor>>();
  Workload w;
  for (const auto& members : plan.batches) {
    auto b = collate_windows(samples, members);
    w.samples += members.numel();
    w.timesteps += b.inputs.encoder_lengths->sum().item<int64_t>() + b.inputs.decoder_lengths->sum().item<int64_t>();
    inputs->push_back(on_device(b.inputs, arm.device));
    targets->push_back(b.target.to(arm.device));
  }
  torch::manual_seed(0);
  auto model = arm_model(arm, *named);
  model->to(arm.device);
  auto step = std::make_shared<models::TrainingStep>(model, models::TrainingStepOptions().precision(arm.precision));
  w.run = [step, inputs, targets](int64_t units) {
    for (int64_t i = 0; i < units; ++i) {
      for (size_t j = 0; j < inputs->size(); ++j) (*step)((*inputs)[j], (*targets)[j]);
    }
  };
  w.fill_ratio = plan.fill_ratio;
  w.steps_per_unit = static_cast<int64_t>(inputs->size());
  return w;
}

// One call of a primitive on a batch drawn with seed 0 (as primitives_bench draws it).
Workload primitive(const ArmSpec& arm) {
  if (!arm.device.is_cpu()) reject("arm device", "primitives run on the CPU only, not {}", device_label(arm.device));
  if (arm.precision != Precision::Float32) reject("arm precision", "primitives run float32 only");
  const auto lengths = batch_lengths(distribution_named(arm.distribution), arm.batch, arm.encoder_steps);
  auto call = make_primitive(arm.what, lengths, arm.encoder_steps);
  Workload w;
  w.run = [call](int64_t units) {
    for (int64_t i = 0; i < units; ++i) call();
  };
  w.fill_ratio = fill_ratio(lengths, arm.encoder_steps);
  w.samples = arm.batch;
  w.timesteps = sum(lengths);
  return w;
}

// Runs each unit, then spins `slowdown` times the unit's own time: a slower code path of a known size.
std::function<void(int64_t)> slowed(std::function<void(int64_t)> run, double slowdown) {
  return [run = std::move(run), slowdown](int64_t units) {
    using clock = std::chrono::steady_clock;
    for (int64_t i = 0; i < units; ++i) {
      const auto start = clock::now();
      run(1);
      const auto until = start + (clock::now() - start) * (1.0 + slowdown);
      while (clock::now() < until) {
      }
    }
  };
}

}  // namespace

const ModelPath* model_path_named(std::string_view mode) {
  for (const auto& named : kPaths) {
    if (named.mode == mode) return &named.path;
  }
  return nullptr;
}

TrainingBatch collate_windows(const std::vector<Sample>& samples, const at::Tensor& members) {
  std::vector<Sample> chosen;
  for (int64_t k = 0; k < members.numel(); ++k) chosen.push_back(samples.at(members[k].item<int64_t>()));
  const auto b = collate(chosen, CollateOptions().encoder_alignment(Alignment::Left).sample_alignment(Source::Right));
  return {{b.encoder_input, b.decoder_input, b.encoder_lengths->reshape({-1}), b.decoder_lengths->reshape({-1})},
          b.target};
}

ArmSpec arm_from_json(const nlohmann::json& arm) {
  ArmSpec spec;
  spec.kind = arm.at("kind").get<std::string>();
  spec.what = arm.at("what").get<std::string>();
  spec.mode = arm.at("mode").get<std::string>();
  spec.distribution = arm.at("distribution").get<std::string>();
  spec.batch = arm.at("batch").get<int64_t>();
  spec.encoder_steps = arm.at("encoder_steps").get<int64_t>();
  spec.decoder_steps = arm.value("decoder_steps", int64_t{0});
  spec.slowdown = arm.value("slowdown", 0.0);
  spec.device = parse_device(arm.value("device", std::string("cpu")), "arm device", /*allow_auto=*/true);
  spec.precision = parse_precision(arm.value("precision", std::string("float32")), "arm precision");
  spec.model_params = arm.value("model_params", nlohmann::json::object());
  if (!spec.model_params.is_object()) reject("arm model_params", "must be an object of hyperparameters");
  if (spec.batch < 1 || spec.batch > 4096) reject("arm batch", "must be in [1, 4096], got {}", spec.batch);
  if (spec.encoder_steps < 1 || spec.encoder_steps > 4096 || spec.decoder_steps < 0 || spec.decoder_steps > 4096) {
    reject("arm steps", "encoder_steps must be in [1, 4096] and decoder_steps in [0, 4096]");
  }
  if (!(spec.slowdown >= 0.0 && spec.slowdown <= 10.0)) reject("arm slowdown", "must be in [0, 10]");
  return spec;
}

Workload make_workload(const ArmSpec& arm) {
  Workload w = arm.kind == "step"        ? training_step(arm)
               : arm.kind == "lstm_step" ? lstm_step(arm)
               : arm.kind == "forward"   ? forward(arm)
               : arm.kind == "grouping"  ? grouping(arm)
               : arm.kind == "primitive" ? primitive(arm)
                                         : (reject("arm kind", "no workload kind \"{}\"", arm.kind), Workload{});
  if (arm.slowdown > 0.0) w.run = slowed(std::move(w.run), arm.slowdown);
  w.run(1);  // warm-up: first-touch allocations, oneDNN primitives, every shape of an epoch once
  synchronize(arm.device);
  return w;
}

}  // namespace seqpack::perf
