#pragma once
// The operations `seqpack eval` runs, by the original's function names. Each family of ops
// (sequence utilities, masks, losses, models, ...) adds its entries in a file of its own; the
// command line, the conformance runner and the tests all go through run_op.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "seqpack/ops/op_arguments.h"

namespace seqpack::ops {

struct EvalOptions {
  bool backward = false;             // also write gradients (loss and model ops)
  const TensorMap* weights = nullptr;  // a state_dict (model ops)
  const std::string* package = nullptr;  // an AOTInductor package's path (compiled.run)
};

using OpFunction = std::function<TensorMap(Inputs&, Params&, const EvalOptions&)>;

struct OpInfo {
  OpFunction run;
  std::string summary;  // one line for `seqpack ops`
  bool has_backward = false;
  bool takes_weights = false;
  bool takes_package = false;
};

using Registry = std::map<std::string, OpInfo, std::less<>>;

const Registry& registry();
void add_sequence_ops(Registry& registry);
void add_mask_ops(Registry& registry);
void add_loss_ops(Registry& registry);
void add_model_ops(Registry& registry);
void add_batching_ops(Registry& registry);
void add_compiled_ops(Registry& registry);

// Runs one op: checks the options against what it supports, runs it, and rejects unused inputs
// and parameters. Unknown op: InvalidArgument naming it.
TensorMap run_op(std::string_view name, const TensorMap& inputs, const nlohmann::json& params,
                 const EvalOptions& options = {});

}  // namespace seqpack::ops
