#pragma once
// AttentionLSTM (transformertf models/attention_lstm/_model.py): an encoder LSTM and a decoder LSTM
// started from the encoder's state, then interpretable multi-head attention of each decoder step
// over [encoder output, decoder output] (masked by get_attention_mask when both lengths are
// given), a GateAddNorm (or LayerNorm) skip connection and a linear head.
#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/rnn.h>

#include "seqpack/models/forecast_model.h"
#include "seqpack/models/real_steps.h"
#include "seqpack/nn/attention.h"
#include "seqpack/nn/gating.h"

namespace seqpack::models {

struct AttentionLSTMOptions {
  AttentionLSTMOptions(int64_t num_past_features, int64_t num_future_features)
      : num_past_features_(num_past_features), num_future_features_(num_future_features) {}
  TORCH_ARG(int64_t, num_past_features);
  TORCH_ARG(int64_t, num_future_features);
  TORCH_ARG(int64_t, d_model) = 128;
  TORCH_ARG(int64_t, num_layers) = 2;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(int64_t, num_heads) = 4;
  TORCH_ARG(bool, use_gating) = true;
  TORCH_ARG(bool, trainable_add) = false;
  TORCH_ARG(int64_t, output_dim) = 1;
  TORCH_ARG(bool, causal_attention) = true;
  TORCH_ARG(std::optional<int64_t>, d_encoder) = std::nullopt;  // default d_model
  TORCH_ARG(std::optional<int64_t>, d_decoder) = std::nullopt;  // default d_model
  TORCH_ARG(Packing, packing) = Packing::Auto;
  TORCH_ARG(PackedLstm, packed_lstm) = PackedLstm::PyTorch;
};

class AttentionLSTMImpl : public ForecastModel {
 public:
  explicit AttentionLSTMImpl(const AttentionLSTMOptions& options);
  at::Tensor forward(const ModelInputs& inputs) override;
  std::optional<RealStepOutput> forward_real_steps(const ModelInputs& inputs) override;
  // torch.nn.MSELoss: a scalar, so the original never masks this model's loss.
  Criterion default_criterion() const override { return Criterion().kind(CriterionKind::TorchMSE); }

  AttentionLSTMOptions options;
  torch::nn::LSTM encoder{nullptr}, decoder{nullptr};
  torch::nn::ModuleDict state_projection{nullptr};          // h_proj, c_proj when d_encoder != d_decoder
  torch::nn::Linear encoder_output_projection{nullptr};     // likewise
  nn::InterpretableMultiHeadAttention attention{nullptr};
  nn::GateAddNorm gate_add_norm{nullptr};                   // use_gating
  torch::nn::LayerNorm layer_norm{nullptr};                 // otherwise
  torch::nn::Linear output_head{nullptr};

 private:
  RealStepOutput padding_free(const ModelInputs& inputs);
};
TORCH_MODULE(AttentionLSTM);

// The LSTM options the family uses: batch-first, dropout between layers only when there are two.
torch::nn::LSTMOptions family_lstm_options(int64_t input_size, int64_t hidden_size, int64_t layers, double dropout);

// {h_proj, c_proj}: Linear(d_encoder, d_decoder) each, for the decoder's initial state.
torch::nn::ModuleDict make_state_projection(int64_t d_encoder, int64_t d_decoder);

// (h, c) through h_proj and c_proj, or unchanged without a projection.
std::tuple<at::Tensor, at::Tensor> project_state(torch::nn::ModuleDict projection,
                                                 const std::tuple<at::Tensor, at::Tensor>& state);

// AttentionLSTM's and EncoderDecoderLSTM's two LSTMs on the real steps (padding_free): the encoder
// on the past sequence, then the decoder on the future one from the encoder's (projected) state.
std::pair<RealStepsLstmRun, RealStepsLstmRun> run_lstm_pair_on_real_steps(torch::nn::LSTM& encoder,
                                                                         torch::nn::LSTM& decoder,
                                                                         torch::nn::ModuleDict projection,
                                                                         const RealStepBatch& steps,
                                                                         const ModelInputs& inputs,
                                                                         PackedLstm packed_lstm);

// Rejects a size option below 1, naming it.
void require_positive(int64_t value, std::string_view name);

}  // namespace seqpack::models
