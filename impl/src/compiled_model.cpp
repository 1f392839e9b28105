#include "seqpack/compiled_model.h"

#include <caffe2/serialize/inline_container.h>
#include <elf.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "seqpack/errors.h"
#include "seqpack/input_files.h"
#include "seqpack/lengths.h"

namespace seqpack {
namespace {

// A .pt2 package is a zip archive: check the name and the magic bytes before handing it to the
// loader, whose own errors on other files are long C++ traces.
void check_package_file(const std::string& path, const std::string& argument) {
  namespace fs = std::filesystem;
  if (path.empty()) reject(argument, "is required (an AOTInductor package, .pt2)");
  check_input_file(path, argument);
  if (fs::path(path).extension() != ".pt2") reject(argument, "must be a .pt2 package (got \"{}\")", printable(path));
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() != 4 || std::string(magic, 4) != std::string("PK\x03\x04", 4)) {
    reject(argument, "\"{}\" is not a .pt2 package (not a zip archive)", printable(path));
  }
}

// What is wrong with a shared library's ELF layout, or "" if nothing: the loader maps each segment
// from the file, and a segment past its end is a SIGBUS when touched (a truncated library), not an
// error dlopen returns.
std::string elf_layout_problem(const char* data, size_t size) {
  Elf64_Ehdr header;
  if (size < sizeof(header)) return "shorter than an ELF header";
  std::memcpy(&header, data, sizeof(header));
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) return "not an ELF file";
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr)) return "not a 64-bit ELF file";
  const auto within = [size](uint64_t offset, uint64_t bytes) { return offset <= size && bytes <= size - offset; };
  if (!within(header.e_phoff, uint64_t{header.e_phnum} * sizeof(Elf64_Phdr))) return "its program headers lie past its end";
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    std::memcpy(&segment, data + header.e_phoff + i * sizeof(Elf64_Phdr), sizeof(segment));
    if (segment.p_filesz > 0 && !within(segment.p_offset, segment.p_filesz)) {
      return fmt::format("its segment {} lies past its end", i);
    }
  }
  return "";
}

// Every shared library in the package, checked before the loader maps it (elf_layout_problem).
void check_package_libraries(const std::string& path, const std::string& argument) {
  try {
    caffe2::serialize::PyTorchStreamReader archive(path);
    for (const auto& name : archive.getAllRecords()) {
      if (!name.ends_with(".so")) continue;
      const auto [bytes, size] = archive.getRecord(name);
      const auto problem = elf_layout_problem(static_cast<const char*>(bytes.get()), size);
      if (!problem.empty()) reject(argument, "\"{}\": its compiled library {} is damaged: {}", printable(path), printable(name), problem);
    }
  } catch (const InvalidArgument&) {
    throw;
  } catch (const std::exception& error) {  // the archive reader's own errors (c10::Error), or others
    const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
    const std::string first_line = c10_error ? c10_error->what_without_backtrace() : error.what();
    reject(argument, "cannot load \"{}\" as an AOTInductor package: {}", printable(path),
           first_line.substr(0, first_line.find('\n')));
  }
}

at::ScalarType dtype_named(const std::string& name, const std::string& argument) {
  if (name == "float64") return at::kDouble;
  if (name == "float32") return at::kFloat;
  if (name == "int64") return at::kLong;
  if (name == "int32") return at::kInt;
  if (name == "bool") return at::kBool;
  reject(argument, "the package's metadata names an unsupported dtype \"{}\"", name);
}

// The number of tensors the compiled model takes: the leaves of its input treespec (the call
// spec's first string, `[version, tree]`, a leaf being a node whose "type" is null).
int64_t leaves_of(const nlohmann::json& node) {
  if (node.is_array()) return node.size() == 2 ? leaves_of(node.at(1)) : 0;
  if (!node.is_object() || !node.contains("type")) return 0;
  if (node.at("type").is_null()) return 1;
  int64_t count = 0;
  for (const auto& child : node.value("children_spec", nlohmann::json::array())) count += leaves_of(child);
  return count;
}

// Holds LibTorch's log at errors while a package loads: the loader logs a warning on an archive
// without a model ("You are using an outdated version of the pt2 archive...") before it fails,
// and a refusal must stay one line.
class QuietLoading {
 public:
  QuietLoading() : saved_(FLAGS_caffe2_log_level) { FLAGS_caffe2_log_level = std::max(saved_, 2); }
  ~QuietLoading() { FLAGS_caffe2_log_level = saved_; }
  QuietLoading(const QuietLoading&) = delete;
  QuietLoading& operator=(const QuietLoading&) = delete;

 private:
  int saved_;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + (shape[i] < 0 ? "B" : std::to_string(shape[i]));
  return text + ")";
}

}  // namespace

