#pragma once
// What the LSTM- and TFT-family models share: their forward inputs (named as in the original's
// forward), the packing choice, and a common base so that the command line, the training step and
// the benchmarks can hold any model.
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <optional>
#include <string_view>

#include "seqpack/calc_loss.h"

namespace seqpack::models {

// The LSTM family's forward names its sequences past_sequence / future_sequence, the TFT family's
// past_covariates / future_covariates; they are the same two inputs.
struct ModelInputs {
  at::Tensor past_sequence;    // (B, Te, num_past_features), encoder input (left-aligned for the
                               // LSTM family, right-aligned for the TFT family unless it says)
  at::Tensor future_sequence;  // (B, Td, num_future_features), decoder input, left-aligned
  std::optional<at::Tensor> encoder_lengths;  // (B,) or (B, 1)
  std::optional<at::Tensor> decoder_lengths;
  std::optional<at::Tensor> static_covariates;  // (B, num_static_features): TFT and PFTFT only
};

// auto: pack each LSTM when should_use_packing(its lengths) says so, as the original does.
// always / never force the packed or the padded path (they differ in meaning: a padded LSTM
// carries its state through the padding, a packed one stops at each row's length).
// calibrated: one path for the whole step, the fastest by the fitted cost model (packing_policy.h).
// padding_free: every layer runs on the real timesteps only (real_steps.h): the packed path's
// results at the real steps, zeros at the padding (docs/padding-free.md).
enum class Packing { Auto, Always, Never, Calibrated, PaddingFree };
Packing parse_packing(std::string_view text, std::string_view argument);
std::string_view to_string(Packing packing);  // as parse_packing reads it

// How a packed LSTM runs: PyTorch's packed LSTM, one step at a time (the original's way);
// seqpack's segmented run (one fused-kernel call per run of steps with the same live rows, see
// segmented_lstm.h); or seqpack's stepwise run (CPU: its own time loop and backward on the pack's
// shrinking slices, see stepwise_lstm.h). All three compute the same thing.
enum class PackedLstm { PyTorch, Segments, Stepwise };
PackedLstm parse_packed_lstm(std::string_view text, std::string_view argument);
std::string_view to_string(PackedLstm packed_lstm);  // as parse_packed_lstm reads it

struct RealStepOutput;  // real_steps.h

class ForecastModel : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const ModelInputs& inputs) = 0;
  // The output at the decoder's real steps when this batch takes the padding-free path (the
  // training step's loss then needs no mask); nullopt otherwise.
  virtual std::optional<RealStepOutput> forward_real_steps(const ModelInputs& inputs);
  // The criterion the original's Lightning module uses by default, and whether it masks the loss.
  virtual Criterion default_criterion() const = 0;
  virtual bool default_use_loss_masking() const { return true; }
};

}  // namespace seqpack::models
