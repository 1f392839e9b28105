#pragma once
// One descriptor per criterion. The `loss.<name>` ops and their `seqpack ops` lines, calc_loss's
// and the model ops' params.criterion, and parse_criterion all iterate loss_registry(); a loss's
// defaults live only in its options struct (losses.h, calc_loss.h), whose reader assigns a field
// only when the params name it.
#include <string>
#include <string_view>
#include <vector>

#include "seqpack/calc_loss.h"
#include "seqpack/ops/op_arguments.h"

namespace seqpack::ops {

struct LossEntry {
  CriterionKind kind = CriterionKind::MSE;
  // The Python names it answers to in params.criterion ("MAELoss", "L1Loss"), the class's first.
  std::vector<std::string> python_names;
  // Its own op, "loss.mae"; empty for torch.nn's criteria, reached through calc_loss only.
  std::string op;
  // Reads the class's constructor arguments into the criterion's options. Unknown keys are left
  // for Params::finish to refuse.
  void (*read_options)(Params& params, Criterion& criterion) = nullptr;

  // A criterion of this kind, its options read from params.
  Criterion read(Params& params) const;
  // The constructor arguments the reader asks for, in its order (over Params::listing()).
  std::vector<AskedParam> parameters() const;
};

// Every criterion, transformertf's first, then torch.nn's, in a fixed order.
const std::vector<LossEntry>& loss_registry();

// The entry of `kind`; every kind has one.
const LossEntry& loss_entry(CriterionKind kind);

// The entry answering to the Python name `name`; an unknown name is refused under `argument`,
// with every known name.
const LossEntry& find_criterion(std::string_view name, std::string_view argument);

}  // namespace seqpack::ops
