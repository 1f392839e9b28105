#include "seqpack/masks.h"

#include <ATen/ATen.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/limits.h"

namespace seqpack {
namespace {

void require_size(int64_t size, std::string_view argument) {
  if (size < 0) reject(argument, "must not be negative (got {})", size);
}

at::Tensor mask_from_checked(int64_t size, const at::Tensor& lengths, const CreateMaskOptions& options) {
  const auto steps = at::arange(size, lengths.options()).unsqueeze(0);
  const auto column = lengths.unsqueeze(-1);
  if (options.alignment() == Alignment::Left) return options.inverse() ? steps < column : steps >= column;
  const auto padding_end = size - column;
  return options.inverse() ? steps >= padding_end : steps < padding_end;
}

}  // namespace

at::Tensor create_mask(int64_t size, const at::Tensor& lengths, const CreateMaskOptions& options) {
  require_size(size, "size");
  const auto checked = checked_lengths(lengths, "lengths", {.max_length = size}).to(lengths.device());
  checked_numel({checked.numel(), size}, at::kBool, "size");  // the mask, before it is made
  return mask_from_checked(size, checked, options);
}

at::Tensor get_attention_mask(const at::Tensor& encoder_lengths, const at::Tensor& decoder_lengths,
                              int64_t max_encoder_length, int64_t max_decoder_length,
                              const AttentionMaskOptions& options) {
  require_size(max_encoder_length, "max_encoder_length");
  require_size(max_decoder_length, "max_decoder_length");
  const auto encoder = checked_lengths(encoder_lengths, "encoder_lengths", {.max_length = max_encoder_length});
  const auto decoder = checked_lengths(decoder_lengths, "decoder_lengths",
                                       {.batch = encoder.size(0), .max_length = max_decoder_length});
  const auto device = encoder_lengths.device();
  const int64_t batch = encoder.size(0);
  int64_t keys = 0;  // the mask is (B, max_decoder_length, max_encoder_length + max_decoder_length)
  if (__builtin_add_overflow(max_encoder_length, max_decoder_length, &keys)) {
    reject("max_encoder_length", "plus max_decoder_length overflows 64 bits");
  }
  checked_numel({batch, max_decoder_length, keys}, at::kBool, "max_encoder_length + max_decoder_length");
  at::Tensor decoder_part;
  if (options.causal_attention()) {
    const auto attend = at::arange(max_decoder_length, at::TensorOptions(device).dtype(at::kLong));
    decoder_part = (attend.unsqueeze(0) >= attend.unsqueeze(1)).unsqueeze(0).expand({batch, -1, -1});
  } else {
    decoder_part = mask_from_checked(max_decoder_length, decoder.to(device),
                                     CreateMaskOptions().alignment(options.decoder_alignment()))
                       .unsqueeze(1)
                       .expand({-1, max_decoder_length, -1});
  }
  const auto encoder_part = mask_from_checked(max_encoder_length, encoder.to(device),
                                              CreateMaskOptions().alignment(options.encoder_alignment()))
                                .unsqueeze(1)
                                .expand({-1, max_decoder_length, -1});
  return at::cat({encoder_part, decoder_part}, 2);
}

}  // namespace seqpack
