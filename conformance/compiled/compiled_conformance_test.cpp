// The AOTInductor packages (reference/seqpack_reference/compiled/export.py, made by the ctest
// fixture compiled.export) run through `compiled.run`, the code path of `seqpack eval`: each
// package's output matches the eager golden of the case it was exported from, on the whole batch
// and on a smaller one (the batch dimension is dynamic), and every bad input is refused with an
// error naming the argument.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../runner/golden_case.h"
#include "seqpack/errors.h"
#include "seqpack/ops/registry.h"
#include "seqpack/safetensors.h"

namespace seqpack::compiled_test {
namespace {

namespace fs = std::filesystem;

// A package's output is compared with the eager golden by the conformance runner's own mismatch,
// under the case's own tolerances: Inductor fuses and reorders the float64 reductions (layer norms,
// softmax, matmuls), so the last bits differ from eager (by about 1e-16 here), far below the model
// goldens' 1e-10; the compiled path needs no looser rule than the eager one.

fs::path packages_root() {
  const char* root = std::getenv("SEQPACK_AOTI_DIR");
  return root ? root : "";
}

// Case names ("transformer_lstm/small_packing_never") of the packages, from <root>/<case>.pt2.
// Not perf/ (the benchmarks' models) nor hostile/ (packages that must be refused, for
// cli_compiled_test.py: seqpack_reference/compiled/hostile.py's FOLDER), which have no golden.
std::vector<std::string> packaged_cases() {
  std::vector<std::string> names;
  const auto root = packages_root();
  if (root.empty() || !fs::exists(root)) return names;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto relative = fs::relative(entry.path(), root);
    if (entry.path().extension() == ".pt2" && *relative.begin() != "perf" && *relative.begin() != "hostile") {
      names.push_back(relative.parent_path().string() + "/" + entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool sanitized() {
#ifdef SEQPACK_SANITIZED
  return true;
#else
  return false;
#endif
}

#define SKIP_UNDER_SANITIZERS()                                                                            \
  if (sanitized())                                                                                         \
  GTEST_SKIP() << "asan-ubsan build: the package's .so is compiled by Inductor without the sanitizers, " \
                  "so loading it into an instrumented process is not checked here (the release run checks it)"

TensorMap case_inputs(const std::string& name) {
  auto inputs = read_safetensors(fs::path(SEQPACK_CASES_DIR) / name / "inputs.safetensors").tensors;
  inputs.erase("target");  // the package runs the forward only
  return inputs;
}

TensorMap run(const std::string& package, const TensorMap& inputs) {
  ops::EvalOptions options;
  options.package = &package;
  return ops::run_op("compiled.run", inputs, nlohmann::json::object(), options);
}

std::string package_of(const std::string& name) { return (packages_root() / (name + ".pt2")).string(); }

TEST(CompiledPackages, ExportedByTheFixture) {
  ASSERT_FALSE(packages_root().empty()) << "SEQPACK_AOTI_DIR is not set (ctest's compiled.export sets it up)";
  const auto names = packaged_cases();
  ASSERT_FALSE(names.empty()) << "no .pt2 packages under " << packages_root();
  for (const auto& name : names) EXPECT_TRUE(fs::exists(fs::path(SEQPACK_CASES_DIR) / name)) << name;
}

class Compiled : public ::testing::TestWithParam<std::string> {};

// The golden's forward output (the package computes no loss or gradients).
at::Tensor expected_output(const conformance::GoldenCase& golden) {
  return read_safetensors(golden.folder / "expected.safetensors").tensors.at("output");
}

TEST_P(Compiled, MatchesEagerGolden) {
  SKIP_UNDER_SANITIZERS();
  const auto golden = conformance::read_case(SEQPACK_CASES_DIR, GetParam());
  const auto output = run(package_of(golden.name), case_inputs(golden.name)).at("output");
  const auto why = conformance::mismatch(golden, {{"output", expected_output(golden)}}, {{"output", output}});
  EXPECT_TRUE(why.empty()) << why;
}

TEST_P(Compiled, SmallerBatchMatchesItsRows) {
  SKIP_UNDER_SANITIZERS();
  const auto golden = conformance::read_case(SEQPACK_CASES_DIR, GetParam());
  auto inputs = case_inputs(golden.name);
  for (auto& [key, tensor] : inputs) tensor = tensor.slice(0, 1, 3);
  const auto output = run(package_of(golden.name), inputs).at("output");
  const auto why =
      conformance::mismatch(golden, {{"output", expected_output(golden).slice(0, 1, 3)}}, {{"output", output}});
  EXPECT_TRUE(why.empty()) << why;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  return conformance::test_name_of(info.param);
}

INSTANTIATE_TEST_SUITE_P(Packages, Compiled, ::testing::ValuesIn(packaged_cases()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Compiled);

// Expects InvalidArgument whose message contains every one of `mentions`.
template <typename F>
void expect_refused(F&& call, std::initializer_list<std::string> mentions) {
  try {
    call();
    ADD_FAILURE() << "expected an InvalidArgument";
  } catch (const InvalidArgument& error) {
    for (const auto& mention : mentions) EXPECT_NE(std::string(error.what()).find(mention), std::string::npos) << error.what();
  }
}

class CompiledRejects : public ::testing::Test {
 protected:
  const std::string name = "transformer_lstm/small_packing_never";
  std::string package = package_of(name);
  TensorMap inputs = case_inputs(name);
  fs::path scratch = fs::temp_directory_path() / ("seqpack_compiled_" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(scratch); }
  void TearDown() override { fs::remove_all(scratch); }
  std::string write(const std::string& file, const std::string& text) {
    std::ofstream(scratch / file) << text;
    return (scratch / file).string();
  }
};

TEST_F(CompiledRejects, NoPackage) {
  expect_refused([&] { ops::run_op("compiled.run", inputs, nlohmann::json::object()); }, {"--package", "required"});
}

TEST_F(CompiledRejects, MissingFile) {
  expect_refused([&] { run((scratch / "absent.pt2").string(), inputs); }, {"--package", "no such file"});
}

TEST_F(CompiledRejects, NotAPt2Name) {
  expect_refused([&] { run(write("model.zip", "PK\x03\x04"), inputs); }, {"--package", ".pt2"});
}

TEST_F(CompiledRejects, NotAZipArchive) {
  expect_refused([&] { run(write("model.pt2", "not a package"), inputs); }, {"--package", "not a zip archive"});
}

TEST_F(CompiledRejects, ADirectory) {
  fs::create_directories(scratch / "folder.pt2");
  expect_refused([&] { run((scratch / "folder.pt2").string(), inputs); }, {"--package", "not a file"});
}

TEST_F(CompiledRejects, PackageForAnotherOp) {
  ops::EvalOptions options;
  options.package = &package;
  expect_refused([&] { ops::run_op("create_mask", inputs, nlohmann::json::object(), options); },
                 {"--package", "takes no package"});
}

TEST_F(CompiledRejects, MissingInput) {
  SKIP_UNDER_SANITIZERS();
  inputs.erase("decoder_lengths");
  expect_refused([&] { run(package, inputs); }, {"decoder_lengths", "missing"});
}

TEST_F(CompiledRejects, ExtraInput) {
  SKIP_UNDER_SANITIZERS();
  inputs["static_covariates"] = at::zeros({4, 1}, at::kDouble);
  expect_refused([&] { run(package, inputs); }, {"static_covariates", "takes no tensor"});
}

TEST_F(CompiledRejects, WrongDtype) {
  SKIP_UNDER_SANITIZERS();
  inputs["past_sequence"] = inputs["past_sequence"].to(at::kFloat);
  expect_refused([&] { run(package, inputs); }, {"past_sequence", "must be Double", "Float"});
}

TEST_F(CompiledRejects, WrongFeatureCount) {
  SKIP_UNDER_SANITIZERS();
  inputs["future_sequence"] = at::zeros({4, 5, 3}, at::kDouble);
  expect_refused([&] { run(package, inputs); }, {"future_sequence", "shape (B, 5, 2)", "[4, 5, 3]"});
}

TEST_F(CompiledRejects, WrongStepCount) {
  SKIP_UNDER_SANITIZERS();
  inputs["past_sequence"] = at::zeros({4, 9, 3}, at::kDouble);
  expect_refused([&] { run(package, inputs); }, {"past_sequence", "shape (B, 7, 3)"});
}

TEST_F(CompiledRejects, BatchSizesDisagree) {
  SKIP_UNDER_SANITIZERS();
  inputs["decoder_lengths"] = inputs["decoder_lengths"].slice(0, 0, 3);
  expect_refused([&] { run(package, inputs); }, {"decoder_lengths", "batch size 3", "past_sequence has 4"});
}

TEST_F(CompiledRejects, WrongRank) {
  SKIP_UNDER_SANITIZERS();
  inputs["encoder_lengths"] = inputs["encoder_lengths"].reshape({4, 1, 1});
  expect_refused([&] { run(package, inputs); }, {"encoder_lengths", "must have shape"});
}

}  // namespace
}  // namespace seqpack::compiled_test
