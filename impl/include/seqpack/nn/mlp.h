#pragma once
// transformertf's MLP (nn/_mlp.py): Sequential "mlp" of [Linear, activation, Dropout if > 0] per
// hidden size, then a Linear to output_dim; the indices inside "mlp" match the original's.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace seqpack::nn {

class MLPImpl : public torch::nn::Module {
 public:
  MLPImpl(int64_t input_dim, const std::vector<int64_t>& d_hidden, int64_t output_dim, double dropout,
          const std::string& activation);
  at::Tensor forward(const at::Tensor& x) { return mlp->forward(x); }

  torch::nn::Sequential mlp;
};
TORCH_MODULE(MLP);

}  // namespace seqpack::nn
