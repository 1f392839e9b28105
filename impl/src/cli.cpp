#include "seqpack/cli.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <charconv>
#include <filesystem>
#include <optional>

#include "seqpack/errors.h"
#include "seqpack/input_files.h"
#include "seqpack/json_input.h"
#include "seqpack/limits.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/ops/model_factory.h"
#include "seqpack/ops/registry.h"
#include "seqpack/safetensors.h"

namespace seqpack::cli {
namespace {

nlohmann::json read_params(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  // A path, or an inline JSON object.
  return parse_json_input(text.front() == '{' ? text : read_input_file(text, "--params"), "--params");
}

// Checked before any work, so that a call whose output cannot be written fails at once and
// computes nothing; write_safetensors still writes through a temporary file and a rename.
void check_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  const auto shown = printable(path);
  if (path.empty()) reject("--out", "must name a file (got an empty path)");
  if (path.back() == '/') reject("--out", "\"{}\" names a directory; give a file name", shown);
  std::error_code error;
  if (fs::is_directory(path, error)) reject("--out", "\"{}\" is a directory; give a file name", shown);
  const auto status = fs::status(path, error);
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    reject("--out", "\"{}\" exists and is not a regular file", shown);
  }
  auto parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, error)) reject("--out", "\"{}\": no such directory", printable(parent.string()));
}

struct EvalArguments {
  std::string op, in, params, weights, package, out;
  bool backward = false;
};

int run_eval(const EvalArguments& args, std::ostream& out) {
  if (!args.out.empty()) check_output_path(args.out);
  const auto inputs = read_safetensors(args.in, "--in").tensors;
  const auto params = read_params(args.params);
  std::optional<TensorMap> weights;
  if (!args.weights.empty()) weights = read_safetensors(args.weights, "--weights").tensors;
  if (!args.package.empty()) check_input_file(args.package, "--package");
  ops::EvalOptions options{.backward = args.backward,
                           .weights = weights ? &*weights : nullptr,
                           .package = args.package.empty() ? nullptr : &args.package};
  const auto outputs = ops::run_op(args.op, inputs, params, options);
  if (!args.out.empty()) {
    write_safetensors(args.out, outputs, {{"op", args.op}});
  } else {
    for (const auto& [name, tensor] : outputs) out << name << ": " << tensor.sizes() << "\n";
  }
  return kDone;
}

int run_init(const std::string& model_name, const std::string& params_text, int64_t seed, const std::string& dtype,
             const std::string& out_path) {
  if (dtype != "float32" && dtype != "float64") reject("--dtype", "must be float32 or float64 (got {})", printable(dtype));
  check_output_path(out_path);
  auto json = read_params(params_text);
  ops::Params params(json);
  torch::manual_seed(seed);
  auto model = ops::make_model(model_name, params);
  params.finish(model_name);
  model->to(dtype == "float64" ? at::kDouble : at::kFloat);
  write_safetensors(out_path, models::state_dict(*model), {{"model", model_name}});
  return kDone;
}

// A limit is a whole number from 1 to 2^63 - 1, checked on the text: CLI11's conversion saturates
// 10^30 to 2^63 - 1 instead of refusing it.
const CLI::Validator kPositiveInt64(
    [](std::string& text) -> std::string {
      int64_t value = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size() || value < 1) {
        return "must be a whole number from 1 to 2^63 - 1 (got " + printable(text, 40) + ")";
      }
      return "";
    },
    "POSITIVE");

