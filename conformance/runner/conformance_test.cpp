// Runs every golden case folder through seqpack's op registry (the code path of `seqpack eval`)
// and compares with the outputs PyTorch produced. Adding a case never touches this file.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>

#include "golden_case.h"
#include "run_settings.h"
#include "seqpack/errors.h"
#include "seqpack/ops/registry.h"

namespace seqpack::conformance {
namespace {

// SEQPACK_EXTRA_PARAMS='{"name": value}' adds params to every case, to run the same goldens
// through another implementation that must agree (packed_lstm = segments).
nlohmann::json with_extra_params(nlohmann::json params) {
  const char* extra = std::getenv("SEQPACK_EXTRA_PARAMS");
  if (extra) params.update(nlohmann::json::parse(extra));
  return params;
}

// The padding-free rerun (params.packing = padding_free over the LSTM-family goldens): each golden
// says what it can show (reference/seqpack_reference/cases/model_cases.py, padding_free_check):
// the output at the decoder's real steps, with zeros expected at the padding, and the loss and
// gradients when its loss is masked. A trained golden's parameters and Adam moments follow from
// its gradients and count with them. Drops from both maps what the golden cannot show.
void keep_what_padding_free_computes(const nlohmann::json& rule, const TensorMap& inputs, TensorMap& expected,
                                     TensorMap& actual) {
  const auto compares = rule.at("compare").get<std::vector<std::string>>();
  const auto shows = [&](const std::string& what) { return std::find(compares.begin(), compares.end(), what) != compares.end(); };
  for (auto* tensors : {&expected, &actual}) {
    std::erase_if(*tensors, [&](const auto& item) {
      const bool from_gradients = item.first.starts_with("grad.") || item.first.starts_with("param.") ||
                                  item.first.starts_with("exp_avg");
      return (item.first == "loss" && !shows("loss")) || (from_gradients && !shows("gradients"));
    });
  }
  auto& output = expected.at("output");
  if (inputs.contains("decoder_lengths")) {
    const auto lengths = inputs.at("decoder_lengths").reshape({-1, 1}).to(at::kLong);
    auto real = at::arange(output.size(1)).unsqueeze(0) < lengths;
    while (real.dim() < output.dim()) real = real.unsqueeze(-1);
    output = at::where(real, output, at::zeros_like(output));
  }
}

std::filesystem::path cases_root() {
  const char* override_root = std::getenv("SEQPACK_CASES_DIR");
  return override_root ? override_root : SEQPACK_CASES_DIR;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, MatchesPyTorch) {
  const auto& golden = GetParam();
  SCOPED_TRACE(golden.meta.value("checks", ""));
  const auto& settings = run_settings();
  const auto& op = golden.meta.at("op").get_ref<const std::string&>();
  const bool autocast = settings.precision != Precision::Float32;
  if (autocast && !op.starts_with("model.")) GTEST_SKIP() << "autocast reruns check the model ops only";
  if (autocast && golden.meta.at("expect") == "error") GTEST_SKIP() << "autocast reruns compare outputs only";
  // Under autocast the model runs in float32, as a model trained in mixed precision does.
  const auto floating = autocast ? at::kFloat : c10::ScalarType::Undefined;
  const auto inputs = moved(read_safetensors(golden.folder / "inputs.safetensors").tensors, settings.device, floating);
  const auto params = with_extra_params(golden.meta.at("params"));
  if (settings.device.is_cuda() && params.value("packed_lstm", "") == "stepwise") {
    GTEST_SKIP() << "seqpack's stepwise run is the CPU's only (impl/src/models/stepwise_lstm.cpp)";
  }
  if (autocast && settings.device.is_cuda() && refusal_measured_elsewhere(golden, settings)) {
    GTEST_SKIP() << "PyTorch refuses this case under autocast on the CPU for a reason of the CPU's; what it "
                    "does on CUDA is not recorded (conformance/autocast_refusals.json)";
  }
  const auto weights_file = golden.folder / "weights.safetensors";
  const auto weights = std::filesystem::exists(weights_file)
                           ? moved(read_safetensors(weights_file).tensors, settings.device, floating)
                           : TensorMap{};
  const ops::EvalOptions options{.backward = golden.meta.value("backward", false),
                                 .weights = weights.empty() ? nullptr : &weights};
  if (golden.meta.at("expect") == "error") {
    const auto mention = golden.meta.at("error_mentions").get<std::string>();
    try {
      ops::run_op(op, inputs, params, options);
      FAIL() << "expected an InvalidArgument mentioning \"" << mention << "\", but the op succeeded";
    } catch (const InvalidArgument& error) {
      EXPECT_NE(std::string(error.what()).find(mention), std::string::npos)
          << "the error should mention \"" << mention << "\": " << error.what();
    }
    return;
  }
  auto expected = read_safetensors(golden.folder / "expected.safetensors").tensors;
  const auto padding_free = params.value("packing", "") == "padding_free" && golden.meta.contains("padding_free");
  if (padding_free && golden.meta["padding_free"].contains("skip")) {
    GTEST_SKIP() << golden.meta["padding_free"]["skip"].get<std::string>();
  }
  if (const auto refusal = autocast ? expected_refusal(golden, settings) : std::nullopt) {
    // PyTorch refuses this case under autocast: seqpack must refuse it too, with the same message.
    try {
      const AutocastGuard guard(settings.device.type(), settings.precision);
      ops::run_op(op, inputs, params, options);
      FAIL() << "PyTorch refuses this case under " << to_string(settings.precision) << " (\"" << *refusal
             << "\", conformance/autocast_refusals.json); seqpack ran it";
    } catch (const std::exception& error) {
      EXPECT_NE(std::string(error.what()).find(*refusal), std::string::npos)
          << "PyTorch refuses with \"" << *refusal << "\"; seqpack with: " << error.what();
    }
    return;
  }
  auto actual = [&] {
    const AutocastGuard guard(settings.device.type(), settings.precision);
    return moved(ops::run_op(op, inputs, params, options), at::kCPU);
  }();
  if (padding_free) keep_what_padding_free_computes(golden.meta["padding_free"], moved(inputs, at::kCPU), expected, actual);
  const auto why = autocast ? autocast_mismatch(golden, expected, actual, settings) : mismatch(golden, expected, actual);
  EXPECT_TRUE(why.empty()) << why;
}

std::string test_name(const ::testing::TestParamInfo<GoldenCase>& info) { return test_name_of(info.param.name); }

// SEQPACK_CASE_FAMILY=<folder> runs one family (ctest runs one family per test).
std::vector<GoldenCase> chosen_cases() {
  const char* family = std::getenv("SEQPACK_CASE_FAMILY");
  return discover_cases(cases_root(), family ? family : "");
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(chosen_cases()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

}  // namespace
}  // namespace seqpack::conformance
