#include "seqpack/safetensors.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "test_helpers.h"

namespace seqpack {
namespace {

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("seqpack_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

TEST(Safetensors, RoundTripsEveryDtypeAndMetadata) {
  TensorMap tensors;
  for (const auto dtype : {at::kDouble, at::kFloat, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort,
                           at::kChar, at::kByte, at::kBool}) {
    tensors[std::string(c10::toString(dtype))] = (at::randn({2, 3}) * 10).to(dtype);
  }
  tensors["scalar"] = at::scalar_tensor(3.5, at::kDouble);
  tensors["empty"] = at::zeros({0, 4}, at::kFloat);
  const auto path = scratch("round_trip.safetensors");
  write_safetensors(path, tensors, {{"op", "test"}});
  const auto back = read_safetensors(path);
  EXPECT_EQ(back.metadata.at("op"), "test");
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) EXPECT_TRUE(at::equal(back.tensors.at(name), tensor)) << name;
}

TEST(Safetensors, RejectsMalformedFiles) {
  const std::string good = serialize_safetensors({{"x", at::arange(4, at::kFloat)}});
  EXPECT_REJECTS(parse_safetensors("abc", "f"), "f", "shorter than");
  EXPECT_REJECTS(parse_safetensors(good.substr(0, good.size() - 4), "f"), "f", "data_offsets");
  EXPECT_REJECTS(parse_safetensors(good + "pad!", "f"), "f", "trailing bytes");
  auto header = [](const std::string& json, size_t data) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xFF);
    return out + json + std::string(data, '\0');
  };
  EXPECT_REJECTS(parse_safetensors(header("{not json", 0), "f"), "f", "not valid JSON");
  EXPECT_REJECTS(parse_safetensors(header(R"({"x":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}})", 4), "f"),
                 "tensor \"x\"", "dtype");
  EXPECT_REJECTS(parse_safetensors(header(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4), "f"),
                 "tensor \"x\"", "holds 4 bytes where its shape and dtype need 8");
  EXPECT_REJECTS(parse_safetensors(header(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                          R"("y":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", 6), "f"),
                 "overlap");
  EXPECT_REJECTS(read_safetensors(scratch("does_not_exist.safetensors"), "--in"), "--in", "no such file");
  // The header size is all 8 bytes, little-endian: a high byte set makes it huge, however valid
  // the bytes after it (reading 7 of the 8 would take this for a 2-byte header, "{}").
  std::string huge = header("{}", 0);
  huge[7] = '\x01';
  EXPECT_REJECTS(parse_safetensors(huge, "f"), "f", "the format allows at most");
}

TEST(Safetensors, AFailedWriteLeavesTheOldFile) {
  const auto path = scratch("kept.safetensors");
  write_safetensors(path, {{"x", at::ones({2})}});
  EXPECT_REJECTS(write_safetensors(path, {{"bad", at::Tensor()}}), "bad", "undefined");
  EXPECT_REJECTS(write_safetensors(path, {{"complex", at::ones({2}, at::kComplexFloat)}}), "complex");
  EXPECT_TRUE(at::equal(read_safetensors(path).tensors.at("x"), at::ones({2})));
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".partial"));
  EXPECT_REJECTS(write_safetensors(scratch("no_such_dir") / "x.safetensors", {{"x", at::ones({1})}}),
                 "cannot be written");
}

}  // namespace
}  // namespace seqpack
