// Every criterion has one entry of loss_registry(): its Python names parse to it, its op runs, and
// the parameters its reader asks for are the ones its op accepts and `seqpack ops` lists; absent
// parameters keep the options structs' defaults (the original's, written out here).
#include "seqpack/ops/loss_registry.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "seqpack/cli.h"
#include "seqpack/ops/registry.h"
#include "test_helpers.h"

namespace seqpack::ops {
namespace {

std::vector<std::string> names(const std::vector<AskedParam>& asked) {
  std::vector<std::string> all;
  for (const auto& p : asked) all.push_back(p.name);
  return all;
}

const LossEntry& by_name(std::string_view python_name) { return find_criterion(python_name, "test"); }

// Reads the entry's options from `params` as an op does: read, then refuse what was not read.
Criterion read_and_finish(const LossEntry& entry, const nlohmann::json& params) {
  Params reader(params);
  const auto criterion = entry.read(reader);
  reader.finish(entry.op.empty() ? entry.python_names.front() : entry.op);
  return criterion;
}

// A prediction and target the entry's loss accepts: seven columns against the default quantiles.
TensorMap inputs_for(const LossEntry& entry) {
  if (entry.kind == CriterionKind::Quantile) return {{"y_pred", at::rand({2, 3, 7})}, {"target", at::rand({2, 3, 1})}};
  return {{"y_pred", at::rand({2, 3})}, {"target", at::rand({2, 3})}};
}

TEST(LossRegistry, EveryCriterionKindHasOneEntryAndItsNamesParseToIt) {
  constexpr int kKinds = static_cast<int>(CriterionKind::TorchSmoothL1) + 1;
  EXPECT_EQ(loss_registry().size(), static_cast<size_t>(kKinds));
  std::set<std::string> python_names, ops_names;
  for (int k = 0; k < kKinds; ++k) {
    const auto kind = static_cast<CriterionKind>(k);
    const auto& entry = loss_entry(kind);
    EXPECT_EQ(entry.kind, kind);
    ASSERT_FALSE(entry.python_names.empty()) << k;
    for (const auto& name : entry.python_names) {
      EXPECT_TRUE(python_names.insert(name).second) << "twice: " << name;
      EXPECT_EQ(parse_criterion(name, "criterion"), kind) << name;
    }
    if (entry.op.empty()) continue;
    EXPECT_TRUE(ops_names.insert(entry.op).second) << "twice: " << entry.op;
    EXPECT_TRUE(registry().contains(entry.op)) << entry.op;
  }
  // The original's loss classes, each with its op (a new loss adds to them).
  for (const auto& [python_name, op] : std::vector<std::pair<std::string, std::string>>{
           {"MSELoss", "loss.mse"}, {"MAELoss", "loss.mae"}, {"L1Loss", "loss.mae"}, {"HuberLoss", "loss.huber"},
           {"MAPELoss", "loss.mape"}, {"SMAPELoss", "loss.smape"}, {"QuantileLoss", "loss.quantile"}}) {
    EXPECT_EQ(by_name(python_name).op, op) << python_name;
  }
  EXPECT_TRUE(by_name("torch.nn.HuberLoss").op.empty());  // torch.nn's: through calc_loss only
}

TEST(LossRegistry, AnUnknownCriterionIsRefusedWithEveryKnownName) {
  EXPECT_REJECTS(parse_criterion("LogCosh", "params.criterion"),
                 "params.criterion: unknown criterion \"LogCosh\" (MSELoss, MAELoss, L1Loss, HuberLoss, MAPELoss, "
                 "SMAPELoss, QuantileLoss, torch.nn.MSELoss, torch.nn.L1Loss, torch.nn.HuberLoss, "
                 "torch.nn.SmoothL1Loss)");
  EXPECT_REJECTS(run_op("calc_loss", inputs_for(by_name("MSELoss")), {{"criterion", "mse"}}), "params.criterion",
                 "\"mse\"");
}

TEST(LossRegistry, TheReadersAskForTheConstructorsArguments) {
  // Written from the original's constructors (nn/_weighted_loss.py, nn/_quantile_loss.py, torch.nn's)
  // plus seqpack's all_masked; none is required.
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(by_name("MSELoss").parameters()),
            (Names{"reduction", "regularization", "regularization_order", "regularization_dim", "all_masked"}));
  for (const char* reduction_only : {"MAELoss", "MAPELoss", "SMAPELoss", "torch.nn.MSELoss", "torch.nn.L1Loss"}) {
    EXPECT_EQ(names(by_name(reduction_only).parameters()), Names{"reduction"}) << reduction_only;
  }
  EXPECT_EQ(names(by_name("HuberLoss").parameters()), (Names{"reduction", "delta"}));
  EXPECT_EQ(names(by_name("torch.nn.HuberLoss").parameters()), (Names{"reduction", "delta"}));
  EXPECT_EQ(names(by_name("torch.nn.SmoothL1Loss").parameters()), (Names{"reduction", "beta"}));
  EXPECT_EQ(names(by_name("QuantileLoss").parameters()), Names{"quantiles"});
  for (const auto& entry : loss_registry()) {
    for (const auto& p : entry.parameters()) EXPECT_FALSE(p.required) << entry.python_names.front() << " " << p.name;
  }
}

TEST(LossRegistry, SeqpackOpsListsExactlyWhatTheReaderAsksFor) {
  std::ostringstream out, err;
  const char* argv[] = {"seqpack", "ops"};
  ASSERT_EQ(cli::run(2, argv, out, err), cli::kDone) << err.str();
  const auto listing = out.str();
  for (const auto& entry : loss_registry()) {
    if (entry.op.empty()) continue;
    const auto start = listing.find(entry.op + "  ");
    ASSERT_NE(start, std::string::npos) << entry.op;
    const auto line = listing.substr(start, listing.find('\n', start) - start);
    const auto from = line.find("; ") + 2;
    std::string listed;
    for (const auto& name : names(entry.parameters())) listed += (listed.empty() ? "" : ", ") + name;
    EXPECT_EQ(line.substr(from, line.find(" -> ") - from), listed) << line;
  }
}

TEST(LossRegistry, AnEntryAcceptsExactlyTheParametersItsReaderAsksFor) {
  std::set<std::string> every;
  for (const auto& entry : loss_registry()) {
    for (const auto& name : names(entry.parameters())) every.insert(name);
  }
  for (const auto& entry : loss_registry()) {
    const auto own = names(entry.parameters());
    for (const auto& name : every) {
      const nlohmann::json params{{name, nullptr}};  // None: the default, accepted only if read
      if (std::find(own.begin(), own.end(), name) != own.end()) {
        EXPECT_NO_THROW(read_and_finish(entry, params)) << entry.python_names.front() << " " << name;
      } else {
        const auto quoted = "has no parameter \"" + name + "\"";
        EXPECT_REJECTS(read_and_finish(entry, params), "params: op", quoted.c_str());
      }
    }
    EXPECT_REJECTS(read_and_finish(entry, {{"no_such_parameter", 1}}), "params: op",
                   "has no parameter \"no_such_parameter\"");
  }
}

TEST(LossRegistry, OpsAndCalcLossRefuseAParameterTheCriterionDoesNotTake) {
  EXPECT_REJECTS(run_op("loss.mae", inputs_for(by_name("MAELoss")), {{"delta", 2.0}}),
                 "params: op loss.mae has no parameter \"delta\"");
  EXPECT_NO_THROW(run_op("loss.huber", inputs_for(by_name("HuberLoss")), {{"delta", 2.0}}));
  EXPECT_REJECTS(run_op("calc_loss", inputs_for(by_name("MAELoss")), {{"criterion", "MAELoss"}, {"delta", 2.0}}),
                 "params: op calc_loss has no parameter \"delta\"");
  EXPECT_NO_THROW(run_op("calc_loss", inputs_for(by_name("MAELoss")), {{"criterion", "torch.nn.HuberLoss"}, {"delta", 2.0}}));
  for (const auto& entry : loss_registry()) {
    if (entry.op.empty()) continue;
    EXPECT_REJECTS(run_op(entry.op, inputs_for(entry), {{"no_such_parameter", 1}}), "params: op",
                   "has no parameter \"no_such_parameter\"");
    EXPECT_EQ(run_op(entry.op, inputs_for(entry), nullptr).at("loss").dim(), 0) << entry.op;  // mean by default
  }
}

TEST(LossRegistry, AbsentParametersKeepTheOriginalsDefaults) {
  for (const auto& params : {nlohmann::json::object(), nlohmann::json{{"reduction", nullptr}, {"delta", nullptr}}}) {
    const auto huber = read_and_finish(by_name("HuberLoss"), params);
    EXPECT_EQ(huber.kind(), CriterionKind::Huber);
    EXPECT_EQ(huber.pointwise().reduction(), Reduction::Mean);
    EXPECT_DOUBLE_EQ(huber.pointwise().delta(), 1.0);
  }
  const auto mse = read_and_finish(by_name("MSELoss"), nlohmann::json::object());
  EXPECT_EQ(mse.mse().reduction(), Reduction::Mean);
  EXPECT_FALSE(mse.mse().regularization().has_value());
  EXPECT_EQ(mse.mse().regularization_order(), 1);
  EXPECT_EQ(mse.mse().regularization_dim(), 0);
  EXPECT_EQ(mse.mse().all_masked(), AllMasked::NaN);
  EXPECT_DOUBLE_EQ(read_and_finish(by_name("torch.nn.SmoothL1Loss"), nlohmann::json::object()).beta(), 1.0);
  EXPECT_EQ(read_and_finish(by_name("QuantileLoss"), nlohmann::json::object()).quantile().quantiles(),
            (std::vector<double>{0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98}));
}

TEST(LossRegistry, GivenParametersReachTheOptions) {
  const auto mse = read_and_finish(by_name("MSELoss"), {{"reduction", "sum"},
                                                        {"regularization", 0.5},
                                                        {"regularization_order", 2},
                                                        {"regularization_dim", 1},
                                                        {"all_masked", "zero"}});
  EXPECT_EQ(mse.mse().reduction(), Reduction::Sum);
  EXPECT_EQ(mse.mse().regularization(), 0.5);
  EXPECT_EQ(mse.mse().regularization_order(), 2);
  EXPECT_EQ(mse.mse().regularization_dim(), 1);
  EXPECT_EQ(mse.mse().all_masked(), AllMasked::Zero);
  const auto huber = read_and_finish(by_name("torch.nn.HuberLoss"), {{"reduction", "none"}, {"delta", 2.5}});
  EXPECT_EQ(huber.kind(), CriterionKind::TorchHuber);
  EXPECT_EQ(huber.pointwise().reduction(), Reduction::None);
  EXPECT_DOUBLE_EQ(huber.pointwise().delta(), 2.5);
  EXPECT_DOUBLE_EQ(read_and_finish(by_name("torch.nn.SmoothL1Loss"), {{"beta", 0.25}}).beta(), 0.25);
  EXPECT_EQ(read_and_finish(by_name("QuantileLoss"), {{"quantiles", {0.5, 0.1}}}).quantile().quantiles(),
            (std::vector<double>{0.5, 0.1}));
  EXPECT_REJECTS(read_and_finish(by_name("MAELoss"), {{"reduction", "avg"}}), "params.reduction", "\"avg\"");
  EXPECT_REJECTS(read_and_finish(by_name("MSELoss"), {{"regularization_order", 1.5}}), "params.regularization_order",
                 "integer");
  EXPECT_REJECTS(read_and_finish(by_name("QuantileLoss"), {{"quantiles", "0.5"}}), "params.quantiles",
                 "list of numbers");
}

}  // namespace
}  // namespace seqpack::ops