// CLI11's messages may span lines and add a hint line: one line, ours.
int usage_error(const CLI::ParseError& error, std::ostream& err) {
  err << "seqpack: usage: " << printable(error.what(), 500) << " (see seqpack --help)\n";
  return kUsage;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"seqpack: variable-length sequence handling for PyTorch models, in C++ on LibTorch"};
  app.require_subcommand(1);

  EvalArguments eval_args;
  Limits limit = limits();
  auto* eval = app.add_subcommand("eval", "Run one operation on the named tensors of a safetensors file");
  eval->add_option("op", eval_args.op, "Operation, as listed by `seqpack ops`")->required();
  eval->add_option("--in", eval_args.in, "Input tensors (safetensors)")->required();
  eval->add_option("--params", eval_args.params, "Keyword parameters: a JSON file, or an inline JSON object");
  eval->add_option("--weights", eval_args.weights, "A model's state_dict (safetensors)");
  eval->add_option("--package", eval_args.package, "An AOTInductor package (.pt2) for compiled.run");
  eval->add_flag("--backward", eval_args.backward, "Also write gradients");
  eval->add_option("--out", eval_args.out, "Output tensors (safetensors); omitted: print names and shapes");
  eval->add_option("--max-tensor-bytes", limit.max_tensor_bytes, "Largest tensor read or made, in bytes (default 4 GiB)")
      ->check(kPositiveInt64);
  eval->add_option("--max-tensor-elements", limit.max_tensor_elements, "Largest tensor, in elements (default 2^31)")
      ->check(kPositiveInt64);
  eval->add_option("--max-file-bytes", limit.max_file_bytes, "Largest input file, in bytes (default 8 GiB)")
      ->check(kPositiveInt64);

  auto* list = app.add_subcommand("ops", "List the operations `eval` runs");

  std::string model_name, params_text, out_path, dtype = "float32";
  int64_t seed = 0;
  auto* init = app.add_subcommand("init", "Write a freshly initialised model's state_dict (the original's names)");
  init->add_option("model", model_name, "A model op, e.g. model.transformer_lstm (see `seqpack ops`)")->required();
  init->add_option("--params", params_text, "Constructor hyperparameters: a JSON file, or an inline JSON object");
  init->add_option("--seed", seed, "Seed of the initialisation (default 0)");
  init->add_option("--dtype", dtype, "float32 (default) or float64");
  init->add_option("--out", out_path, "Where to write the state_dict (safetensors)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help, out, err);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help, out, err);
  } catch (const CLI::ParseError& error) {
    return usage_error(error, err);
  }

  if (list->parsed()) {
    for (const auto& [name, info] : ops::registry()) out << name << "  " << info.summary << "\n";
    return kDone;
  }
  const Limits before = limits();
  try {
    if (init->parsed()) return run_init(model_name, params_text, seed, dtype, out_path);
    if (!ops::registry().contains(eval_args.op)) {
      err << "seqpack: usage: unknown operation \"" << printable(eval_args.op, 80) << "\" (see `seqpack ops`)\n";
      return kUsage;
    }
    set_limits(limit);
    const int status = run_eval(eval_args, out);
    set_limits(before);
    return status;
  } catch (const InvalidArgument& error) {
    set_limits(before);
    err << "seqpack: bad input: " << error.what() << "\n";
    return kBadInput;
  } catch (const OutOfMemory& error) {
    set_limits(before);
    err << "seqpack: out of memory: " << error.what() << "\n";
    return kOutOfMemory;
  } catch (const c10::OutOfMemoryError& error) {
    set_limits(before);
    const std::string what = error.what_without_backtrace();
    err << "seqpack: out of memory: " << printable(what.substr(0, what.find('\n')), 500) << "\n";
    return kOutOfMemory;
  } catch (const c10::Error& error) {
    set_limits(before);
    const std::string what = error.msg();
    const std::string first_line = what.substr(0, what.find('\n'));
    // LibTorch's CPU allocator reports a failed allocation as a plain c10::Error (an enforce), not
    // as OutOfMemoryError; its message is the only mark that tells it from a bug.
    if (first_line.find("can't allocate memory") != std::string::npos) {
      const auto from = first_line.find("DefaultCPUAllocator");
      err << "seqpack: out of memory: " << printable(first_line.substr(from == std::string::npos ? 0 : from), 500)
          << "\n";
      return kOutOfMemory;
    }
    err << "seqpack: internal error (please report): " << printable(first_line, 500) << "\n";
    return kInternal;
  } catch (const std::bad_alloc&) {
    set_limits(before);
    err << "seqpack: out of memory: the operation needs more memory than this process could allocate (its "
           "address-space limit, or the machine's); --max-tensor-bytes refuses such inputs up front\n";
    return kOutOfMemory;
  } catch (const std::exception& error) {
    set_limits(before);
    // Anything else is a seqpack bug: say so in one line rather than crash.
    err << "seqpack: internal error (please report): " << printable(error.what(), 500) << "\n";
    return kInternal;
  }
}

}  // namespace seqpack::cli
