#pragma once
// The start of data-parallel training, as DistributedDataParallel's constructor does it: every
// rank takes one rank's parameters and buffers, so that all ranks start from the same model.
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <vector>

namespace c10d {
class Backend;
}

namespace seqpack::distributed {

// Overwrites `tensors` on every rank with rank `root`'s (in place, in buckets as gradient_buckets
// cuts them). A collective: every rank calls it with tensors of the same shapes and dtypes.
// InvalidArgument for a root outside the group or an undefined tensor.
void broadcast_parameters(c10d::Backend& group, const std::vector<at::Tensor>& tensors, int root = 0);

// DDP's start for a module: its parameters, then its buffers, from rank `root`.
void broadcast_module_state(c10d::Backend& group, const torch::nn::Module& module, int root = 0);

}  // namespace seqpack::distributed
