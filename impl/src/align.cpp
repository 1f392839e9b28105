#include <ATen/ATen.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/sequence.h"
#include "seqpack/tensor_checks.h"
#include "left_target_sources.h"
#include "zero_steps.h"

namespace seqpack {
namespace {

// Where each row's data is read from and written to: out[b, j] = in[b, j - dst + src] for
// dst <= j < dst + count, zero elsewhere. All (B,) int64 on CPU.
struct RowMoves {
  at::Tensor src, dst, count;
};

// The original's guess, made for the whole batch at once: L < T and the first T-L steps are zero.
at::Tensor guess_right_aligned(const at::Tensor& sequences, const at::Tensor& lengths) {
  const int64_t steps = sequences.size(1);
  const auto lengths_here = lengths.to(sequences.device());
  const auto step = at::arange(steps, lengths_here.options()).unsqueeze(0);
  const auto leading = step < (steps - lengths_here).unsqueeze(1);
  const auto padding_is_zero = (detail::zero_steps(sequences) | ~leading).all(1);
  return (padding_is_zero & (lengths_here < steps)).cpu();
}

int64_t first_row(const at::Tensor& rows) { return rows.nonzero().min().item<int64_t>(); }

RowMoves explicit_moves(const at::Tensor& lengths, int64_t steps, const AlignOptions& options, int64_t target_end) {
  auto src = options.source() == Source::Right ? steps - lengths : at::zeros_like(lengths);
  if (options.alignment() == Alignment::Left) return {src, at::zeros_like(lengths), lengths};
  if (target_end > steps) {
    reject("max_length", "must not exceed the padded length T = {} for a right target (got {})", steps, target_end);
  }
  const auto too_long = lengths > target_end;
  if (too_long.any().item<bool>()) {
    const auto row = first_row(too_long);
    reject("max_length", "must be at least every row's length for a right target (got {}, row {} has length {})",
           target_end, row, lengths[row].item<int64_t>());
  }
  return {src, target_end - lengths, lengths};
}

// The original, row for row: a right-guessed row is kept (right target) or moved to the front
// (left target); a left-guessed row is moved to end at max_length when it fits, else copied whole.
RowMoves guessed_moves(const at::Tensor& sequences, const at::Tensor& lengths, const AlignOptions& options,
                       int64_t target_end) {
  const int64_t steps = sequences.size(1);
  const auto right = guess_right_aligned(sequences, lengths);
  const auto zero = at::zeros_like(lengths);
  if (options.alignment() == Alignment::Left) return {at::where(right, steps - lengths, zero), zero, lengths};
  const auto moved = ~right & (target_end - lengths > 0);
  if (target_end > steps && (moved & (lengths > 0)).any().item<bool>()) {
    reject("max_length", "must not exceed the padded length T = {} when a left-aligned row is moved (got {}, row {})",
           steps, target_end, first_row(moved & (lengths > 0)));
  }
  const auto whole = at::full_like(lengths, steps);
  return {zero, at::where(moved, target_end - lengths, zero), at::where(moved, lengths, whole)};
}

}  // namespace

at::Tensor left_target_sources(const at::Tensor& sequences, const at::Tensor& checked, Source source) {
  const int64_t steps = sequences.size(1);
  if (source == Source::Left) return at::zeros_like(checked);
  if (source == Source::Right) return steps - checked;
  return guessed_moves(sequences, checked, AlignOptions(Source::Auto).alignment(Alignment::Left), steps).src;
}

at::Tensor align_encoder_sequences(const at::Tensor& sequences, const at::Tensor& lengths,
                                   const AlignOptions& options) {
  require_sequence_batch(sequences, "sequences", 0);
  const int64_t batch = sequences.size(0);
  const int64_t steps = sequences.size(1);
  const auto checked = checked_lengths(lengths, "lengths", {.batch = batch, .max_length = steps});
  if (options.max_length() && *options.max_length() < 1) {
    reject("max_length", "must be at least 1 when given (got {})", *options.max_length());
  }
  const int64_t target_end = options.max_length().value_or(steps);
  // Every row full and the target the whole of T: nothing moves, in any mode (the common case of a
  // batch of equal lengths), so skip the guess and the gather.
  if (target_end == steps && (checked == steps).all().item<bool>()) return sequences.clone(at::MemoryFormat::Contiguous);
  auto moves = options.source() == Source::Auto ? guessed_moves(sequences, checked, options, target_end)
                                                : explicit_moves(checked, steps, options, target_end);
  if (sequences.numel() == 0) return at::zeros_like(sequences);

  const auto device = sequences.device();
  const auto src = moves.src.to(device).unsqueeze(1);
  const auto dst = moves.dst.to(device).unsqueeze(1);
  const auto count = at::where(checked > 0, moves.count, 0).to(device).unsqueeze(1);
  const auto step = at::arange(steps, src.options()).unsqueeze(0);
  const auto valid = (step >= dst) & (step < dst + count);
  const auto source_step = (step - dst + src).clamp(0, steps - 1);
  const auto row_offset = at::arange(batch, src.options()).unsqueeze(1) * steps;
  const auto flat = sequences.reshape({batch * steps, -1});
  auto gathered = flat.index_select(0, (row_offset + source_step).reshape(-1)).view(sequences.sizes());
  auto keep = valid;
  while (keep.dim() < sequences.dim()) keep = keep.unsqueeze(-1);
  return gathered.masked_fill(~keep, 0);
}

}  // namespace seqpack
