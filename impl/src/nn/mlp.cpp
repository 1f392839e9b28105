#include "seqpack/nn/mlp.h"

#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "seqpack/nn/activation.h"

namespace seqpack::nn {

MLPImpl::MLPImpl(int64_t input_dim, const std::vector<int64_t>& d_hidden, int64_t output_dim, double dropout,
                 const std::string& activation) {
  int64_t previous = input_dim;
  for (const auto width : d_hidden) {
    mlp->push_back(torch::nn::Linear(previous, width));
    mlp->push_back(make_activation(activation, "mlp_activation"));
    if (dropout > 0) mlp->push_back(torch::nn::Dropout(dropout));
    previous = width;
  }
  mlp->push_back(torch::nn::Linear(previous, output_dim));
  register_module("mlp", mlp);
}

}  // namespace seqpack::nn
