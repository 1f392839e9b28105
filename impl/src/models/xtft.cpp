#include "seqpack/models/xtft.h"

#include "seqpack/errors.h"

namespace seqpack::models {

xTFTImpl::xTFTImpl(const TemporalFusionOptions& opts) : TemporalFusionCore(opts) {
  register_selection(/*context=*/false);
  register_lstms();
  register_attention();
}

void xTFTImpl::check_static(const ModelInputs& in) const {
  if (in.static_covariates) reject("static_covariates", "are not taken by xTFT");
}

TemporalFusionCore::Encoded xTFTImpl::encode(const at::Tensor& past, const at::Tensor& future,
                                             const std::optional<at::Tensor>&) {
  const auto [encoded, decoded] = run_lstms(enc_vs(past), dec_vs(future), std::nullopt);
  return {at::cat({encoded, decoded}, 1), decoded};
}

}  // namespace seqpack::models
