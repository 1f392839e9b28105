// eval_fuzz: the whole `seqpack` command in process (cli::run): argument parsing, file reading,
// params, weights, the op and the output file, with the command's promises checked on every call:
// exit status 0, 2 or 3 (4 is an internal error, a bug), exactly one line on stderr when it fails,
// and no file left behind by a failed call.
//
// Input layout: an argument line, then up to three file bodies, each after the delimiter line
// "%%" (the bytes "\n%%\n"):
//     eval loss.mse --in @IN@ --params @PARAMS@ --out @OUT@
//     %%
//     <bytes of the --in file>
//     %%
//     <bytes of the --params file>
//     %%
//     <bytes of the --weights file>
// The argument line is split at whitespace (no quoting). @IN@, @PARAMS@ and @WEIGHTS@ become the
// paths of the bodies, written into a per-process temporary folder (a body that is absent is not
// written, so its path names no file); @OUT@ becomes a path in that folder that does not exist.
//
// Inputs the harness skips, to keep the fuzzer inside its folder and its memory: an --out that is
// not @OUT@ (the command writes wherever --out says), compiled.run (it loads native code from a
// package), a --max-* option above the harness's limits, and a model op or `init` whose params ask
// for a large model (fuzz_support.h: asks_for_large_model).
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "fuzz_support.h"
#include "seqpack/cli.h"
#include "seqpack/limits.h"

namespace {

using namespace seqpack;
namespace fs = std::filesystem;

constexpr std::string_view kDelimiter = "\n%%\n";
constexpr size_t kMaxArguments = 64;

const fs::path& folder() {
  static const fs::path path = [] {
    auto made = fs::temp_directory_path() / ("seqpack-eval-fuzz." + std::to_string(::getpid()));
    fs::create_directories(made);
    return made;
  }();
  return path;
}

struct Call {
  std::vector<std::string> arguments;
  std::vector<std::string> bodies;  // --in, --params, --weights, as many as the input holds
};

Call split_input(std::string_view input) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t next = parts.size() < 3 ? input.find(kDelimiter, at) : std::string_view::npos;
    parts.push_back(input.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) break;
    at = next + kDelimiter.size();
  }
  Call call;
  std::istringstream words{std::string(parts[0])};
  for (std::string word; words >> word;) call.arguments.push_back(word);
  call.bodies.assign(parts.begin() + 1, parts.end());
  return call;
}

const std::vector<std::pair<std::string, std::string>>& placeholders() {
  static const std::vector<std::pair<std::string, std::string>> all{
      {"@IN@", (folder() / "in.safetensors").string()},
      {"@PARAMS@", (folder() / "params.json").string()},
      {"@WEIGHTS@", (folder() / "weights.safetensors").string()},
      {"@OUT@", (folder() / "out.safetensors").string()}};
  return all;
}

std::string with_paths(std::string argument) {
  for (const auto& [placeholder, path] : placeholders()) {
    for (size_t at = 0; (at = argument.find(placeholder, at)) != std::string::npos; at += path.size()) {
      argument.replace(at, placeholder.size(), path);
    }
  }
  return argument;
}

// The value of option `name` at arguments[i] ("--name value" or "--name=value"), if it is one.
std::optional<std::string_view> option_value(const std::vector<std::string>& arguments, size_t i, std::string_view name) {
  const std::string_view argument = arguments[i];
  if (argument == name) return i + 1 < arguments.size() ? std::string_view(arguments[i + 1]) : std::string_view();
  if (argument.starts_with(name) && argument.size() > name.size() && argument[name.size()] == '=') {
    return argument.substr(name.size() + 1);
  }
  return std::nullopt;
}

bool within_limits(std::string_view value) {
  int64_t number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return error == std::errc() && end == value.data() + value.size() && number <= limits().max_tensor_bytes;
}

