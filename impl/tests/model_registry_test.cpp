// Every entry of model_registry() builds from its small configuration and runs through its op;
// the parameters its reader asks for are the ones its op accepts and `seqpack ops` lists.
#include "seqpack/models/model_registry.h"

#include <ATen/ATen.h>

#include <set>
#include <sstream>

#include "model_test_helpers.h"
#include "seqpack/cli.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/ops/registry.h"
#include "seqpack/sequence.h"
#include "test_helpers.h"

namespace seqpack::models {
namespace {

constexpr int64_t kBatch = 4, kTe = 7, kTd = 5, kOutputs = 3;
const std::vector<int64_t> kEncoderLengths{7, 3, 5, 1}, kDecoderLengths{5, 2, 4, 1};

// The forward's inputs under the entry's names: the encoder left-aligned for the LSTM family and
// right-aligned for the TFT family, one static covariate where the model takes them.
TensorMap inputs_for(const ModelEntry& entry) {
  const auto lengths = at::tensor(kEncoderLengths, at::kLong);
  auto past = testing::left_aligned(kEncoderLengths, kTe, entry.small_config.at("num_past_features"));
  if (entry.family == ModelFamily::TemporalFusion) {
    past = align_encoder_sequences(past, lengths, AlignOptions(Source::Left).alignment(Alignment::Right));
  }
  TensorMap in{{entry.past_input(), past},
               {entry.future_input(),
                testing::left_aligned(kDecoderLengths, kTd, entry.small_config.at("num_future_features"))},
               {"encoder_lengths", lengths},
               {"decoder_lengths", at::tensor(kDecoderLengths, at::kLong)}};
  if (entry.takes_static_covariates) in["static_covariates"] = at::rand({kBatch, 1}, at::kDouble);
  return in;
}

std::set<std::string> names(const std::vector<ops::AskedParam>& asked) {
  std::set<std::string> all;
  for (const auto& p : asked) all.insert(p.name);
  return all;
}

// Builds the entry from `params` as `seqpack init` does: read, then refuse what was not read.
void build_and_finish(const ModelEntry& entry, const nlohmann::json& params) {
  ops::Params reader(params);
  entry.build(reader);
  reader.finish(entry.op());
}

// `line` names `shown` as a whole item of its list (followed by a comma or a space).
bool lists(const std::string& line, const std::string& shown) {
  for (auto at = line.find(" " + shown); at != std::string::npos; at = line.find(" " + shown, at + 1)) {
    const auto next = at + 1 + shown.size();
    if (next < line.size() && (line[next] == ',' || line[next] == ' ')) return true;
  }
  return false;
}

std::string ops_listing() {
  std::ostringstream out, err;
  const char* argv[] = {"seqpack", "ops"};
  EXPECT_EQ(cli::run(2, argv, out, err), cli::kDone) << err.str();
  return out.str();
}

TEST(ModelRegistry, EveryEntryIsAnOpUnderAUniqueName) {
  std::set<std::string> ops_names;
  for (const auto& entry : model_registry()) {
    EXPECT_EQ(entry.op(), "model." + entry.name);
    EXPECT_TRUE(ops_names.insert(entry.op()).second) << "twice: " << entry.name;
    EXPECT_TRUE(ops::registry().contains(entry.op())) << entry.name;
    EXPECT_EQ(find_model(entry.name), &entry);
  }
  // The original's six models are there (a new model adds to them; nothing else must change here).
  for (const char* name : {"attention_lstm", "encoder_decoder_lstm", "transformer_lstm", "tft", "pftft", "xtft"}) {
    EXPECT_TRUE(ops_names.contains(std::string("model.") + name)) << name;
  }
  EXPECT_EQ(find_model("xtft")->original_class, "xTFT");
  EXPECT_EQ(find_model("model.xtft"), nullptr);  // the model's name, not its op's
}

TEST(ModelRegistry, EveryEntryRunsItsSmallConfigurationThroughItsOp) {
  for (const auto& entry : model_registry()) {
    at::manual_seed(0);
    // output_dim is neither family's default (1, 7): the reader must pass it on.
    const nlohmann::json overrides{{"output_dim", kOutputs}};
    auto model = testing::build_small(entry, overrides);
    model->to(at::kDouble);
    const auto weights = state_dict(*model);
    auto params = entry.small_config;
    params.update(overrides);
    const auto out = ops::run_op(entry.op(), inputs_for(entry), params, {.weights = &weights});
    EXPECT_EQ(out.at("output").sizes(), at::IntArrayRef({kBatch, kTd, kOutputs})) << entry.name;
    EXPECT_TRUE(at::isfinite(out.at("output")).all().item<bool>()) << entry.name;
  }
}

TEST(ModelRegistry, OnlyAModelThatTakesStaticCovariatesAcceptsThem) {
  // The original's LSTM-family forward has no such argument (a TypeError): an unused input.
  size_t refused = 0;
  for (const auto& entry : model_registry()) {
    if (entry.takes_static_covariates) continue;
    auto model = testing::build_small(entry);
    model->to(at::kDouble);
    const auto weights = state_dict(*model);
    auto in = inputs_for(entry);
    in["static_covariates"] = at::rand({kBatch, 1}, at::kDouble);
    const auto refusal = "op " + entry.op() + " takes no tensor named \"static_covariates\"";
    EXPECT_REJECTS(ops::run_op(entry.op(), in, entry.small_config, {.weights = &weights}), "inputs:", refusal.c_str());
    ++refused;
  }
  EXPECT_GE(refused, 4u);  // the LSTM family and xTFT
}

TEST(ModelRegistry, SmallConfigurationsAreSmallFloat64FriendlyAndWithoutDropout) {
  for (const auto& entry : model_registry()) {
    for (const auto& item : entry.small_config.items()) {
      if (item.key().ends_with("dropout")) EXPECT_EQ(item.value(), 0.0) << entry.name << " " << item.key();
    }
    auto model = testing::build_small(entry);
    int64_t count = 0;
    for (const auto& p : model->parameters()) count += p.numel();
    EXPECT_LT(count, 10'000) << entry.name;
  }
}

TEST(ModelRegistry, TheReadersListTheOriginalsParameters) {
  // Written from the original's constructors (transformertf models/*/_model.py), plus seqpack's
  // LSTM paths: the listing is what the reader asks for, and the reader asks for these.
  const std::vector<std::string> attention_lstm{
      "num_past_features", "num_future_features", "d_model", "num_layers", "dropout", "num_heads", "use_gating",
      "trainable_add", "output_dim", "causal_attention", "d_encoder", "d_decoder", "packing", "packed_lstm"};
  std::vector<std::string> listed;
  for (const auto& p : find_model("attention_lstm")->parameters()) listed.push_back(p.name);
  EXPECT_EQ(listed, attention_lstm);
  const auto tft = find_model("tft")->parameters();
  std::set<std::string> required;
  for (const auto& p : tft) {
    if (p.required) required.insert(p.name);
  }
  EXPECT_EQ(required,
            (std::set<std::string>{"num_past_features", "num_future_features", "ctxt_seq_len", "tgt_seq_len"}));
  EXPECT_TRUE(names(tft).contains("num_static_features"));
  EXPECT_FALSE(names(find_model("xtft")->parameters()).contains("num_static_features"));
}

TEST(ModelRegistry, SeqpackOpsNamesEveryParameterTheReaderAsksFor) {
  const auto listing = ops_listing();
  for (const auto& entry : model_registry()) {
    const auto start = listing.find(entry.op() + "  ");
    ASSERT_NE(start, std::string::npos) << entry.op();
    const auto line = listing.substr(start, listing.find('\n', start) - start);
    EXPECT_NE(line.find(std::string("  ") + entry.past_input()), std::string::npos) << line;
    EXPECT_EQ(line.find("static_covariates") != std::string::npos, entry.takes_static_covariates) << line;
    const auto parameters = entry.parameters();
    ASSERT_GE(parameters.size(), 8u) << entry.name;
    for (const auto& p : parameters) {
      const auto shown = p.name + (p.required ? " (required)" : "");
      EXPECT_TRUE(lists(line, shown)) << shown << " in " << line;
    }
    // Every key of the small configuration is one the reader asks for.
    for (const auto& item : entry.small_config.items()) {
      EXPECT_TRUE(names(parameters).contains(item.key())) << entry.name << " " << item.key();
    }
  }
}

TEST(ModelRegistry, AnOpAcceptsExactlyTheParametersItsReaderAsksFor) {
  std::set<std::string> every;
  for (const auto& entry : model_registry()) every.merge(names(entry.parameters()));
  for (const auto& entry : model_registry()) {
    const auto own = names(entry.parameters());
    for (const auto& name : every) {
      auto params = entry.small_config;
      if (own.contains(name)) {
        if (params.contains(name)) continue;
        params[name] = nullptr;  // None: the default; accepted, so the name is read
        EXPECT_NO_THROW(build_and_finish(entry, params)) << entry.name << " " << name;
      } else {
        params[name] = 1;
        const auto quoted = "\"" + name + "\"";
        EXPECT_REJECTS(build_and_finish(entry, params), "params: op", quoted.c_str());
      }
    }
    auto params = entry.small_config;
    params["no_such_parameter"] = 1;
    EXPECT_REJECTS(build_and_finish(entry, params), "params: op", "has no parameter \"no_such_parameter\"");
  }
}

TEST(ModelRegistry, RequiredParametersStayRequired) {
  for (const auto& entry : model_registry()) {
    for (const auto& p : entry.parameters()) {
      if (!p.required) continue;
      auto params = entry.small_config;
      params.erase(p.name);
      const auto argument = "params." + p.name;
      EXPECT_REJECTS(build_and_finish(entry, params), argument.c_str(), "is required");
    }
  }
}

TEST(ModelRegistry, AbsentParametersKeepTheOptionsDefaults) {
  // Only the feature counts given: the original's defaults, which live in the options structs.
  auto params = nlohmann::json{{"num_past_features", 2}, {"num_future_features", 1}};
  ops::Params reader(params);
  const auto model = std::dynamic_pointer_cast<AttentionLSTMImpl>(find_model("attention_lstm")->build(reader));
  ASSERT_TRUE(model);
  EXPECT_EQ(model->options.d_model(), 128);
  EXPECT_EQ(model->options.num_heads(), 4);
  EXPECT_DOUBLE_EQ(model->options.dropout(), 0.1);
  EXPECT_EQ(model->options.packing(), Packing::Auto);
  params["d_model"] = 16;
  params["packing"] = "never";
  ops::Params given(params);
  const auto sized = std::dynamic_pointer_cast<AttentionLSTMImpl>(find_model("attention_lstm")->build(given));
  EXPECT_EQ(sized->options.d_model(), 16);
  EXPECT_EQ(sized->options.packing(), Packing::Never);
  EXPECT_REJECTS(build_and_finish(*find_model("attention_lstm"), {{"num_past_features", 2}, {"num_future_features", 1},
                                                                   {"packing", "sometimes"}}),
                 "params.packing", "\"auto\"");
  EXPECT_REJECTS(build_and_finish(*find_model("tft"), {{"num_past_features", 2}, {"num_future_features", 1},
                                                       {"ctxt_seq_len", 7}, {"tgt_seq_len", 1000000}}),
                 "params.tgt_seq_len", "at most 100000");
}

}  // namespace
}  // namespace seqpack::models
