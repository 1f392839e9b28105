#include <ATen/ATen.h>

#include "packed_layout.h"
#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/sequence.h"
#include "seqpack/tensor_checks.h"

namespace seqpack {
namespace {

// Rank -> row, longest first; stable, so tied rows keep their batch order on every device.
at::Tensor sort_by_length(const at::Tensor& lengths, bool enforce_sorted) {
  if (!enforce_sorted) return std::get<1>(at::sort(lengths, /*stable=*/true, /*dim=*/0, /*descending=*/true));
  const auto rising = lengths.slice(0, 1) > lengths.slice(0, 0, -1);
  if (rising.any().item<bool>()) {
    const int64_t row = rising.nonzero().min().item<int64_t>();
    reject("lengths", "must be sorted in decreasing order when enforce_sorted is true (row {} has {}, row {} has {})",
           row, lengths[row].item<int64_t>(), row + 1, lengths[row + 1].item<int64_t>());
  }
  return {};
}

}  // namespace

PackedSequence pack_decoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                      const PackOptions& options) {
  const int64_t batch_dim = options.batch_first() ? 0 : 1;
  require_sequence_batch(sequences, "sequences", batch_dim);
  const int64_t batch = sequences.size(batch_dim);
  const int64_t steps = sequences.size(1 - batch_dim);
  // PyTorch does not check L > T and builds a corrupt pack (pytorch#144207); seqpack refuses.
  const auto checked = checked_lengths(lengths, "lengths", {.batch = batch, .max_length = steps, .allow_zero = false});
  const auto sorted = sort_by_length(checked, options.enforce_sorted());
  const auto batch_sizes = detail::batch_sizes_of(sorted.defined() ? checked.index_select(0, sorted) : checked);
  const auto index = detail::padded_index(batch_sizes, sorted, batch, steps, options.batch_first());
  const auto trailing = sequences.sizes().slice(2);
  std::vector<int64_t> flat_shape{batch * steps};
  flat_shape.insert(flat_shape.end(), trailing.begin(), trailing.end());
  auto data = sequences.reshape(flat_shape).index_select(0, index.to(sequences.device()));
  if (!sorted.defined()) return PackedSequence(data, batch_sizes);
  const auto unsorted = at::empty_like(sorted).scatter_(0, sorted, at::arange(batch, sorted.options()));
  const auto device = sequences.device();
  return PackedSequence(data, batch_sizes, sorted.to(device), unsorted.to(device));
}

PackedSequence pack_encoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                      const PackEncoderOptions& options) {
  const auto pack = PackOptions().batch_first(options.batch_first()).enforce_sorted(options.enforce_sorted());
  if (!options.align_first()) return pack_decoder_sequences(sequences, lengths, pack);
  // Alignment works batch-first; a time-major batch is aligned through a transposed view.
  const int64_t batch_dim = options.batch_first() ? 0 : 1;
  require_sequence_batch(sequences, "sequences", batch_dim);
  const auto batch_major = options.batch_first() ? sequences : sequences.transpose(0, 1);
  auto aligned = align_encoder_sequences(batch_major, lengths,
                                         AlignOptions(options.source()).alignment(Alignment::Left));
  return pack_decoder_sequences(options.batch_first() ? aligned : aligned.transpose(0, 1), lengths, pack);
}

}  // namespace seqpack
