#pragma once
// Loss scaling for float16 training, torch.amp.GradScaler's algorithm on the same ATen kernels
// (_amp_foreach_non_finite_check_and_unscale_, _amp_update_scale_): the loss is multiplied by a
// scale so that small float16 gradients do not flush to zero; gradients are divided by it before
// the optimizer's step, a step whose gradients hold inf/nan is skipped and the scale backs off,
// and after growth_interval finite steps in a row the scale grows.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/optim/optimizer.h>

#include <unordered_map>

namespace seqpack {

struct GradScalerOptions {
  TORCH_ARG(double, init_scale) = 65536.0;  // 2^16
  TORCH_ARG(double, growth_factor) = 2.0;
  TORCH_ARG(double, backoff_factor) = 0.5;
  TORCH_ARG(int64_t, growth_interval) = 2000;
};

class GradScaler {
 public:
  explicit GradScaler(const GradScalerOptions& options = {});

  // loss * scale (the scale lives on the loss's device from the first call on).
  at::Tensor scale(const at::Tensor& loss);
  // Divides the optimizer's gradients by the scale in place and records whether any is inf/nan;
  // at most once per optimizer between two update() calls, and not after its step().
  void unscale(torch::optim::Optimizer& optimizer);
  // Unscales if not done yet, then steps unless a gradient was inf/nan; false = skipped.
  bool step(torch::optim::Optimizer& optimizer);
  // Backs the scale off if any optimizer saw inf/nan since the last update, else counts a finite
  // step and grows the scale after growth_interval of them; forgets the optimizers' state.
  void update();
  double scale_value() const;  // the current scale (init_scale before the first scale())
  const GradScalerOptions& options() const { return options_; }

 private:
  enum class Stage { Ready, Unscaled, Stepped };
  struct OptimizerState {
    Stage stage = Stage::Ready;
    at::Tensor found_inf;  // float32 scalar, > 0 when a gradient was inf/nan
  };

  GradScalerOptions options_;
  at::Tensor scale_;           // float32 scalar, created lazily on the loss's device
  at::Tensor growth_tracker_;  // int32 scalar: finite steps in a row since the last change
  std::unordered_map<const torch::optim::Optimizer*, OptimizerState> optimizer_states_;
};

}  // namespace seqpack
