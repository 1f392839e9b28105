// The `seqpack` command. `seqpack eval OP --in IN.safetensors [--params P.json] [--weights W.safetensors]
// [--package MODEL.pt2] [--backward] --out OUT.safetensors` runs one operation on named tensors (the black-box interface
// of SPEC.md); `seqpack ops` lists the operations; `seqpack init MODEL --params P --out W.safetensors`
// writes a freshly initialised model's state_dict under the original's names.
// Exit status: 0 done, 2 usage error, 3 bad input (one line on stderr, no output file written).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include "seqpack/errors.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/ops/model_factory.h"
#include "seqpack/ops/registry.h"
#include "seqpack/safetensors.h"

namespace {

constexpr int kBadInput = 3;

nlohmann::json read_params(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  std::string content = text;
  if (text.front() != '{') {  // a path; an inline JSON object is accepted too
    std::ifstream in(text);
    if (!in) seqpack::reject("--params", "cannot open \"{}\"", text);
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  try {
    return nlohmann::json::parse(content);
  } catch (const nlohmann::json::exception& error) {
    seqpack::reject("--params", "is not valid JSON ({})", error.what());
  }
}

int run_eval(const std::string& op, const std::string& in_path, const std::string& params_text,
             const std::string& weights_path, const std::string& package_path, bool backward,
             const std::string& out_path) {
  const auto inputs = seqpack::read_safetensors(in_path).tensors;
  const auto params = read_params(params_text);
  std::optional<seqpack::TensorMap> weights;
  if (!weights_path.empty()) weights = seqpack::read_safetensors(weights_path).tensors;
  seqpack::ops::EvalOptions options{.backward = backward,
                                    .weights = weights ? &*weights : nullptr,
                                    .package = package_path.empty() ? nullptr : &package_path};
  const auto outputs = seqpack::ops::run_op(op, inputs, params, options);
  if (!out_path.empty()) {
    seqpack::write_safetensors(out_path, outputs, {{"op", op}});
  } else {
    for (const auto& [name, tensor] : outputs) std::cout << name << ": " << tensor.sizes() << "\n";
  }
  return 0;
}

int run_init(const std::string& model_name, const std::string& params_text, int64_t seed, const std::string& dtype,
             const std::string& out_path) {
  auto json = read_params(params_text);
  seqpack::ops::Params params(json);
  torch::manual_seed(seed);
  auto model = seqpack::ops::make_model(model_name, params);
  params.finish(model_name);
  if (dtype != "float32" && dtype != "float64") seqpack::reject("--dtype", "must be float32 or float64 (got {})", dtype);
  model->to(dtype == "float64" ? at::kDouble : at::kFloat);
  seqpack::write_safetensors(out_path, seqpack::models::state_dict(*model), {{"model", model_name}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seqpack: variable-length sequence handling for PyTorch models, in C++ on LibTorch"};
  app.require_subcommand(1);

  std::string op, in_path, params_text, weights_path, package_path, out_path;
  bool backward = false;
  auto* eval = app.add_subcommand("eval", "Run one operation on the named tensors of a safetensors file");
  eval->add_option("op", op, "Operation, as listed by `seqpack ops`")->required();
  eval->add_option("--in", in_path, "Input tensors (safetensors)")->required();
  eval->add_option("--params", params_text, "Keyword parameters: a JSON file, or an inline JSON object");
  eval->add_option("--weights", weights_path, "A model's state_dict (safetensors)");
  eval->add_option("--package", package_path, "An AOTInductor package (.pt2) for compiled.run");
  eval->add_flag("--backward", backward, "Also write gradients");
  eval->add_option("--out", out_path, "Output tensors (safetensors); omitted: print names and shapes");

  auto* list = app.add_subcommand("ops", "List the operations `eval` runs");

  std::string model_name, dtype = "float32";
  int64_t seed = 0;
  auto* init = app.add_subcommand("init", "Write a freshly initialised model's state_dict (the original's names)");
  init->add_option("model", model_name, "model.attention_lstm, model.encoder_decoder_lstm or model.transformer_lstm")
      ->required();
  init->add_option("--params", params_text, "Constructor hyperparameters: a JSON file, or an inline JSON object");
  init->add_option("--seed", seed, "Seed of the initialisation (default 0)");
  init->add_option("--dtype", dtype, "float32 (default) or float64");
  init->add_option("--out", out_path, "Where to write the state_dict (safetensors)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;  // --help is not an error; every usage error is 2
  }

  if (list->parsed()) {
    for (const auto& [name, info] : seqpack::ops::registry()) std::cout << name << "  " << info.summary << "\n";
    return 0;
  }
  try {
    if (init->parsed()) return run_init(model_name, params_text, seed, dtype, out_path);
    if (!seqpack::ops::registry().contains(op)) {
      std::cerr << "seqpack: unknown operation \"" << op << "\" (see `seqpack ops`)\n";
      return 2;
    }
    return run_eval(op, in_path, params_text, weights_path, package_path, backward, out_path);
  } catch (const seqpack::InvalidArgument& error) {
    std::cerr << "seqpack: bad input: " << error.what() << "\n";
    return kBadInput;
  } catch (const std::exception& error) {
    // Anything else is a seqpack bug: say so rather than crash.
    std::string first_line = error.what();
    first_line = first_line.substr(0, first_line.find('\n'));
    std::cerr << "seqpack: internal error (please report): " << first_line << "\n";
    return 4;
  }
}
