#include "seqpack/nn/grn.h"

#include <torch/nn/init.h>

#include "seqpack/errors.h"
#include "seqpack/nn/activation.h"

namespace seqpack::nn {

GatedResidualNetworkImpl::GatedResidualNetworkImpl(const GatedResidualNetworkOptions& options) {
  const auto hidden = options.d_hidden().value_or(options.input_dim());
  fc1 = register_module("fc1", torch::nn::Linear(options.input_dim(), hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, options.output_dim()));
  if (options.dropout() > 0) dropout = register_module("dropout", torch::nn::Dropout(options.dropout()));
  if (options.context_dim()) {
    fc3 = register_module("fc3", torch::nn::Linear(torch::nn::LinearOptions(*options.context_dim(), hidden).bias(false)));
  }
  if (options.input_dim() != options.output_dim()) {
    if (options.projection() == Projection::Linear) {
      project = register_module("project", torch::nn::Linear(options.input_dim(), options.output_dim()));
    } else {
      resample = register_module("resample", ResampleNorm(options.input_dim(), options.output_dim()));
    }
  }
  glu1 = register_module("glu1", GatedLinearUnit(options.output_dim(), std::nullopt, options.dropout()));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.output_dim()})));
  activation = make_activation(options.activation(), "activation");
  // The original's initialisation, matched by name (so glu1.fc1 counts as an fc1 too).
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const auto& name = item.key();
    auto& p = item.value();
    if (name.find("bias") != std::string::npos) {
      torch::nn::init::zeros_(p);
    } else if (name.find("fc1") != std::string::npos || name.find("fc2") != std::string::npos) {
      torch::nn::init::kaiming_normal_(p, 0, torch::kFanIn, torch::kLeakyReLU);
    } else if (name.find("fc3") != std::string::npos) {
      torch::nn::init::xavier_uniform_(p);
    }
  }
}

at::Tensor GatedResidualNetworkImpl::forward(const at::Tensor& x, const std::optional<at::Tensor>& context) {
  const auto residual = project ? project(x) : resample ? resample(x) : x;
  auto hidden = fc1(x);
  if (fc3) {
    if (!context) reject("context", "is required: this network was built with a context_dim");
    hidden = hidden + fc3(*context);
  }
  hidden = fc2(activation.forward(hidden));
  if (dropout) hidden = dropout(hidden);
  return norm(glu1(hidden) + residual);
}

}  // namespace seqpack::nn
