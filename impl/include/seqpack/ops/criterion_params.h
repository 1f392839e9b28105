#pragma once
// A criterion built from `seqpack eval` params: the loss class's constructor arguments.
#include "seqpack/calc_loss.h"
#include "seqpack/ops/op_arguments.h"

namespace seqpack::ops {

// Reads the constructor arguments the criterion of `kind` takes; any other is left unused, and so
// rejected by run_op.
Criterion read_criterion(CriterionKind kind, Params& params);

}  // namespace seqpack::ops
