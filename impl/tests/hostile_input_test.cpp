// Hostile input: sizes that overflow or exceed the limits, numbers that are not integers, special
// files, strings that would break a one-line message, and the command's exit and output rules.
#include <ATen/ATen.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "seqpack/cli.h"
#include "seqpack/input_files.h"
#include "seqpack/limits.h"
#include "seqpack/ops/registry.h"
#include "seqpack/safetensors.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

namespace fs = std::filesystem;

fs::path scratch_dir() {
  auto dir = fs::temp_directory_path() / ("seqpack_hostile_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// A safetensors file with the given JSON header and `data` zero bytes.
std::string with_header(const std::string& json, size_t data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xFF);
  return out + json + std::string(data, '\0');
}

// Restores the default limits after a test that lowers them.
struct LimitsGuard {
  Limits saved = limits();
  ~LimitsGuard() { set_limits(saved); }
};

TEST(HostileSafetensors, ShapesAndOffsetsMustBeWholeNumbers) {
  // The fuzzer's finds: floats reached an integer conversion (undefined behaviour), and 1.5 was read as 1.
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":"I64","shape":[8.2e24],"data_offsets":[0,8]}})", 8), "f"),
                 "tensor \"x\"", "shape", "not a whole number");
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":"I64","shape":[1.5],"data_offsets":[0,8]}})", 8), "f"),
                 "shape", "1.5");
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":"I64","shape":[1],"data_offsets":[0,6e24]}})", 8), "f"),
                 "data_offsets", "not a whole number");
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":"I64","shape":[-1],"data_offsets":[0,8]}})", 8), "f"),
                 "shape", "-1");
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":"I64","shape":[1],"data_offsets":[0]}})", 8), "f"),
                 "two numbers");
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":7,"shape":[1],"data_offsets":[0,8]}})", 8), "f"),
                 "needs a dtype");
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":[1,2]})", 0), "f"), "must be an object");
}

TEST(HostileSafetensors, SizesAreCheckedBeforeAllocation) {
  // numel overflows int64 (undefined behaviour before), and a byte count that wraps to 0 passed.
  EXPECT_REJECTS(parse_safetensors(with_header(
                     R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0), "f"),
                 "tensor \"x\"", "elements", "--max-tensor-elements");
  EXPECT_REJECTS(parse_safetensors(with_header(
                     R"({"x":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})", 0), "f"),
                 "more than");
  LimitsGuard guard;
  set_limits({.max_tensor_elements = 100, .max_tensor_bytes = 64, .max_file_bytes = 1000});
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":"F64","shape":[9],"data_offsets":[0,72]}})", 72), "f"),
                 "72 bytes, more than 64", "--max-tensor-bytes");
  EXPECT_NO_THROW(parse_safetensors(with_header(R"({"x":{"dtype":"F64","shape":[8],"data_offsets":[0,64]}})", 64), "f"));
  EXPECT_NO_THROW(parse_safetensors(with_header(R"({"x":{"dtype":"F64","shape":[0,4611686018427387904],)"
                                                R"("data_offsets":[0,0]}})", 0), "f"));
}

TEST(HostileSafetensors, DeepNestingIsRefusedBeforeParsing) {
  // Found by hand beside the fuzzers: quoting a 100,000-deep value in a message overflowed the stack.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_REJECTS(parse_safetensors(with_header(R"({"x":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,0]}})", 0),
                                   "f"),
                 "f: its header", "deeper than 64 levels");
  // Brackets inside strings do not count.
  EXPECT_NO_THROW(parse_safetensors(with_header(R"({"__metadata__":{"k":")" + std::string(100, '[') + R"("}})", 0), "f"));
}

TEST(HostileSafetensors, HugeHeaderSizeIsRefusedBeforeParsing) {
  std::string bytes(8, '\xff');
  EXPECT_REJECTS(parse_safetensors(bytes + "{}", "f"), "the format allows at most");
}

// The defaults docs/bad-input.md and `seqpack eval --help` state: 2^31 elements, 4 GiB a tensor,
// 8 GiB an input file.
TEST(HostileLimits, DefaultsAreTheDocumentedOnes) {
  const Limits defaults;
  EXPECT_EQ(defaults.max_tensor_elements, 2147483648LL);
  EXPECT_EQ(defaults.max_tensor_bytes, 4LL * 1024 * 1024 * 1024);
  EXPECT_EQ(defaults.max_file_bytes, 8LL * 1024 * 1024 * 1024);
}

