#include "seqpack/ops/loss_registry.h"

#include <stdexcept>

#include "seqpack/errors.h"

namespace seqpack::ops {
namespace {

void read_reduction(Params& p, Criterion& c) { p.read("reduction", c.pointwise().reduction(), parse_reduction); }

void read_mse(Params& p, Criterion& c) {
  auto& o = c.mse();
  p.read("reduction", o.reduction(), parse_reduction);
  p.read("regularization", o.regularization());
  p.read("regularization_order", o.regularization_order());
  p.read("regularization_dim", o.regularization_dim());
  p.read("all_masked", o.all_masked(), parse_all_masked);
}

// HuberLoss and torch.nn.HuberLoss.
void read_huber(Params& p, Criterion& c) {
  read_reduction(p, c);
  p.read("delta", c.pointwise().delta());
}

void read_quantile(Params& p, Criterion& c) { p.read("quantiles", c.quantile().quantiles()); }

void read_smooth_l1(Params& p, Criterion& c) {
  read_reduction(p, c);
  p.read("beta", c.beta());
}

}  // namespace

Criterion LossEntry::read(Params& params) const {
  auto criterion = Criterion().kind(kind);
  read_options(params, criterion);
  return criterion;
}

std::vector<AskedParam> LossEntry::parameters() const {
  auto listing = Params::listing();
  read(listing);
  return listing.asked();
}

const std::vector<LossEntry>& loss_registry() {
  using enum CriterionKind;
  static const std::vector<LossEntry> all{
      {MSE, {"MSELoss"}, "loss.mse", read_mse},
      {MAE, {"MAELoss", "L1Loss"}, "loss.mae", read_reduction},
      {Huber, {"HuberLoss"}, "loss.huber", read_huber},
      {MAPE, {"MAPELoss"}, "loss.mape", read_reduction},
      {SMAPE, {"SMAPELoss"}, "loss.smape", read_reduction},
      {Quantile, {"QuantileLoss"}, "loss.quantile", read_quantile},
      {TorchMSE, {"torch.nn.MSELoss"}, "", read_reduction},
      {TorchL1, {"torch.nn.L1Loss"}, "", read_reduction},
      {TorchHuber, {"torch.nn.HuberLoss"}, "", read_huber},
      {TorchSmoothL1, {"torch.nn.SmoothL1Loss"}, "", read_smooth_l1},
  };
  return all;
}

const LossEntry& loss_entry(CriterionKind kind) {
  for (const auto& entry : loss_registry()) {
    if (entry.kind == kind) return entry;
  }
  throw std::logic_error("loss_registry has no entry for a CriterionKind");
}

const LossEntry& find_criterion(std::string_view name, std::string_view argument) {
  std::string known;
  for (const auto& entry : loss_registry()) {
    for (const auto& python_name : entry.python_names) {
      if (python_name == name) return entry;
      known += (known.empty() ? "" : ", ") + python_name;
    }
  }
  reject(argument, "unknown criterion \"{}\" ({})", name, known);
}

}  // namespace seqpack::ops

namespace seqpack {

// Declared with the criteria (calc_loss.h); the names live in the table above.
CriterionKind parse_criterion(std::string_view text, std::string_view argument) {
  return ops::find_criterion(text, argument).kind;
}

}  // namespace seqpack
