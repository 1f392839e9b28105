#pragma once
// EncoderDecoderLSTM (transformertf models/encoder_decoder_lstm/_model.py): the decoder LSTM starts
// from the encoder's final state (projected when the sizes differ); an MLP or linear head.
#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/rnn.h>

#include <string>
#include <vector>

#include "seqpack/models/forecast_model.h"

namespace seqpack::models {

struct EncoderDecoderLSTMOptions {
  EncoderDecoderLSTMOptions(int64_t num_past_features, int64_t num_future_features)
      : num_past_features_(num_past_features), num_future_features_(num_future_features) {}
  TORCH_ARG(int64_t, num_past_features);
  TORCH_ARG(int64_t, num_future_features);
  TORCH_ARG(int64_t, d_encoder) = 128;
  TORCH_ARG(int64_t, d_decoder) = 128;
  TORCH_ARG(int64_t, num_encoder_layers) = 2;
  TORCH_ARG(int64_t, num_decoder_layers) = 2;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(std::vector<int64_t>, d_mlp_hidden) = {};  // empty: a linear head (the original's None)
  TORCH_ARG(int64_t, output_dim) = 1;
  TORCH_ARG(std::string, mlp_activation) = "relu";
  TORCH_ARG(double, mlp_dropout) = 0.1;
  TORCH_ARG(Packing, packing) = Packing::Auto;
  TORCH_ARG(PackedLstm, packed_lstm) = PackedLstm::PyTorch;
};

class EncoderDecoderLSTMImpl : public ForecastModel {
 public:
  explicit EncoderDecoderLSTMImpl(const EncoderDecoderLSTMOptions& options);
  at::Tensor forward(const ModelInputs& inputs) override;
  std::optional<RealStepOutput> forward_real_steps(const ModelInputs& inputs) override;
  Criterion default_criterion() const override { return Criterion().kind(CriterionKind::TorchMSE); }

  EncoderDecoderLSTMOptions options;
  torch::nn::LSTM encoder{nullptr}, decoder{nullptr};
  torch::nn::ModuleDict state_projection{nullptr};
  torch::nn::AnyModule mlp_head;  // nn::MLP or torch::nn::Linear
  c10::ScalarType dtype() const;

 private:
  RealStepOutput padding_free(const ModelInputs& inputs);
};
TORCH_MODULE(EncoderDecoderLSTM);

}  // namespace seqpack::models
