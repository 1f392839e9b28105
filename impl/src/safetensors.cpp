#include "seqpack/safetensors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstring>
#include <fstream>

#include "seqpack/errors.h"
#include "seqpack/input_files.h"
#include "seqpack/json_input.h"
#include "seqpack/limits.h"

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
  reject(where, "has a dtype seqpack does not read (\"{}\")", printable(name, 40));
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

// The safetensors format's own bound on the header, which keeps a hostile size from being parsed.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// A list of whole non-negative JSON numbers under `key`: a shape or data_offsets. JSON has one
// number type, so 1.5, 8.2e24 or -1 arrive as numbers too; each is refused rather than converted.
std::vector<int64_t> whole_numbers(const json& entry, const char* key, const std::string& where) {
  const auto found = entry.find(key);
  if (found == entry.end() || !found->is_array()) reject(where, "needs {}, a list of whole numbers", key);
  std::vector<int64_t> numbers;
  for (const auto& item : *found) {
    const bool whole = item.is_number_unsigned() ||
                       (item.is_number_integer() && item.get<int64_t>() >= 0);
    if (!whole || (item.is_number_unsigned() && item.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      reject(where, "has {} holding {}, not a whole number from 0 to 2^63 - 1", key, printable(item.dump(), 40));
    }
    numbers.push_back(item.get<int64_t>());
  }
  return numbers;
}

}  // namespace

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& origin) {
  if (bytes.size() < 8) reject(origin, "is not a safetensors file (shorter than its 8-byte header size)");
  const uint64_t header_size = read_le64(bytes);
  if (header_size > kMaxHeaderBytes) {
    reject(origin, "is not safetensors (a header of {} bytes; the format allows at most {})", header_size, kMaxHeaderBytes);
  }
  if (header_size > bytes.size() - 8) {
    reject(origin, "is truncated or not safetensors (header of {} bytes in a file of {})", header_size, bytes.size());
  }
  const json header = parse_json_input(std::string_view(bytes).substr(8, header_size), origin + ": its header");
  if (!header.is_object()) reject(origin, "has a header that is not a JSON object");

  SafetensorsFile file;
  const size_t data_start = 8 + header_size;
  const size_t data_size = bytes.size() - data_start;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    const std::string where = fmt::format("{}: tensor \"{}\"", origin, printable(name, 80));
    if (name == "__metadata__") {
      if (!entry.is_object()) reject(where, "must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) reject(where, "must map to strings (\"{}\" does not)", printable(key, 80));
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) reject(where, "must be an object with dtype, shape and data_offsets");
    const auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string()) reject(where, "needs a dtype, a string such as \"F32\"");
    const auto type = dtype_from_name(dtype->get<std::string>(), where);
    const auto shape = whole_numbers(entry, "shape", where);
    const auto offsets = whole_numbers(entry, "data_offsets", where);
    if (offsets.size() != 2) reject(where, "needs data_offsets of two numbers [begin, end] (got {})", offsets.size());
    if (offsets[0] > offsets[1] || static_cast<uint64_t>(offsets[1]) > data_size) {
      reject(where, "has data_offsets [{}, {}] outside the file's {} data bytes", offsets[0], offsets[1], data_size);
    }
    const int64_t numel = checked_numel(shape, type, where);
    const auto expected = static_cast<uint64_t>(numel) * c10::elementSize(type);
    const auto held = static_cast<uint64_t>(offsets[1] - offsets[0]);
    if (held != expected) reject(where, "holds {} bytes where its shape and dtype need {}", held, expected);
    auto tensor = at::empty(shape, at::TensorOptions().dtype(type));
    if (expected > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_start + offsets[0], expected);
    file.tensors[name] = tensor;
    ranges.emplace_back(offsets[0], offsets[1]);
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

SafetensorsFile read_safetensors(const std::filesystem::path& path, std::string_view argument) {
  const std::string origin = fmt::format("{} \"{}\"", argument, printable(path.string()));
  return parse_safetensors(read_input_file(path, argument), origin);
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
    if (!out) reject(printable(path.string()), "cannot be written (cannot create {})", printable(temporary.string()));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::filesystem::remove(temporary);
      reject(printable(path.string()), "could not be written in full");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    reject(printable(path.string()), "could not be written ({})", error.message());
  }
}

}  // namespace seqpack
