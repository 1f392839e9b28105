#include <ATen/ATen.h>

#include "packed_gather.h"
#include "packed_layout.h"
#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/sequence.h"
#include "left_target_sources.h"
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

// One index_select from the batch into packed order, with each row's steps shifted by its source.
at::Tensor gather_packed_on_cpu(const at::Tensor& sequences, const at::Tensor& batch_sizes, const at::Tensor& sorted,
                                const at::Tensor& sources, bool batch_first) {
  const int64_t batch = sequences.size(batch_first ? 0 : 1);
  const int64_t steps = sequences.size(batch_first ? 1 : 0);
  auto index = detail::padded_index(batch_sizes, sorted, batch, steps, batch_first);
  if (sources.defined()) {
    // Element index = row * T + t (batch-first) or t * B + row (time-major): shift t by its row's start.
    const auto row = batch_first ? at::floor_divide(index, steps) : at::remainder(index, batch);
    const auto shift = sources.index_select(0, row);
    index = index + (batch_first ? shift : shift * batch);
  }
  const auto trailing = sequences.sizes().slice(2);
  std::vector<int64_t> flat_shape{batch * steps};
  flat_shape.insert(flat_shape.end(), trailing.begin(), trailing.end());
  return sequences.reshape(flat_shape).index_select(0, index.to(sequences.device()));
}

// One gather from the batch into packed order (a CUDA kernel on CUDA). sources: per row, the step its data starts at
// (zeros for left-aligned rows), so that packing a right-aligned encoder reads it in place.
PackedSequence pack_rows(const at::Tensor& sequences, const at::Tensor& checked, const at::Tensor& sources,
                         const PackOptions& options) {
  const int64_t batch = checked.size(0);
  const auto sorted = sort_by_length(checked, options.enforce_sorted());
  const auto batch_sizes = detail::batch_sizes_of(sorted.defined() ? checked.index_select(0, sorted) : checked);
  const auto data = sequences.is_cuda()
                        ? detail::gather_packed_on_cuda(sequences, batch_sizes, sorted, sources, options.batch_first())
                        : gather_packed_on_cpu(sequences, batch_sizes, sorted, sources, options.batch_first());
  if (!sorted.defined()) return PackedSequence(data, batch_sizes);
  const auto unsorted = at::empty_like(sorted).scatter_(0, sorted, at::arange(batch, sorted.options()));
  const auto device = sequences.device();
  return PackedSequence(data, batch_sizes, sorted.to(device), unsorted.to(device));
}

at::Tensor checked_pack_lengths(const at::Tensor& sequences, const at::Tensor& lengths, bool batch_first) {
  const int64_t batch_dim = batch_first ? 0 : 1;
  require_sequence_batch(sequences, "sequences", batch_dim);
  // PyTorch does not check L > T and builds a corrupt pack (pytorch#144207); seqpack refuses.
  return checked_lengths(lengths, "lengths",
                         {.batch = sequences.size(batch_dim), .max_length = sequences.size(1 - batch_dim), .allow_zero = false});
}

}  // namespace

PackedSequence pack_decoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                      const PackOptions& options) {
  const auto checked = checked_pack_lengths(sequences, lengths, options.batch_first());
  return pack_rows(sequences, checked, {}, options);
}

PackedSequence pack_encoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                      const PackEncoderOptions& options) {
  const auto pack = PackOptions().batch_first(options.batch_first()).enforce_sorted(options.enforce_sorted());
  if (!options.align_first()) return pack_decoder_sequences(sequences, lengths, pack);
  // Align and pack fused: one gather from where each row's data is straight into packed order,
  // with no aligned copy in between (the guess of `auto` reads the batch batch-first).
  const auto checked = checked_pack_lengths(sequences, lengths, options.batch_first());
  const auto batch_major = options.batch_first() ? sequences : sequences.transpose(0, 1);
  return pack_rows(sequences, checked, left_target_sources(batch_major, checked, options.source()), pack);
}

}  // namespace seqpack
