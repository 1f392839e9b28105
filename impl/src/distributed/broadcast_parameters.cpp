#include "seqpack/models/unique_parameters.h"
#include "seqpack/distributed/broadcast_parameters.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>

#include "flat_tensors.h"
#include "seqpack/distributed/gradient_buckets.h"
#include "seqpack/errors.h"

namespace seqpack::distributed {

void broadcast_parameters(c10d::Backend& group, const std::vector<at::Tensor>& tensors, int root) {
  if (root < 0 || root >= group.getSize()) reject("root", "must be a rank in [0, {}), got {}", group.getSize(), root);
  at::NoGradGuard no_grad;  // the tensors are leaves that require gradients
  for (const auto& bucket : gradient_buckets(tensors)) {
    std::vector<at::Tensor> members;
    for (const auto i : bucket) members.push_back(tensors[i]);
    std::vector<at::Tensor> flat{flatten(members)};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    group.broadcast(flat, options)->wait();
    unflatten_into(flat[0], members);
  }
}

void broadcast_module_state(c10d::Backend& group, const torch::nn::Module& module, int root) {
  auto state = models::unique_parameters(module);
  const auto buffers = module.buffers();
  state.insert(state.end(), buffers.begin(), buffers.end());
  broadcast_parameters(group, state, root);
}

}  // namespace seqpack::distributed
