// `seqpack eval` entries for the masks, with the original's argument names.
#include "seqpack/masks.h"
#include "seqpack/ops/registry.h"

namespace seqpack::ops {
namespace {

TensorMap create_mask_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto lengths = in.required("lengths");
  const auto size = params.get_required_int("size");
  const auto options = CreateMaskOptions()
                           .alignment(parse_alignment(params.get_string("alignment", "left"), "params.alignment"))
                           .inverse(params.get_bool("inverse", false));
  return {{"mask", create_mask(size, lengths, options)}};
}

TensorMap attention_mask_op(Inputs& in, Params& params, const EvalOptions&) {
  const auto encoder_lengths = in.required("encoder_lengths");
  const auto decoder_lengths = in.required("decoder_lengths");
  const auto max_encoder_length = params.get_required_int("max_encoder_length");
  const auto max_decoder_length = params.get_required_int("max_decoder_length");
  const auto options =
      AttentionMaskOptions()
          .causal_attention(params.get_bool("causal_attention", true))
          .encoder_alignment(parse_alignment(params.get_string("encoder_alignment", "left"), "params.encoder_alignment"))
          .decoder_alignment(parse_alignment(params.get_string("decoder_alignment", "left"), "params.decoder_alignment"));
  return {{"mask", get_attention_mask(encoder_lengths, decoder_lengths, max_encoder_length, max_decoder_length,
                                      options)}};
}

}  // namespace

void add_mask_ops(Registry& registry) {
  registry["create_mask"] = {create_mask_op, "lengths; size, alignment, inverse -> mask"};
  registry["get_attention_mask"] = {attention_mask_op,
                                    "encoder_lengths, decoder_lengths; max_encoder_length, max_decoder_length, "
                                    "causal_attention, encoder_alignment, decoder_alignment -> mask"};
}

}  // namespace seqpack::ops
