#pragma once
// What TFT, PFTFT and xTFT (transformertf models/temporal_fusion_transformer, pf_tft, xtft) share:
// variable selection of the encoder and decoder inputs, encoder and decoder LSTMs (the decoder
// started from the encoder's final state) behind one shared gate and norm, interpretable attention
// of the decoder steps over [encoder, decoder] masked by get_attention_mask with a right-aligned
// encoder, and the output gates. The models differ in how they start (static covariates or not).
//
// seqpack's definitions where the original is open or broken (docs/differences.md, "Models"):
//  - the encoder's padded steps are read as zeros: the encoder LSTM runs over the leading padding
//    of a right-aligned row, so other values there would reach the valid steps (the original's data
//    module always writes zeros, so its outputs are unchanged);
//  - lengths are step counts (B,) or (B, 1); absent lengths mean full rows;
//  - encoder_alignment = left takes a left-aligned encoder and moves it to the right first.
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include <optional>
#include <tuple>

#include "seqpack/alignment.h"
#include "seqpack/models/forecast_model.h"
#include "seqpack/nn/attention.h"
#include "seqpack/nn/gating.h"
#include "seqpack/nn/grn.h"
#include "seqpack/nn/variable_selection.h"

namespace seqpack::models {

struct TemporalFusionOptions {
  TemporalFusionOptions(int64_t num_past_features, int64_t num_future_features)
      : num_past_features_(num_past_features), num_future_features_(num_future_features) {}
  TORCH_ARG(int64_t, num_past_features);
  TORCH_ARG(int64_t, num_future_features);
  TORCH_ARG(int64_t, d_model) = 300;
  TORCH_ARG(int64_t, d_hidden_continuous) = 8;
  TORCH_ARG(int64_t, num_heads) = 4;
  TORCH_ARG(int64_t, num_lstm_layers) = 2;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(int64_t, output_dim) = 7;  // one per quantile of the default QuantileLoss
  TORCH_ARG(bool, causal_attention) = true;
  TORCH_ARG(Alignment, encoder_alignment) = Alignment::Right;  // the layout past_covariates arrives in
  // TFT and PFTFT: the original's model classes default to 0 (then static_covariates are refused);
  // their Lightning modules pass 1, the one static covariate they derive from the encoder lengths.
  TORCH_ARG(int64_t, num_static_features) = 0;
  TORCH_ARG(std::optional<int64_t>, ctxt_seq_len) = std::nullopt;  // TFT only: scales its static covariate
  TORCH_ARG(std::optional<int64_t>, tgt_seq_len) = std::nullopt;   // TFT only: kept as a hyperparameter
};

// A GRN with input, hidden and output sizes d_model ("interpolate" projection, so no projection).
nn::GatedResidualNetwork square_grn(int64_t d_model, double dropout, std::optional<int64_t> context_dim = std::nullopt);

class TemporalFusionCore : public ForecastModel {
 public:
  // The forward of the original's model (not its Lightning module): past_covariates,
  // future_covariates, static_covariates (TFT, PFTFT), encoder_lengths, decoder_lengths.
  at::Tensor forward(const ModelInputs& inputs) override;
  // QuantileLoss with the default quantiles, loss masking off: the original's defaults here.
  Criterion default_criterion() const override { return Criterion().kind(CriterionKind::Quantile); }
  bool default_use_loss_masking() const override { return false; }
  // The static covariates the original's Lightning module computes from the encoder lengths
  // (none for xTFT), in `dtype`.
  virtual std::optional<at::Tensor> static_covariates_from_lengths(const at::Tensor& encoder_lengths,
                                                                   c10::ScalarType dtype) const = 0;

  TemporalFusionOptions options;
  nn::VariableSelection enc_vs{nullptr}, dec_vs{nullptr};
  torch::nn::LSTM enc_lstm{nullptr}, dec_lstm{nullptr};
  nn::GatedLinearUnit enc_gate1{nullptr};  // also registered as dec_gate1, as in the original
  nn::AddNorm enc_norm1{nullptr};          // also registered as dec_norm1
  nn::InterpretableMultiHeadAttention attn{nullptr};
  nn::GatedLinearUnit attn_gate1{nullptr}, attn_gate2{nullptr};
  nn::AddNorm attn_norm1{nullptr}, attn_norm2{nullptr};
  nn::GatedResidualNetwork attn_grn{nullptr};
  torch::nn::Linear output_layer{nullptr};

 protected:
  explicit TemporalFusionCore(const TemporalFusionOptions& options);
  // Register the shared modules; a subclass registers its own in between, so that the names come
  // in the original's order. `context`: the variable selection takes a static context.
  void register_selection(bool context);
  void register_lstms();
  void register_attention();

  struct Encoded {
    at::Tensor attention_input;  // (B, Te + Td, d_model)
    at::Tensor decoder_output;   // (B, Td, d_model), the residual of the last gate
  };
  // past: right-aligned, zeros at the padding. static_covariates already checked.
  virtual Encoded encode(const at::Tensor& past, const at::Tensor& future,
                         const std::optional<at::Tensor>& static_covariates) = 0;
  virtual void check_static(const ModelInputs& inputs) const = 0;
  // The shared LSTM pass: (encoder output, decoder output) after the shared gate and norm.
  std::tuple<at::Tensor, at::Tensor> run_lstms(const at::Tensor& past_vs, const at::Tensor& future_vs,
                                               const std::optional<std::tuple<at::Tensor, at::Tensor>>& state);
  c10::ScalarType dtype() const { return output_layer->weight.scalar_type(); }
};

}  // namespace seqpack::models
