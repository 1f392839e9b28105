#include "seqpack/safetensors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

#include "seqpack/errors.h"

namespace seqpack {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<std::string_view, at::ScalarType>, 10> kDtypes{{
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf}, {"BF16", at::kBFloat16},
    {"I64", at::kLong}, {"I32", at::kInt}, {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte}, {"BOOL", at::kBool},
}};

at::ScalarType dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& [text, type] : kDtypes) {
    if (text == name) return type;
  }
  reject(where, "has a dtype seqpack does not read (\"{}\")", name);
}

std::string_view dtype_name(at::ScalarType type, const std::string& tensor) {
  for (const auto& [text, candidate] : kDtypes) {
    if (candidate == type) return text;
  }
  reject(tensor, "has a dtype that safetensors cannot hold here ({})", c10::toString(type));
}

uint64_t read_le64(const std::string& bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  return value;
}

}  // namespace

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& origin) {
  if (bytes.size() < 8) reject(origin, "is not a safetensors file (shorter than its 8-byte header size)");
  const uint64_t header_size = read_le64(bytes);
  if (header_size > bytes.size() - 8) {
    reject(origin, "is truncated or not safetensors (header of {} bytes in a file of {})", header_size, bytes.size());
  }
  json header;
  try {
    header = json::parse(bytes.substr(8, header_size));
  } catch (const json::exception& error) {
    reject(origin, "has a header that is not valid JSON ({})", error.what());
  }
  if (!header.is_object()) reject(origin, "has a header that is not a JSON object");

  SafetensorsFile file;
  const size_t data_start = 8 + header_size;
  const size_t data_size = bytes.size() - data_start;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    const std::string where = fmt::format("{}: tensor \"{}\"", origin, name);
    if (name == "__metadata__") {
      if (!entry.is_object()) reject(where, "must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) reject(where, "must map to strings (\"{}\" does not)", key);
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    try {
      const auto type = dtype_from_name(entry.at("dtype").get<std::string>(), where);
      const auto shape = entry.at("shape").get<std::vector<int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size) {
        reject(where, "has data_offsets outside the file's {} data bytes", data_size);
      }
      int64_t numel = 1;
      for (const auto size : shape) {
        if (size < 0) reject(where, "has a negative dimension");
        numel *= size;
      }
      const uint64_t expected = static_cast<uint64_t>(numel) * c10::elementSize(type);
      if (offsets[1] - offsets[0] != expected) {
        reject(where, "holds {} bytes where its shape and dtype need {}", offsets[1] - offsets[0], expected);
      }
      auto tensor = at::empty(shape, at::TensorOptions().dtype(type));
      if (expected > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_start + offsets[0], expected);
      file.tensors[name] = tensor;
      ranges.emplace_back(offsets[0], offsets[1]);
    } catch (const json::exception& error) {
      reject(where, "has a malformed entry ({})", error.what());
    }
  }
  // The format requires the byte ranges to tile the data section exactly.
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin != covered) reject(origin, "has tensors whose byte ranges overlap or leave a gap at byte {}", begin);
    covered = end;
  }
  if (covered != data_size) reject(origin, "has {} trailing bytes that belong to no tensor", data_size - covered);
  return file;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) reject(path.string(), "cannot be opened for reading");
  std::ostringstream content;
  content << in.rdbuf();
  return parse_safetensors(content.str(), path.string());
}

std::string serialize_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) reject(name, "is undefined and cannot be written");
    auto host = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t size = host.numel() * host.element_size();
    header[name] = {{"dtype", dtype_name(host.scalar_type(), name)},
                    {"shape", host.sizes().vec()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
    contiguous.push_back(std::move(host));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((text.size() >> (8 * i)) & 0xFF);
  out += text;
  for (const auto& host : contiguous) {
    out.append(static_cast<const char*>(host.data_ptr()), host.numel() * host.element_size());
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string bytes = serialize_safetensors(tensors, metadata);
  auto temporary = path;
  temporary += ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) reject(path.string(), "cannot be written (cannot create {})", temporary.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::filesystem::remove(temporary);
      reject(path.string(), "could not be written in full");
    }
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace seqpack
