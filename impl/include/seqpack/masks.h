#pragma once
// The padding and attention masks of transformertf (models/_base_transformer.py). true marks a
// step that is padding (or, for attention, a position that may not be attended).
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include "seqpack/alignment.h"

namespace seqpack {

struct CreateMaskOptions {
  TORCH_ARG(Alignment, alignment) = Alignment::Left;
  // true: mark the valid steps instead of the padding.
  TORCH_ARG(bool, inverse) = false;
};

// bool (B, size). left: padded iff j >= L; right: padded iff j < size - L. Lengths (B,) or (B, 1),
// integer or float, each in [0, size]. Unlike the original, (B, 1) lengths also give (B, size)
// (the original returns (B, 1, size) for them).
at::Tensor create_mask(int64_t size, const at::Tensor& lengths, const CreateMaskOptions& options = {});

struct AttentionMaskOptions {
  TORCH_ARG(bool, causal_attention) = true;
  TORCH_ARG(Alignment, encoder_alignment) = Alignment::Left;
  TORCH_ARG(Alignment, decoder_alignment) = Alignment::Left;
};

// bool (B, Td, Te + Td), true = may not attend. Columns [0, Te): the encoder's create_mask, the
// same for every decoder step. Columns [Te, Te + Td): causal: step i may not attend step j >= i
// (itself included; decoder lengths do not enter); non-causal: the decoder's create_mask.
at::Tensor get_attention_mask(const at::Tensor& encoder_lengths, const at::Tensor& decoder_lengths,
                              int64_t max_encoder_length, int64_t max_decoder_length,
                              const AttentionMaskOptions& options = {});

}  // namespace seqpack
