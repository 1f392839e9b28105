#include "packed_gather.h"

#include <torch/autograd.h>

#include "seqpack/cuda_packed_gather.h"

namespace seqpack::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

cuda::PackedPlacement placement_of(AutogradContext* ctx) {
  const auto& saved = ctx->saved_data;
  return {saved.at("offsets").toTensor(), saved.at("sorted").toTensor(), saved.at("sources").toTensor(),
          saved.at("batch").toInt(), saved.at("steps").toInt(), saved.at("batch_first").toBool()};
}

struct GatherPacked : torch::autograd::Function<GatherPacked> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& padded, const at::Tensor& offsets,
                            const at::Tensor& sorted, const at::Tensor& sources, int64_t batch, int64_t steps,
                            bool batch_first) {
    ctx->saved_data["offsets"] = offsets;
    ctx->saved_data["sorted"] = sorted;
    ctx->saved_data["sources"] = sources;
    ctx->saved_data["batch"] = batch;
    ctx->saved_data["steps"] = steps;
    ctx->saved_data["batch_first"] = batch_first;
    ctx->saved_data["shape"] = padded.sizes().vec();
    return cuda::gather_packed(padded, placement_of(ctx));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto shape = ctx->saved_data.at("shape").toIntVector();
    return {cuda::scatter_packed(grads[0], placement_of(ctx), shape), {}, {}, {}, {}, {}, {}};
  }
};

}  // namespace

at::Tensor gather_packed_on_cuda(const at::Tensor& sequences, const at::Tensor& batch_sizes, const at::Tensor& sorted,
                                 const at::Tensor& sources, bool batch_first) {
  const auto device = sequences.device();
  const int64_t batch = sequences.size(batch_first ? 0 : 1), steps = sequences.size(batch_first ? 1 : 0);
  const auto long_cpu = batch_sizes.options();
  const auto offsets = at::cat({at::zeros({1}, long_cpu), batch_sizes.cumsum(0)}).to(device);
  const auto rank_to_row = sorted.defined() ? sorted.to(device) : at::arange(batch, long_cpu.device(device));
  const auto first_steps = sources.defined() ? sources.to(device) : at::zeros({batch}, long_cpu.device(device));
  return GatherPacked::apply(sequences.contiguous(), offsets, rank_to_row, first_steps, batch, steps, batch_first);
}

}  // namespace seqpack::detail
