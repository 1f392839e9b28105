#pragma once
// A model compiled ahead of time by AOTInductor: a .pt2 package written by
// reference/seqpack_reference/compiled/export.py (torch.export of the padded forward, batch
// dimension dynamic), loaded with LibTorch's AOTIModelPackageLoader. The package's metadata names
// the op it was exported from and each input's name, dtype and shape, which are checked before a
// run: the compiled code itself does not check what it is given.
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "seqpack/safetensors.h"

namespace torch::inductor {
class AOTIModelPackageLoader;
}

namespace seqpack {

struct CompiledInput {
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;  // -1: the batch dimension, any size
};

class CompiledModel {
 public:
  // Bad path, not a .pt2 zip archive, unloadable, or no seqpack metadata: InvalidArgument naming
  // `argument` (the command line's --package).
  explicit CompiledModel(const std::string& path, const std::string& argument = "--package");
  ~CompiledModel();

  const std::string& op() const { return op_; }  // e.g. "model.transformer_lstm"
  const std::vector<CompiledInput>& inputs() const { return inputs_; }

  // Runs the forward on the inputs in the package's order; checks count, dtype, shape and that
  // every batch dimension agrees (InvalidArgument naming the input) before running.
  at::Tensor forward(const std::vector<at::Tensor>& tensors);

 private:
  void check_lengths(const std::vector<at::Tensor>& tensors) const;
  std::string op_;
  std::vector<CompiledInput> inputs_;
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader_;
};

}  // namespace seqpack
