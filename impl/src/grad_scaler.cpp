#include "seqpack/grad_scaler.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <map>
#include <utility>
#include <vector>

#include "seqpack/errors.h"

namespace seqpack {

GradScaler::GradScaler(const GradScalerOptions& options) : options_(options) {
  if (!(options_.init_scale() > 0.0)) reject("init_scale", "must be > 0, got {}", options_.init_scale());
  if (!(options_.growth_factor() > 1.0)) reject("growth_factor", "must be > 1, got {}", options_.growth_factor());
  if (!(options_.backoff_factor() > 0.0 && options_.backoff_factor() < 1.0)) {
    reject("backoff_factor", "must be in (0, 1), got {}", options_.backoff_factor());
  }
  if (options_.growth_interval() < 1) reject("growth_interval", "must be >= 1, got {}", options_.growth_interval());
}

at::Tensor GradScaler::scale(const at::Tensor& loss) {
  if (!scale_.defined()) {
    const auto on = at::TensorOptions().device(loss.device());
    scale_ = at::full({}, options_.init_scale(), on.dtype(at::kFloat));
    growth_tracker_ = at::zeros({}, on.dtype(at::kInt));
  }
  return loss * scale_.to(loss.device());
}

void GradScaler::unscale(torch::optim::Optimizer& optimizer) {
  if (!scale_.defined()) reject("optimizer", "unscale() needs a loss scaled by scale() first");
  auto& state = optimizer_states_[&optimizer];
  if (state.stage == Stage::Unscaled) reject("optimizer", "unscale() was already called since the last update()");
  if (state.stage == Stage::Stepped) reject("optimizer", "unscale() may not follow step() before update()");

  // The reciprocal in float64, as PyTorch does: float32 division can be inexact under some builds.
  const auto inv_scale = scale_.to(at::kDouble).reciprocal().to(at::kFloat);
  state.found_inf = at::zeros({}, scale_.options().dtype(at::kFloat));
  // The kernel takes gradients of one device and dtype at a time; the scale is on one device here.
  std::map<std::pair<std::string, at::ScalarType>, std::vector<at::Tensor>> grads_by_device_and_dtype;
  torch::NoGradGuard no_grad;
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& parameter : group.params()) {
      const auto& grad = parameter.grad();
      if (!grad.defined()) continue;
      // A float16 gradient would overflow once scaled; the parameters (the master copy) stay float32.
      if (grad.scalar_type() == at::kHalf) reject("optimizer", "holds float16 gradients; unscaling them is refused");
      grads_by_device_and_dtype[{grad.device().str(), grad.scalar_type()}].push_back(grad);
    }
  }
  for (auto& [key, grads] : grads_by_device_and_dtype) {
    const auto device = grads.front().device();
    auto found_inf = state.found_inf.to(device);
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale.to(device));
    if (device != state.found_inf.device()) state.found_inf.add_(found_inf.to(state.found_inf.device()));
  }
  state.stage = Stage::Unscaled;
}

bool GradScaler::step(torch::optim::Optimizer& optimizer) {
  auto& state = optimizer_states_[&optimizer];
  if (state.stage == Stage::Stepped) reject("optimizer", "step() was already called since the last update()");
  if (state.stage == Stage::Ready) unscale(optimizer);
  // Reading found_inf synchronises with the device, as PyTorch's _maybe_opt_step does.
  const bool finite = state.found_inf.item<float>() == 0.0f;
  if (finite) optimizer.step();
  state.stage = Stage::Stepped;
  return finite;
}

void GradScaler::update() {
  if (!scale_.defined()) reject("update", "needs a loss scaled by scale() first");
  std::vector<at::Tensor> found_infs;
  for (const auto& [optimizer, state] : optimizer_states_) {
    if (state.found_inf.defined()) found_infs.push_back(state.found_inf.to(scale_.device()));
  }
  if (found_infs.empty()) reject("update", "no inf/nan check was recorded (call unscale() or step() first)");
  auto found_inf_combined = found_infs.front().clone();
  for (size_t i = 1; i < found_infs.size(); ++i) found_inf_combined.add_(found_infs[i]);
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf_combined, options_.growth_factor(),
                         options_.backoff_factor(), options_.growth_interval());
  optimizer_states_.clear();
}

double GradScaler::scale_value() const {
  return scale_.defined() ? scale_.item<double>() : options_.init_scale();
}

}  // namespace seqpack