bool asks_for_large_model(const Call& call) {
  const bool model = std::any_of(call.arguments.begin(), call.arguments.end(),
                                 [](const std::string& argument) { return argument.find("model.") != std::string::npos; });
  if (!model) return false;
  std::vector<std::string_view> texts(call.bodies.begin(), call.bodies.end());
  for (const auto& argument : call.arguments) {
    const auto brace = argument.find('{');
    if (brace != std::string::npos) texts.push_back(std::string_view(argument).substr(brace));
  }
  return std::any_of(texts.begin(), texts.end(), [](std::string_view text) {
    const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    return !json.is_discarded() && fuzz::asks_for_large_model(json);
  });
}

bool skipped(const Call& call) {
  if (call.arguments.size() > kMaxArguments) return true;
  for (size_t i = 0; i < call.arguments.size(); ++i) {
    if (call.arguments[i].find("compiled.run") != std::string::npos) return true;
    if (const auto out = option_value(call.arguments, i, "--out"); out && *out != "@OUT@") return true;
    for (const auto* name : {"--max-tensor-bytes", "--max-tensor-elements", "--max-file-bytes"}) {
      if (const auto value = option_value(call.arguments, i, name); value && !within_limits(*value)) return true;
    }
  }
  return asks_for_large_model(call);
}

std::set<fs::path> folder_contents() {
  std::set<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder())) files.insert(entry.path());
  return files;
}

void clear_folder() {
  for (const auto& path : folder_contents()) fs::remove_all(path);
}

std::set<fs::path> write_bodies(const Call& call) {
  std::set<fs::path> written;
  for (size_t i = 0; i < call.bodies.size(); ++i) {
    const fs::path path = placeholders()[i].second;
    std::ofstream(path, std::ios::binary) << call.bodies[i];
    written.insert(path);
  }
  return written;
}

size_t line_count(const std::string& text) {
  const auto newlines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

// The command's promises about one call (seqpack/cli.h).
void check_call(int status, const std::string& err, const std::set<fs::path>& written) {
  const fs::path out = placeholders()[3].second;
  if (status != cli::kDone && status != cli::kUsage && status != cli::kBadInput) {
    fuzz::finding("eval_fuzz", "exit status " + std::to_string(status) + ": " + err);
  }
  const auto lines = line_count(err);
  if (status != cli::kDone && lines != 1) {
    fuzz::finding("eval_fuzz", "a failed call wrote " + std::to_string(lines) + " lines on stderr: " + err);
  }
  if (status == cli::kDone && lines > 1) fuzz::finding("eval_fuzz", "a successful call wrote on stderr: " + err);
  if (status != cli::kDone) {
    for (const auto& path : folder_contents()) {
      if (!written.contains(path)) fuzz::finding("eval_fuzz", "a failed call left the file " + path.string());
    }
  } else if (fs::exists(out)) {
    try {
      read_safetensors(out);
    } catch (const InvalidArgument& error) {
      fuzz::finding("eval_fuzz", std::string("the command wrote an output it cannot read back: ") + error.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init_process();
  folder();
  // Registered after folder()'s path exists, so that it runs before the path is destroyed.
  std::atexit([] {
    std::error_code ignored;
    fs::remove_all(folder(), ignored);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto call = split_input(fuzz::as_string(data, size));
  if (skipped(call)) return 0;
  clear_folder();
  const auto written = write_bodies(call);
  std::vector<std::string> arguments{"seqpack"};
  for (const auto& argument : call.arguments) arguments.push_back(with_paths(argument));
  std::vector<const char*> argv;
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  std::ostringstream out, err;
  int status = 0;
  try {
    status = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  } catch (const std::exception& error) {
    fuzz::finding("eval_fuzz", std::string("cli::run let an exception out: ") + error.what());
  } catch (...) {
    fuzz::finding("eval_fuzz", "cli::run let a non-standard exception out");
  }
  check_call(status, err.str(), written);
  clear_folder();
  return 0;
}
