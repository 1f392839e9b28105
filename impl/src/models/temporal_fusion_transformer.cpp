#include "seqpack/models/temporal_fusion_transformer.h"

#include <fmt/ranges.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"

namespace seqpack::models {

TemporalFusionTransformerImpl::TemporalFusionTransformerImpl(const TemporalFusionOptions& opts)
    : TemporalFusionTransformerImpl(opts, WithoutSeqLen{}) {
  if (!opts.ctxt_seq_len() || *opts.ctxt_seq_len() < 1) {
    reject("ctxt_seq_len", "is required and must be at least 1 (TFT scales its static covariate by it)");
  }
  if (!opts.tgt_seq_len() || *opts.tgt_seq_len() < 1) reject("tgt_seq_len", "is required and must be at least 1");
}

TemporalFusionTransformerImpl::TemporalFusionTransformerImpl(const TemporalFusionOptions& opts, WithoutSeqLen)
    : TemporalFusionCore(opts) {
  if (opts.num_static_features() < 0) reject("num_static_features", "must not be negative");
  const auto d = opts.d_model();
  static_vs = register_module("static_vs", nn::VariableSelection(nn::VariableSelectionOptions(opts.num_static_features())
                                                                     .d_hidden(opts.d_hidden_continuous())
                                                                     .d_model(d)
                                                                     .dropout(opts.dropout())));
  register_selection(/*context=*/true);
  static_ctxt_vs = register_module("static_ctxt_vs", square_grn(d, opts.dropout()));
  static_ctxt_enrichment = register_module("static_ctxt_enrichment", square_grn(d, opts.dropout()));
  lstm_init_hidden = register_module("lstm_init_hidden", square_grn(d, opts.dropout()));
  lstm_init_cell = register_module("lstm_init_cell", square_grn(d, opts.dropout()));
  register_lstms();
  static_enrichment = register_module("static_enrichment", square_grn(d, opts.dropout(), d));
  register_attention();
}

void TemporalFusionTransformerImpl::check_static(const ModelInputs& in) const {
  if (!in.static_covariates) return;
  const auto& s = *in.static_covariates;
  const auto features = options.num_static_features();
  if (features == 0) reject("static_covariates", "are not taken: the model was built with num_static_features = 0");
  if (s.dim() != 2 || s.size(0) != in.past_sequence.size(0) || s.size(1) != features) {
    reject("static_covariates", "must be (B, num_static_features) = ({}, {}) (got shape [{}])",
           in.past_sequence.size(0), features, fmt::join(s.sizes(), ", "));
  }
  if (s.scalar_type() != dtype()) {
    reject("static_covariates", "must have the model's dtype {} (got {})", c10::toString(dtype()),
           c10::toString(s.scalar_type()));
  }
}

TemporalFusionCore::Encoded TemporalFusionTransformerImpl::encode(const at::Tensor& past, const at::Tensor& future,
                                                                  const std::optional<at::Tensor>& static_covariates) {
  const auto embedding =
      static_covariates ? static_vs(*static_covariates) : at::zeros({past.size(0), options.d_model()}, past.options());
  const auto context = static_ctxt_vs(embedding).unsqueeze(1);
  const auto past_vs = enc_vs(past, context.expand({-1, past.size(1), -1}));
  const auto future_vs = dec_vs(future, context.expand({-1, future.size(1), -1}));
  auto initial = [&](nn::GatedResidualNetwork& grn) {
    return grn(embedding).unsqueeze(0).expand({options.num_lstm_layers(), -1, -1}).contiguous();
  };
  const auto [encoded, decoded] = run_lstms(past_vs, future_vs, std::tuple{initial(lstm_init_hidden), initial(lstm_init_cell)});
  const auto both = at::cat({encoded, decoded}, 1);
  const auto enrichment = static_ctxt_enrichment(embedding).unsqueeze(1).expand({-1, both.size(1), -1});
  return {static_enrichment(both, enrichment), decoded};
}

std::optional<at::Tensor> TemporalFusionTransformerImpl::static_covariates_from_lengths(const at::Tensor& encoder_lengths,
                                                                                        c10::ScalarType dtype) const {
  const auto lengths = checked_lengths(encoder_lengths, "encoder_lengths", {}).reshape({-1, 1}).to(dtype);
  return lengths * 2 / *options.ctxt_seq_len() - 1;
}

PFTemporalFusionTransformerImpl::PFTemporalFusionTransformerImpl(const TemporalFusionOptions& opts)
    : TemporalFusionTransformerImpl(opts, WithoutSeqLen{}) {}

std::optional<at::Tensor> PFTemporalFusionTransformerImpl::static_covariates_from_lengths(
    const at::Tensor& encoder_lengths, c10::ScalarType dtype) const {
  const auto lengths = checked_lengths(encoder_lengths, "encoder_lengths", {}).reshape({-1, 1}).to(dtype);
  return lengths / lengths.max().clamp_min(1);
}

}  // namespace seqpack::models
