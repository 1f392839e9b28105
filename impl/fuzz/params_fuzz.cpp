// params_fuzz: the --params JSON reader and each op's parameter parsing. The first byte picks an
// op (fuzz_support.h: goldens()), the rest is its params text, parsed as `seqpack eval` parses it;
// the op runs on the inputs (and weights) of one of its golden cases, so that parameters are
// checked against real tensors and reach the computation when they are valid.
#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "seqpack/json_input.h"
#include "seqpack/ops/registry.h"

namespace {

using namespace seqpack;

// As the command reads --params: empty is {}, the rest through the command's JSON reader.
nlohmann::json parse_params(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  return parse_json_input(text, "--params");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init_process();
  fuzz::goldens();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& golden = fuzz::pick(fuzz::goldens(), data[0]);
  fuzz::expect_only_bad_input("params_fuzz", [&] {
    const auto params = parse_params(fuzz::as_string(data + 1, size - 1));
    if (golden.weights && fuzz::asks_for_large_model(params)) return;
    const ops::EvalOptions options{.weights = golden.weights ? &*golden.weights : nullptr};
    ops::run_op(golden.op, golden.inputs, params, options);
  });
  return 0;
}