TEST(HostileLimits, ArithmeticOnUserSizesIsChecked) {
  EXPECT_EQ(checked_multiply(1 << 20, 1 << 20, "x"), int64_t{1} << 40);
  EXPECT_REJECTS(checked_multiply(int64_t{1} << 40, int64_t{1} << 30, "batch_size"), "batch_size", "overflows");
  EXPECT_REJECTS(checked_numel({3, -2}, at::kFloat, "shape"), "shape", "negative");
  EXPECT_EQ(checked_numel({3, 0, int64_t{1} << 62}, at::kFloat, "shape"), 0);
  EXPECT_REJECTS(set_limits({.max_tensor_elements = 0}), "max_tensor_elements", "positive");
}

TEST(HostileMessages, UserStringsStayOnOneBoundedLine) {
  EXPECT_EQ(printable("a\nb\tc\x01"), "a\\nb\\tc\\x01");
  const auto cut = printable(std::string(500, 'x'), 10);
  EXPECT_EQ(cut, "xxxxxxxxxx... (490 more bytes)");
  EXPECT_EQ(short_list({"a", "b", "c"}, 2), "a, b and 1 more");
  try {
    reject("inputs", "no tensor named \"{}\"", std::string("evil\nname") + std::string(10000, 'y'));
    FAIL() << "reject returned";
  } catch (const InvalidArgument& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_LT(message.size(), 1000u);
    EXPECT_NE(message.find("evil\\nname"), std::string::npos);
  }
}

TEST(HostileFiles, SpecialFilesAreRefusedWithoutBlocking) {
  const auto dir = scratch_dir();
  const auto fifo = dir / "fifo";
  fs::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opening a FIFO for reading blocks until a writer comes: the check must not open it.
  EXPECT_REJECTS(read_safetensors(fifo, "--in"), "--in", "not a regular file");
  EXPECT_REJECTS(read_input_file(dir, "--params"), "--params", "is a directory");
  EXPECT_REJECTS(check_input_file("/dev/zero", "--weights"), "--weights", "not a regular file");
  EXPECT_REJECTS(check_input_file(dir / "absent", "--in"), "--in", "no such file");
  LimitsGuard guard;
  set_limits({.max_file_bytes = 4});
  std::ofstream(dir / "five") << "12345";
  EXPECT_REJECTS(read_input_file(dir / "five", "--params"), "--params", "5 bytes, more than 4", "--max-file-bytes");
}

// The command in process: exit status, the one line on stderr, and what is left on disk.
struct CliRun {
  int status;
  std::string out, err;
};

CliRun run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "seqpack");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  const int status = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

int lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

class HostileCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = scratch_dir() / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_safetensors(in, {{"lengths", at::tensor({2, 3}, at::kLong)}});
  }
  fs::path dir;
  fs::path in = scratch_dir() / "create_mask_in.safetensors";
};

TEST_F(HostileCli, AGoodCallWrites) {
  const auto out = dir / "mask.safetensors";
  const auto run = run_cli({"eval", "create_mask", "--in", in, "--params", R"({"size": 4})", "--out", out});
  EXPECT_EQ(run.status, cli::kDone) << run.err;
  EXPECT_TRUE(at::equal(read_safetensors(out).tensors.at("mask"),
                        at::tensor({0, 0, 1, 1, 0, 0, 0, 1}).view({2, 4}).to(at::kBool)));
}

TEST_F(HostileCli, UsageErrorsAreOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"eval"}, {"eval", "create_mask", "--frobnicate"}, {}, {"eval", "no_such_op", "--in", "x"},
           {"eval", "create_mask", "--in", in, "--max-tensor-bytes", "-3"},
           {"eval", "create_mask", "--in", in, "--max-file-bytes", "1000000000000000000000000000000"},
           {"eval", "create_mask", "--in", in, "--max-tensor-elements", "12abc"}}) {
    const auto run = run_cli(args);
    EXPECT_EQ(run.status, cli::kUsage) << run.err;
    EXPECT_EQ(lines(run.err), 1) << run.err;
    EXPECT_EQ(run.err.rfind("seqpack: usage: ", 0), 0u) << run.err;
  }
}

