#pragma once
// The padding-free path's attention plans: which samples share a bucket (one dense batched
// attention each) and, per bucket, the gather indices and the original's mask restated on the
// bucket's own lengths, so each real query attends exactly the keys it attends in the padded
// layout. Samples are grouped longest first; a bucket's cost is its samples x query slots x key
// slots plus a fixed overhead per bucket, and the grouping minimises the sum (dynamic programming
// over contiguous groups).
#include <optional>
#include <utility>
#include <vector>

#include "seqpack/masks.h"
#include "seqpack/models/real_steps.h"
#include "seqpack/nn/attention.h"

namespace seqpack::models {

// What one bucket costs beyond its score cells, in score cells: about the time of a few dozen
// small kernel launches (gathers, two matrix products, softmax, mask) forward and backward.
inline constexpr int64_t kBucketOverheadCells = 4096;

// Groups samples (already sorted so that query lengths fall) into contiguous buckets: [begin, end)
// index ranges into the sorted order.
std::vector<std::pair<int64_t, int64_t>> group_samples(const std::vector<int64_t>& query_lengths,
                                                       const std::vector<std::vector<int64_t>>& key_parts);

// Each real step of `steps` attends the real steps of its own sample (TransformerLSTM's encoder
// self-attention: create_mask over the encoder lengths; without lengths every step is real).
nn::AttentionPlan self_attention_plan(const RealSteps& steps);

// Each real decoder step attends [its sample's encoder steps, its decoder steps], the keys being
// the encoder's matrix followed by the decoder's. With `mask` (both lengths given), the bucket's
// mask is get_attention_mask(...) of its samples; without, every key is visible (the original
// builds no mask then).
nn::AttentionPlan cross_attention_plan(const RealSteps& encoder, const RealSteps& decoder,
                                       const std::optional<AttentionMaskOptions>& mask);

// The original masks attention only when both lengths are given; with one alone it would attend
// the other sequence's padding, which the padding-free path does not compute: rejected. Returns
// whether to mask.
bool padding_free_attention_masked(const ModelInputs& inputs);

// The cross-attention mask's options when masked, else none (cross_attention_plan's `mask`).
inline std::optional<AttentionMaskOptions> padding_free_mask(bool masked, bool causal_attention) {
  if (!masked) return std::nullopt;
  return AttentionMaskOptions().causal_attention(causal_attention);
}

}  // namespace seqpack::models
