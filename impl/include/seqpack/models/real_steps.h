#pragma once
// The padding-free path's layout (`packing = padding_free`): a batch of left-aligned sequences
// held as its real timesteps only, one row of an (N, features) matrix per real step. The rows are
// in the order of PyTorch's packed layout (step-major, samples longest first), so an LSTM runs on
// the matrix as a pack without a copy; pointwise layers (GRNs, gates, norms, heads) run on it as
// it is; attention gathers each sample's steps into buckets (real_step_attention.h). The model's
// output goes back to (B, T, ...) once, with zeros at the padding.
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/rnn.h>

#include <optional>
#include <string_view>

#include "seqpack/models/forecast_model.h"
#include "seqpack/models/lstm_path.h"

namespace seqpack::models {

struct RealSteps {
  // lengths: (B,) or (B, 1) as the models take them, checked against `steps` (rejected naming
  // `argument`); without lengths every step is real.
  static RealSteps of(const std::optional<at::Tensor>& lengths, int64_t batch, int64_t steps, at::Device device,
                      std::string_view argument);

  int64_t batch = 0;
  int64_t steps = 0;  // the padded length T
  int64_t count = 0;  // N, the real steps
  at::Tensor lengths;      // int64 (B,), CPU
  at::Tensor rows;         // int64 (P,), device: the samples with a real step, longest first (ties by index)
  at::Tensor batch_sizes;  // int64, CPU: live samples at each step (the pack's batch_sizes)
  at::Tensor flat_index;   // int64 (N,), device: b * T + t of each matrix row
  at::Tensor position;     // int64 (B, T), CPU: the matrix row of step t of sample b; N at the padding

  // (B, T, ...) -> (N, ...), the real steps in the matrix's order.
  at::Tensor gather(const at::Tensor& padded) const;
  // (N, ...) -> (B, T, ...), zeros at the padding.
  at::Tensor scatter(const at::Tensor& values) const;
  std::vector<int64_t> host_lengths() const;
};

// A batch's encoder and decoder real steps, the lengths checked under the names the models give them.
struct RealStepBatch {
  RealSteps encoder, decoder;
  static RealStepBatch of(const ModelInputs& inputs);
};

// What a padding-free forward gives: the output at the decoder's real steps, and their layout.
struct RealStepOutput {
  at::Tensor values;  // (N, output...)
  RealSteps steps;
};

struct RealStepsLstmRun {
  at::Tensor output;  // (N, hidden), the matrix's order
  LstmState state;    // (h, c), each (layers, B, hidden), batch order: at each sample's last real
                      // step; a sample without real steps keeps the initial state (zeros without one)
};

// The loss of a padding-free output over the real steps alone, so no mask is needed: calc_loss of
// the real steps' outputs and targets (target (B, T, ...) is gathered like the output). With the
// original's masked losses this is the masked loss; a criterion the original does not mask (torch's
// MSELoss, or use_loss_masking = false) sees the real steps only, where the padded path also sees
// the padding (docs/padding-free.md). A target of another shape goes through calc_loss as usual.
at::Tensor padding_free_loss(const RealStepOutput& output, const at::Tensor& target,
                             const std::optional<at::Tensor>& decoder_lengths, const Criterion& criterion,
                             bool use_loss_masking);

// One LSTM over the real steps, by the chosen packed run (PyTorch's, segmented or stepwise); the
// same computation as the packed path's run_lstm at the real steps.
RealStepsLstmRun run_real_steps_lstm(torch::nn::LSTM& lstm, const RealSteps& steps, const at::Tensor& values,
                                     PackedLstm packed_lstm, const std::optional<LstmState>& initial = std::nullopt);

}  // namespace seqpack::models
