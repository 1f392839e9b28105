#include "seqpack/nn/activation.h"

#include <torch/nn/modules/activation.h>

#include "seqpack/errors.h"

namespace seqpack::nn {

torch::nn::AnyModule make_activation(const std::string& name, const std::string& argument) {
  if (name == "elu") return torch::nn::AnyModule(torch::nn::ELU());
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "lrelu") return torch::nn::AnyModule(torch::nn::LeakyReLU());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "sigmoid") return torch::nn::AnyModule(torch::nn::Sigmoid());
  reject(argument, "must be one of elu, relu, lrelu, gelu, tanh, sigmoid (got \"{}\")", name);
}

}  // namespace seqpack::nn
