#pragma once
// xTFT (transformertf models/xtft): the shared core without static covariates: variable selection
// without context, LSTMs started from zeros, no static enrichment before attention. The original's
// forward fails (it unpacks two values from an attention call that returns one tensor); seqpack
// takes the attention output as its evident intent (return_attn=True), and full rows when lengths
// are absent, as TFT does.
#include "seqpack/models/temporal_fusion_core.h"

namespace seqpack::models {

class xTFTImpl : public TemporalFusionCore {  // NOLINT(readability-identifier-naming): the original's name
 public:
  explicit xTFTImpl(const TemporalFusionOptions& options);
  std::optional<at::Tensor> static_covariates_from_lengths(const at::Tensor&, c10::ScalarType) const override {
    return std::nullopt;
  }

 protected:
  Encoded encode(const at::Tensor& past, const at::Tensor& future,
                 const std::optional<at::Tensor>& static_covariates) override;
  void check_static(const ModelInputs& inputs) const override;
};
TORCH_MODULE(xTFT);

}  // namespace seqpack::models