CompiledModel::CompiledModel(const std::string& path, const std::string& argument) {
  check_package_file(path, argument);
  check_package_libraries(path, argument);
  try {
    const QuietLoading quiet;
    loader_ = std::make_unique<torch::inductor::AOTIModelPackageLoader>(path);
  } catch (const std::exception& error) {
    std::string first_line = error.what();
    reject(argument, "cannot load \"{}\" as an AOTInductor package: {}", printable(path),
           first_line.substr(0, first_line.find('\n')));
  }
  const auto metadata = loader_->get_metadata();
  const auto op = metadata.find("seqpack.op");
  const auto specs = metadata.find("seqpack.inputs");
  if (op == metadata.end() || specs == metadata.end()) {
    reject(argument, "\"{}\" has no seqpack metadata (write it with seqpack_reference.compiled.export)", printable(path));
  }
  op_ = op->second;
  try {
    for (const auto& spec : nlohmann::json::parse(specs->second)) {
      inputs_.push_back({spec.at("name"), dtype_named(spec.at("dtype"), argument), spec.at("shape")});
    }
  } catch (const nlohmann::json::exception& error) {
    reject(argument, "\"{}\" has malformed seqpack.inputs metadata ({})", printable(path), error.what());
  }
  // The metadata must describe the inputs the compiled graph takes: AOTInductor itself checks only
  // their count, when it runs, and answers a mismatch on stderr rather than as an error.
  if (inputs_.empty()) reject(argument, "\"{}\": its seqpack.inputs metadata lists no inputs", printable(path));
  std::set<std::string> names;
  for (const auto& input : inputs_) {
    if (!names.insert(input.name).second) {
      reject(argument, "\"{}\": its seqpack.inputs metadata lists \"{}\" twice", printable(path), printable(input.name));
    }
  }
  int64_t takes = -1;
  try {
    const auto call_spec = loader_->get_call_spec();
    if (!call_spec.empty()) takes = leaves_of(nlohmann::json::parse(call_spec.front()));
  } catch (const std::exception&) {
    takes = -1;
  }
  if (takes < 1) reject(argument, "\"{}\": the compiled model's call spec cannot be read", printable(path));
  if (takes != static_cast<int64_t>(inputs_.size())) {
    reject(argument, "\"{}\": its seqpack.inputs metadata lists {} inputs, but the compiled model takes {}",
           printable(path), inputs_.size(), takes);
  }
}

CompiledModel::~CompiledModel() = default;

// The lengths inputs hold what the eager model ops check too: whole, non-negative, at most the
// steps of the sequence they describe; the compiled graph itself checks none of it.
void CompiledModel::check_lengths(const std::vector<at::Tensor>& tensors) const {
  const auto steps_of = [&](std::initializer_list<const char*> names) -> std::optional<int64_t> {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      for (const auto* name : names) {
        if (inputs_[i].name == name && tensors[i].dim() >= 2) return tensors[i].size(1);
      }
    }
    return std::nullopt;
  };
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const auto& name = inputs_[i].name;
    std::optional<int64_t> steps;
    if (name == "encoder_lengths") steps = steps_of({"past_sequence", "past_covariates"});
    else if (name == "decoder_lengths") steps = steps_of({"future_sequence", "future_covariates"});
    else continue;
    checked_lengths(tensors[i], name, {.batch = tensors[i].size(0), .max_length = steps});
  }
}

at::Tensor CompiledModel::forward(const std::vector<at::Tensor>& tensors) {
  if (tensors.size() != inputs_.size()) {
    reject("inputs", "the package takes {} tensors, got {}", inputs_.size(), tensors.size());
  }
  int64_t batch = -1;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const auto& spec = inputs_[i];
    const auto& tensor = tensors[i];
    if (!tensor.defined()) reject(spec.name, "is undefined");
    if (tensor.scalar_type() != spec.dtype) {
      reject(spec.name, "must be {} as exported, got {}", c10::toString(spec.dtype), c10::toString(tensor.scalar_type()));
    }
    bool fits = tensor.dim() == static_cast<int64_t>(spec.shape.size());
    for (size_t d = 0; fits && d < spec.shape.size(); ++d) fits = spec.shape[d] < 0 || tensor.size(d) == spec.shape[d];
    if (!fits) reject(spec.name, "must have shape {} as exported, got {}", shape_text(spec.shape), tensor.sizes());
    if (tensor.dim() == 0 || tensor.size(0) < 1) reject(spec.name, "needs a batch of at least 1 row");
    if (batch < 0) batch = tensor.size(0);
    if (tensor.size(0) != batch) {
      reject(spec.name, "has batch size {}, but {} has {}", tensor.size(0), inputs_.front().name, batch);
    }
  }
  check_lengths(tensors);
  std::vector<at::Tensor> contiguous;
  for (const auto& tensor : tensors) contiguous.push_back(tensor.contiguous());
  auto outputs = loader_->run(contiguous);
  return outputs.at(0);
}

}  // namespace seqpack
