#pragma once
// TransformerLSTM (transformertf models/transformer_lstm/_model.py): GRN embeddings, encoder and
// decoder LSTMs with residuals around them, then transformer blocks (encoder self-attention over
// the valid encoder steps, decoder cross-attention over [encoder, decoder]) and a linear head.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include "seqpack/models/forecast_model.h"
#include "seqpack/nn/attention.h"
#include "seqpack/nn/gating.h"
#include "seqpack/nn/grn.h"

namespace seqpack::models {

class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int64_t d_model, int64_t num_heads, double dropout);
  std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& encoder_output, const at::Tensor& decoder_output,
                                             const std::optional<at::Tensor>& attention_mask,
                                             const std::optional<at::Tensor>& encoder_lengths);
  // The same block on the real steps (padding_free): encoder (Ne, d), decoder (Nd, d).
  std::tuple<at::Tensor, at::Tensor> forward_real_steps(const at::Tensor& encoder_steps, const at::Tensor& decoder_steps,
                                             const nn::AttentionPlan& self_plan, const nn::AttentionPlan& cross_plan);

  nn::InterpretableMultiHeadAttention encoder_self_attention{nullptr}, cross_attention{nullptr};
  nn::GateAddNorm encoder_gate_add_norm{nullptr}, decoder_gate_add_norm{nullptr};
};
TORCH_MODULE(TransformerBlock);

struct TransformerLSTMOptions {
  TransformerLSTMOptions(int64_t num_past_features, int64_t num_future_features)
      : num_past_features_(num_past_features), num_future_features_(num_future_features) {}
  TORCH_ARG(int64_t, num_past_features);
  TORCH_ARG(int64_t, num_future_features);
  TORCH_ARG(int64_t, d_model) = 128;
  TORCH_ARG(int64_t, num_layers) = 2;
  TORCH_ARG(int64_t, num_transformer_blocks) = 2;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(int64_t, num_heads) = 4;
  TORCH_ARG(int64_t, output_dim) = 1;
  TORCH_ARG(bool, causal_attention) = true;
  TORCH_ARG(bool, share_lstm_weights) = false;
  TORCH_ARG(Packing, packing) = Packing::Auto;
  TORCH_ARG(PackedLstm, packed_lstm) = PackedLstm::PyTorch;
};

class TransformerLSTMImpl : public ForecastModel {
 public:
  explicit TransformerLSTMImpl(const TransformerLSTMOptions& options);
  at::Tensor forward(const ModelInputs& inputs) override;
  std::optional<RealStepOutput> forward_real_steps(const ModelInputs& inputs) override;
  // transformertf's MSELoss: elementwise, so calc_loss masks it.
  Criterion default_criterion() const override { return Criterion().kind(CriterionKind::MSE); }

  TransformerLSTMOptions options;
  nn::GatedResidualNetwork encoder_grn{nullptr}, decoder_grn{nullptr};
  torch::nn::LSTM encoder{nullptr}, decoder{nullptr};  // one module under both names when shared
  torch::nn::ModuleList transformer_blocks;
  torch::nn::Linear output_head{nullptr};

 private:
  RealStepOutput padding_free(const ModelInputs& inputs);
};
TORCH_MODULE(TransformerLSTM);

}  // namespace seqpack::models
