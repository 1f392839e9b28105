#pragma once
// transformertf's activation names (nn/_get_activation.py): elu, relu, lrelu, gelu, tanh, sigmoid.
#include <torch/nn/modules/container/any.h>

#include <string>

namespace seqpack::nn {

// A fresh activation module for `name`; an unknown name is InvalidArgument naming `argument`.
torch::nn::AnyModule make_activation(const std::string& name, const std::string& argument);

}  // namespace seqpack::nn
