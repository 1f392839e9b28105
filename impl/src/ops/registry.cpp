#include "seqpack/ops/registry.h"

#include "seqpack/errors.h"

namespace seqpack::ops {

const Registry& registry() {
  static const Registry all = [] {
    Registry built;
    add_sequence_ops(built);
    add_mask_ops(built);
    add_loss_ops(built);
    add_model_ops(built);
    add_batching_ops(built);
    add_compiled_ops(built);
    return built;
  }();
  return all;
}

TensorMap run_op(std::string_view name, const TensorMap& inputs, const nlohmann::json& params,
                 const EvalOptions& options) {
  const auto found = registry().find(name);
  if (found == registry().end()) reject("op", "unknown operation \"{}\" (see `seqpack ops`)", name);
  const auto& op = found->second;
  if (options.backward && !op.has_backward) reject("--backward", "op {} has no gradient to write", name);
  if (options.weights && !op.takes_weights) reject("--weights", "op {} takes no weights", name);
  if (options.package && !op.takes_package) reject("--package", "op {} takes no package", name);
  Inputs in(inputs);
  Params kwargs(params);
  auto outputs = op.run(in, kwargs, options);
  in.finish(name);
  kwargs.finish(name);
  return outputs;
}

}  // namespace seqpack::ops
