// weights_fuzz: the weights loader. The first byte picks a model op (one built once, from its
// golden's params), the rest is read as a safetensors state_dict and loaded into it: names, shapes
// and dtypes must be matched strictly, and a refused load must leave the model unchanged (as
// state_dict.h promises). Weights that load are run through the op, on the golden's inputs cast to
// their float dtype, so that accepted weights (any values, either float dtype, Lightning names)
// reach the forward and the loss.
#include <cstring>

#include "fuzz_support.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/ops/model_factory.h"
#include "seqpack/ops/registry.h"

namespace {

using namespace seqpack;

struct Model {
  const fuzz::Golden* golden;
  std::shared_ptr<torch::nn::Module> module;
};

const std::vector<Model>& fuzzed_models() {
  static const std::vector<Model> built = [] {
    std::vector<Model> all;
    for (const auto* golden : fuzz::model_goldens()) {
      ops::Params params(golden->params);
      all.push_back({golden, ops::make_model(golden->op, params)});
    }
    return all;
  }();
  return built;
}

// Bitwise, so that NaN weights a previous input loaded compare equal to themselves.
bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const auto x = a.contiguous();
  const auto y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.numel() * x.element_size()) == 0;
}

// The golden's floating inputs in the dtype the model took from the weights (either float dtype
// loads), so that accepted weights reach the forward.
TensorMap inputs_for(const Model& model) {
  const auto type = model.module->parameters().front().scalar_type();
  TensorMap inputs;
  for (const auto& [name, tensor] : model.golden->inputs) {
    inputs[name] = at::isFloatingType(tensor.scalar_type()) ? tensor.to(type) : tensor;
  }
  return inputs;
}

void expect_unchanged(const TensorMap& before, const torch::nn::Module& module) {
  const auto after = models::state_dict(module);
  for (const auto& [name, tensor] : before) {
    if (!same_bytes(tensor, after.at(name))) {
      fuzz::finding("weights_fuzz", "load_state_dict refused the weights but changed \"" + name + "\"");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init_process();
  fuzzed_models();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& model = fuzz::pick(fuzzed_models(), data[0]);
  fuzz::expect_only_bad_input("weights_fuzz", [&] {
    const auto weights = parse_safetensors(fuzz::as_string(data + 1, size - 1), "weights").tensors;
    TensorMap before;
    for (const auto& [name, tensor] : models::state_dict(*model.module)) before[name] = tensor.clone();
    try {
      models::load_state_dict(*model.module, weights);
    } catch (const InvalidArgument&) {
      expect_unchanged(before, *model.module);
      throw;
    }
    ops::run_op(model.golden->op, inputs_for(model), model.golden->params, {.weights = &weights});
  });
  return 0;
}
