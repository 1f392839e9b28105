#pragma once
// Batching variable-length windows, as transformertf's data module does (EncoderDecoderDataModule.
// _collate_impl): each sample is one window, time first; the batch trims every encoder to the
// batch's longest encoder length and every decoder and target to its longest decoder length,
// stacks them, and re-aligns the encoder (and its mask) when the batch asks for another alignment.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <optional>
#include <vector>

#include "seqpack/alignment.h"

namespace seqpack {

// The tensors of one window or of a batch of them, by the original's names (its TypedDict
// EncoderDecoderTargetSample serves both too).
//   A Sample is one window, time first: encoder_input (Te, Fe), decoder_input (Td, Fd), target
//   (Td, *); the masks have their input's first dimension; a length is a one-element tensor (shape
//   () or (1,), integer or float), the number of real steps. Every sample of a batch carries the
//   same optional parts.
//   A Batch stacks them: (B, Te', Fe), (B, Td', Fd), (B, Td', *); lengths (B, 1) in the samples' dtype.
struct EncoderDecoderTensors {
  at::Tensor encoder_input;
  at::Tensor decoder_input;
  at::Tensor target;
  std::optional<at::Tensor> encoder_lengths;
  std::optional<at::Tensor> decoder_lengths;
  std::optional<at::Tensor> encoder_mask;
  std::optional<at::Tensor> decoder_mask;
};
using Sample = EncoderDecoderTensors;
using Batch = EncoderDecoderTensors;

struct CollateOptions {
  // The encoder alignment the batch is for: left for the LSTM family (the original's default),
  // right for the TFT family.
  TORCH_ARG(Alignment, encoder_alignment) = Alignment::Left;
  // How the samples' encoders arrive. Right (the original's windows) or left: the padding is
  // trimmed from the side it is on, and a sample shorter than the batch is padded with zeros there.
  // Auto: the original exactly, for conformance: encoders always trimmed from their end, the
  // left-alignment guessed row by row (a window whose first real values are zero is shifted), and,
  // without lengths, the batch length taken from the samples' size(1), the feature count (the
  // original's slip for size(0)). Samples of unequal padded length are rejected, as stacking fails.
  TORCH_ARG(Source, sample_alignment) = Source::Right;
};

// Collates the samples. Decoders, targets and decoder masks keep their first Td' steps (decoders
// are always left-aligned); without decoder lengths, Td' is the longest sample's decoder. The
// encoder is realigned only when its lengths are given and differ. Throws InvalidArgument naming
// the sample and the rule for: an empty list; parts present in some samples only; wrong ranks;
// feature counts, trailing shapes or dtypes that disagree; a mask whose steps differ from its
// input's; a length that is not one integral value in [0, its sample's steps]; every decoder
// length 0; every encoder length 0 (unless sample_alignment is Auto, where the original keeps the
// whole window).
Batch collate(const std::vector<Sample>& samples, const CollateOptions& options = {});

}  // namespace seqpack
