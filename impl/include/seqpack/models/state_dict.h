#pragma once
// A model's parameters and buffers by their state_dict names (the original's), to and from a
// TensorMap (and so a safetensors file).
#include <torch/nn/module.h>

#include "seqpack/safetensors.h"

namespace seqpack::models {

TensorMap state_dict(const torch::nn::Module& module);

// Strict: every missing, unexpected or mis-shaped tensor is listed in one InvalidArgument, and the
// module is left unchanged. A Lightning module's state_dict (names under "model.", plus the
// criterion's buffers) is accepted too. The module takes the weights' floating dtype.
void load_state_dict(torch::nn::Module& module, const TensorMap& weights);

}  // namespace seqpack::models
