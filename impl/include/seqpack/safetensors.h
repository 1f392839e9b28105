#pragma once
// A small reader and writer for the safetensors format (an 8-byte little-endian header size, a
// JSON header naming each tensor's dtype, shape and byte range, then the raw bytes), which is how
// goldens, `seqpack eval` inputs and outputs, and PyTorch state_dicts travel.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace seqpack {

using TensorMap = std::map<std::string, at::Tensor>;

struct SafetensorsFile {
  TensorMap tensors;
  std::map<std::string, std::string> metadata;
};

// Throws InvalidArgument naming the argument, the file and the tensor when the file is not valid
// safetensors: not a regular file, truncated, a bad header, an unknown dtype, a shape or offset
// that is not a whole number, a tensor past limits() (checked before allocation), byte ranges that
// overlap, leave gaps or do not match the shape.
SafetensorsFile read_safetensors(const std::filesystem::path& path, std::string_view argument = "file");
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& origin);

// Writes CPU-contiguous copies of the tensors. The file appears whole or not at all: the bytes go
// to a temporary file beside it that is renamed over the target.
void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});
std::string serialize_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata = {});

}  // namespace seqpack