TEST_F(HostileCli, AnOutputThatCannotBeWrittenIsRefusedBeforeWork) {
  const auto params = R"({"size": 4})";
  for (const auto& [out, rule] : std::vector<std::pair<std::string, std::string>>{
           {dir.string(), "is a directory"},
           {(dir / "sub/").string(), "names a directory"},
           {(dir / "absent" / "x.safetensors").string(), "no such directory"}}) {
    const auto run = run_cli({"eval", "create_mask", "--in", in, "--params", params, "--out", out});
    EXPECT_EQ(run.status, cli::kBadInput) << out;
    EXPECT_EQ(lines(run.err), 1) << run.err;
    EXPECT_NE(run.err.find("--out"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(rule), std::string::npos) << run.err;
  }
  for (const auto& entry : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << entry.path();
  const auto init = run_cli({"init", "model.attention_lstm", "--params", R"({"num_past_features": 2,
                             "num_future_features": 1})", "--out", ""});
  EXPECT_EQ(init.status, cli::kBadInput) << init.err;
  EXPECT_NE(init.err.find("--out: must name a file"), std::string::npos) << init.err;
}

TEST_F(HostileCli, AFailedCallLeavesAnExistingOutputAsItWas) {
  const auto out = dir / "kept.safetensors";
  std::ofstream(out) << "previous bytes";
  const auto run = run_cli({"eval", "create_mask", "--in", in, "--params", R"({"size": 1})", "--out", out});
  EXPECT_EQ(run.status, cli::kBadInput);
  EXPECT_NE(run.err.find("lengths"), std::string::npos) << run.err;
  std::ifstream kept(out);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "previous bytes");
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
}

TEST_F(HostileCli, ATensorNameWithANewlineIsEscaped) {
  const auto odd = dir / "odd.safetensors";
  write_safetensors(odd, {{"lengths", at::tensor({2}, at::kLong)}, {"evil\nname", at::ones({1})}});
  const auto run = run_cli({"eval", "create_mask", "--in", odd, "--params", R"({"size": 4})"});
  EXPECT_EQ(run.status, cli::kBadInput);
  EXPECT_EQ(lines(run.err), 1) << run.err;
  EXPECT_NE(run.err.find("evil\\nname"), std::string::npos) << run.err;
}

TEST_F(HostileCli, DeeplyNestedParamsAreRefused) {
  const std::string deep = R"({"size": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto run = run_cli({"eval", "create_mask", "--in", in, "--params", deep});
  EXPECT_EQ(run.status, cli::kBadInput) << run.err;
  EXPECT_EQ(lines(run.err), 1) << run.err;
  EXPECT_NE(run.err.find("--params: nests arrays or objects deeper than 64 levels"), std::string::npos) << run.err;
}

TEST_F(HostileCli, ASizeThatWouldExhaustMemoryIsRefused) {
  const auto run = run_cli({"eval", "create_mask", "--in", in, "--params", R"({"size": 4000000000000})"});
  EXPECT_EQ(run.status, cli::kBadInput) << run.err;
  EXPECT_NE(run.err.find("size"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--max-tensor-elements"), std::string::npos) << run.err;
  // The limits given on the command line apply to that call only.
  const auto small = run_cli({"eval", "create_mask", "--in", in, "--params", R"({"size": 40})", "--max-tensor-bytes",
                              "16"});
  EXPECT_EQ(small.status, cli::kBadInput) << small.err;
  EXPECT_EQ(limits().max_tensor_bytes, Limits{}.max_tensor_bytes);
}

TEST(HostileParams, IntegersMustBeExactAndInRange) {
  const TensorMap inputs{{"lengths", at::tensor({2, 3}, at::kLong)}};
  EXPECT_REJECTS(ops::run_op("create_mask", inputs, {{"size", 4.0}}), "params.size", "must be an integer");
  EXPECT_REJECTS(ops::run_op("create_mask", inputs, nlohmann::json::parse(R"({"size": 1e3})")), "params.size");
  EXPECT_REJECTS(ops::run_op("create_mask", inputs, nlohmann::json::parse(R"({"size": 18446744073709551615})")),
                 "params.size", "2^63 - 1");
}

TEST(HostileParams, ModelSizesAndProbabilitiesAreBounded) {
  const TensorMap none;
  const nlohmann::json base = {{"num_past_features", 2}, {"num_future_features", 1}};
  const auto with = [&](const char* key, nlohmann::json value) {
    auto params = base;
    params[key] = value;
    return params;
  };
  const auto start = std::chrono::steady_clock::now();
  EXPECT_REJECTS(ops::run_op("model.transformer_lstm", none, with("num_layers", 5000)), "params.num_layers", "at most 16");
  EXPECT_REJECTS(ops::run_op("model.attention_lstm", none, with("d_model", 1000000000)), "params.d_model", "at most");
  EXPECT_REJECTS(ops::run_op("model.encoder_decoder_lstm", none, with("d_mlp_hidden", nlohmann::json::array({8, 100000}))),
                 "params.d_mlp_hidden", "at most");
  // Refused before anything is built: well under a second, where building them took minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  for (const double dropout : {-0.5, 1.0, 1.5, 2.0}) {
    EXPECT_REJECTS(ops::run_op("model.attention_lstm", none, with("dropout", dropout)), "params.dropout", "[0, 1)");
  }
  EXPECT_REJECTS(ops::run_op("model.xtft", none, with("criterion", "")), "params.criterion");
}

}  // namespace
}  // namespace seqpack
