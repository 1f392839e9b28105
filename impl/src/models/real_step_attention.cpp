#include "seqpack/models/real_step_attention.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "seqpack/errors.h"

namespace seqpack::models {
namespace {

// A bucket holds at most this many samples, which bounds the grouping's work at B x this.
constexpr int64_t kMostSamplesPerBucket = 512;

// The samples with a query, sorted by `key` falling (ties in batch order).
std::vector<int64_t> sorted_samples(const std::vector<int64_t>& queries, const std::vector<int64_t>& key) {
  std::vector<int64_t> order;
  for (int64_t b = 0; b < static_cast<int64_t>(queries.size()); ++b) {
    if (queries[b] > 0) order.push_back(b);
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return key[a] > key[b]; });
  return order;
}

std::vector<int64_t> pick(const std::vector<int64_t>& values, const std::vector<int64_t>& order, int64_t begin,
                          int64_t end) {
  std::vector<int64_t> out;
  for (auto i = begin; i < end; ++i) out.push_back(values[order[i]]);
  return out;
}

int64_t largest(const std::vector<int64_t>& values) { return *std::max_element(values.begin(), values.end()); }

// The slots of each bucket's queries: output_index[query row] = slot, counting from the first bucket.
struct SlotCounter {
  std::vector<int64_t> output_index;
  int64_t next = 0;
};

// The query side of a bucket: its gather index, and where each real query's output lands.
at::Tensor query_slots(const RealSteps& steps, const std::vector<int64_t>& samples, int64_t query_steps,
                       SlotCounter& slots) {
  auto index = at::full({static_cast<int64_t>(samples.size()) * query_steps}, steps.count, at::kLong);
  auto* out = index.data_ptr<int64_t>();
  const auto position = steps.position.accessor<int64_t, 2>();
  const auto* length = steps.lengths.data_ptr<int64_t>();
  for (size_t i = 0; i < samples.size(); ++i) {
    for (int64_t t = 0; t < length[samples[i]]; ++t) {
      const auto row = position[samples[i]][t];
      out[i * query_steps + t] = row;
      slots.output_index[row] = slots.next + static_cast<int64_t>(i) * query_steps + t;
    }
  }
  slots.next += static_cast<int64_t>(samples.size()) * query_steps;
  return index;
}

// Key slots [offset, offset + length) of each sample read `steps`' matrix rows shifted by `shift`
// (the keys are the encoder's rows, then the decoder's); the slots past a sample's length keep the
// index's fill, the zero row.
void fill_key_slots(at::Tensor& index, const RealSteps& steps, const std::vector<int64_t>& samples, int64_t key_steps,
                    int64_t offset, int64_t shift) {
  auto* out = index.data_ptr<int64_t>();
  const auto position = steps.position.accessor<int64_t, 2>();
  const auto* length = steps.lengths.data_ptr<int64_t>();
  for (size_t i = 0; i < samples.size(); ++i) {
    for (int64_t t = 0; t < length[samples[i]]; ++t) out[i * key_steps + offset + t] = shift + position[samples[i]][t];
  }
}

nn::AttentionPlan finish(std::vector<nn::AttentionBucket> buckets, SlotCounter& slots, at::Device device) {
  nn::AttentionPlan plan;
  for (auto& b : buckets) {
    b.query_index = b.query_index.to(device);
    b.key_index = b.key_index.to(device);
    if (b.mask.defined()) {
      const auto keyless = b.mask.all(-1);
      if (keyless.any().item<bool>()) b.keyless = keyless.view({b.samples, 1, b.query_steps, 1}).to(device);
      b.mask = b.mask.to(device);
    }
  }
  plan.buckets = std::move(buckets);
  plan.output_index = at::tensor(slots.output_index, at::kLong).to(device);
  return plan;
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> group_samples(const std::vector<int64_t>& query_lengths,
                                                       const std::vector<std::vector<int64_t>>& key_parts) {
  const auto count = static_cast<int64_t>(query_lengths.size());
  std::vector<int64_t> best(count + 1, std::numeric_limits<int64_t>::max()), cut(count + 1, 0);
  best[0] = 0;
  std::vector<int64_t> key_max(key_parts.size());
  for (int64_t end = 1; end <= count; ++end) {
    int64_t query_max = 0;
    std::fill(key_max.begin(), key_max.end(), 0);
    for (auto begin = end - 1; begin >= std::max<int64_t>(0, end - kMostSamplesPerBucket); --begin) {
      query_max = std::max(query_max, query_lengths[begin]);
      for (size_t p = 0; p < key_parts.size(); ++p) key_max[p] = std::max(key_max[p], key_parts[p][begin]);
      const auto keys = std::accumulate(key_max.begin(), key_max.end(), int64_t{0});
      const auto cost = best[begin] + (end - begin) * query_max * keys + kBucketOverheadCells;
      if (cost < best[end]) {
        best[end] = cost;
        cut[end] = begin;
      }
    }
  }
  std::vector<std::pair<int64_t, int64_t>> groups;
  for (auto end = count; end > 0; end = cut[end]) groups.emplace_back(cut[end], end);
  std::reverse(groups.begin(), groups.end());
  return groups;
}

nn::AttentionPlan self_attention_plan(const RealSteps& steps) {
  RECORD_USER_SCOPE("real_steps.attention_plan");
  const auto lengths = steps.host_lengths();
  const auto order = sorted_samples(lengths, lengths);
  const auto sorted = pick(lengths, order, 0, static_cast<int64_t>(order.size()));
  SlotCounter slots{std::vector<int64_t>(steps.count, 0)};
  std::vector<nn::AttentionBucket> buckets;
  for (const auto& [begin, end] : group_samples(sorted, {sorted})) {
    const std::vector<int64_t> samples(order.begin() + begin, order.begin() + end);
    const auto bucket_lengths = pick(lengths, order, begin, end);
    nn::AttentionBucket b;
    b.samples = end - begin;
    b.query_steps = b.key_steps = largest(bucket_lengths);
    b.query_index = b.key_index = query_slots(steps, samples, b.query_steps, slots);
    if (std::any_of(bucket_lengths.begin(), bucket_lengths.end(), [&](int64_t l) { return l < b.key_steps; })) {
      // The original's self-attention mask (create_mask over the encoder lengths) on this bucket.
      b.mask = create_mask(b.key_steps, at::tensor(bucket_lengths, at::kLong)).unsqueeze(1).expand({-1, b.query_steps, -1});
    }
    buckets.push_back(std::move(b));
  }
  return finish(std::move(buckets), slots, steps.flat_index.device());
}

nn::AttentionPlan cross_attention_plan(const RealSteps& encoder, const RealSteps& decoder,
                                       const std::optional<AttentionMaskOptions>& mask) {
  RECORD_USER_SCOPE("real_steps.attention_plan");
  const auto encoder_lengths = encoder.host_lengths();
  const auto decoder_lengths = decoder.host_lengths();
  std::vector<int64_t> keys(decoder_lengths.size());
  for (size_t b = 0; b < keys.size(); ++b) keys[b] = encoder_lengths[b] + decoder_lengths[b];
  const auto order = sorted_samples(decoder_lengths, keys);
  const auto all = static_cast<int64_t>(order.size());
  const auto zero_row = encoder.count + decoder.count;
  SlotCounter slots{std::vector<int64_t>(decoder.count, 0)};
  std::vector<nn::AttentionBucket> buckets;
  for (const auto& [begin, end] :
       group_samples(pick(decoder_lengths, order, 0, all), {pick(encoder_lengths, order, 0, all), pick(decoder_lengths, order, 0, all)})) {
    const std::vector<int64_t> samples(order.begin() + begin, order.begin() + end);
    const auto bucket_encoder = pick(encoder_lengths, order, begin, end);
    const auto bucket_decoder = pick(decoder_lengths, order, begin, end);
    nn::AttentionBucket b;
    b.samples = end - begin;
    b.query_steps = largest(bucket_decoder);
    const auto encoder_steps = largest(bucket_encoder);
    b.key_steps = encoder_steps + b.query_steps;
    b.query_index = query_slots(decoder, samples, b.query_steps, slots);
    b.key_index = at::full({b.samples * b.key_steps}, zero_row, at::kLong);
    fill_key_slots(b.key_index, encoder, samples, b.key_steps, 0, 0);
    fill_key_slots(b.key_index, decoder, samples, b.key_steps, encoder_steps, encoder.count);
    if (mask) {
      b.mask = get_attention_mask(at::tensor(bucket_encoder, at::kLong), at::tensor(bucket_decoder, at::kLong),
                                  encoder_steps, b.query_steps, *mask);
    }
    buckets.push_back(std::move(b));
  }
  return finish(std::move(buckets), slots, decoder.flat_index.device());
}

bool padding_free_attention_masked(const ModelInputs& inputs) {
  if (inputs.encoder_lengths.has_value() == inputs.decoder_lengths.has_value()) return inputs.encoder_lengths.has_value();
  const auto* missing = inputs.encoder_lengths ? "decoder_lengths" : "encoder_lengths";
  const auto* given = inputs.encoder_lengths ? "encoder_lengths" : "decoder_lengths";
  reject(missing, "is required by packing = padding_free when {} is given: without both the original masks no "
         "attention and attends the padding, which the padding-free path does not compute", given);
}

}  // namespace seqpack::models
