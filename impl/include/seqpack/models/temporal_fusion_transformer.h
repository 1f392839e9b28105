#pragma once
// TemporalFusionTransformer (TFT) and PFTemporalFusionTransformer (PFTFT): the shared core, with
// static covariates selected into a static embedding that gives the variable selection its
// context, the LSTMs their initial state and the attention input its static enrichment. Without
// static covariates the embedding is zeros of the input's dtype (the original's are float32, so
// its float64 models fail there). The two models have the same architecture; their Lightning
// modules derive different static covariates from the encoder lengths.
#include "seqpack/models/temporal_fusion_core.h"

namespace seqpack::models {

class TemporalFusionTransformerImpl : public TemporalFusionCore {
 public:
  // Needs ctxt_seq_len (the original's required hyperparameter).
  explicit TemporalFusionTransformerImpl(const TemporalFusionOptions& options);
  // encoder_lengths * 2 / ctxt_seq_len - 1, as (B, 1).
  std::optional<at::Tensor> static_covariates_from_lengths(const at::Tensor& encoder_lengths,
                                                           c10::ScalarType dtype) const override;

  nn::VariableSelection static_vs{nullptr};
  nn::GatedResidualNetwork static_ctxt_vs{nullptr}, static_ctxt_enrichment{nullptr};
  nn::GatedResidualNetwork lstm_init_hidden{nullptr}, lstm_init_cell{nullptr};
  nn::GatedResidualNetwork static_enrichment{nullptr};

 protected:
  struct WithoutSeqLen {};
  TemporalFusionTransformerImpl(const TemporalFusionOptions& options, WithoutSeqLen);
  Encoded encode(const at::Tensor& past, const at::Tensor& future,
                 const std::optional<at::Tensor>& static_covariates) override;
  void check_static(const ModelInputs& inputs) const override;
};
TORCH_MODULE(TemporalFusionTransformer);

class PFTemporalFusionTransformerImpl : public TemporalFusionTransformerImpl {
 public:
  explicit PFTemporalFusionTransformerImpl(const TemporalFusionOptions& options);
  // encoder_lengths / max(max(encoder_lengths), 1), as (B, 1).
  std::optional<at::Tensor> static_covariates_from_lengths(const at::Tensor& encoder_lengths,
                                                           c10::ScalarType dtype) const override;
};
TORCH_MODULE(PFTemporalFusionTransformer);

}  // namespace seqpack::models
