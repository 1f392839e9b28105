#include "seqpack/ops/criterion_params.h"

namespace seqpack::ops {

Criterion read_criterion(CriterionKind kind, Params& params) {
  auto criterion = Criterion().kind(kind);
  const auto reduction = [&] { return parse_reduction(params.get_string("reduction", "mean"), "params.reduction"); };
  switch (kind) {
    case CriterionKind::MSE: {
      auto& mse = criterion.mse();
      mse.reduction(reduction())
          .regularization(params.get_optional_double("regularization"))
          .regularization_order(params.get_int("regularization_order", 1))
          .regularization_dim(params.get_int("regularization_dim", 0))
          .all_masked(parse_all_masked(params.get_string("all_masked", "nan"), "params.all_masked"));
      break;
    }
    case CriterionKind::Quantile:
      criterion.quantile().quantiles(params.get_optional_double_list("quantiles").value_or(default_quantiles()));
      break;
    case CriterionKind::Huber:
    case CriterionKind::TorchHuber:
      criterion.pointwise().reduction(reduction()).delta(params.get_double("delta", 1.0));
      break;
    case CriterionKind::TorchSmoothL1:
      criterion.pointwise().reduction(reduction());
      criterion.beta(params.get_double("beta", 1.0));
      break;
    default: criterion.pointwise().reduction(reduction());
  }
  return criterion;
}

}  // namespace seqpack::ops
