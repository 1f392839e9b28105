#include "seqpack/length_grouped_batches.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "seqpack/errors.h"
#include "seqpack/limits.h"
#include "seqpack/lengths.h"
#include "sorted_buckets.h"

namespace seqpack {
namespace {

at::Tensor checked_data_set(const at::Tensor& lengths, const BatchingOptions& options) {
  if (options.batch_size() < 1) reject("batch_size", "must be at least 1 (got {})", options.batch_size());
  if (options.bucket_batches() < 1) reject("bucket_batches", "must be at least 1 (got {})", options.bucket_batches());
  if (lengths.defined() && lengths.numel() == 0) reject("lengths", "must hold at least one sample (got none)");
  return checked_lengths(lengths, "lengths", {});
}

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor data_set_order(int64_t size, const BatchingOptions& options, at::Generator& generator) {
  return options.shuffle() ? at::randperm(size, generator, at::kLong) : at::arange(size, at::kLong);
}

// Cuts `order` into batches of batch_size, the last one possibly smaller.
void cut(const at::Tensor& order, int64_t batch_size, std::vector<at::Tensor>& batches) {
  for (int64_t start = 0; start < order.numel(); start += batch_size) {
    batches.push_back(order.narrow(0, start, std::min(batch_size, order.numel() - start)).clone());
  }
}

// Only the last batch cut can be short (buckets hold whole batches but the data set's last one).
void drop_short_last(std::vector<at::Tensor>& batches, const BatchingOptions& options) {
  if (options.drop_last() && !batches.empty() && batches.back().numel() < options.batch_size()) batches.pop_back();
}

BatchPlan finish(const at::Tensor& lengths, std::vector<at::Tensor> batches) {
  BatchPlan plan;
  plan.fill_ratio = fill_ratio(lengths, batches);
  plan.batches = std::move(batches);
  return plan;
}

}  // namespace

BatchPlan length_grouped_batches(const at::Tensor& lengths, const BatchingOptions& options) {
  const auto checked = checked_data_set(lengths, options);
  auto generator = seeded(options.seed());
  const auto order = data_set_order(checked.numel(), options, generator);
  const int64_t bucket = checked_multiply(options.batch_size(), options.bucket_batches(), "batch_size x bucket_batches");
  auto batches = detail::sorted_buckets(order, checked, bucket, options.batch_size());
  drop_short_last(batches, options);
  if (options.shuffle()) batches = detail::permuted(batches, generator);
  return finish(checked, std::move(batches));
}

BatchPlan random_batches(const at::Tensor& lengths, const BatchingOptions& options) {
  const auto checked = checked_data_set(lengths, options);
  auto generator = seeded(options.seed());
  std::vector<at::Tensor> batches;
  cut(data_set_order(checked.numel(), options, generator), options.batch_size(), batches);
  drop_short_last(batches, options);
  return finish(checked, std::move(batches));
}

double fill_ratio(const at::Tensor& lengths, const std::vector<at::Tensor>& batches) {
  const auto flat = lengths.reshape({-1}).to(at::kLong);
  int64_t real = 0, padded = 0;
  for (const auto& batch : batches) {
    const auto members = flat.index_select(0, batch);
    real += members.sum().item<int64_t>();
    padded += members.max().item<int64_t>() * batch.numel();
  }
  return padded == 0 ? 1.0 : static_cast<double>(real) / static_cast<double>(padded);
}

}  // namespace seqpack
