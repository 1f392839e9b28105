// `seqpack eval compiled.run --package MODEL.pt2 --in INPUTS.safetensors`: runs an AOTInductor
// package's forward on the named inputs its metadata lists (the original's forward argument
// names), writing `output`.
#include "seqpack/compiled_model.h"
#include "seqpack/errors.h"
#include "seqpack/ops/registry.h"

namespace seqpack::ops {
namespace {

TensorMap compiled_run(Inputs& in, Params&, const EvalOptions& options) {
  if (!options.package) reject("--package", "is required (an AOTInductor package, .pt2)");
  CompiledModel model(*options.package);
  std::vector<at::Tensor> tensors;
  for (const auto& spec : model.inputs()) tensors.push_back(in.required(spec.name));
  return {{"output", model.forward(tensors)}};
}

}  // namespace

void add_compiled_ops(Registry& registry) {
  OpInfo info{compiled_run,
              "--package MODEL.pt2; the inputs its metadata names (e.g. past_sequence, future_sequence, "
              "encoder_lengths, decoder_lengths) -> output",
              false, false};
  info.takes_package = true;
  registry["compiled.run"] = info;
}

}  // namespace seqpack::ops
