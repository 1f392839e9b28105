// The rules every `seqpack eval` op shares: unknown names are errors, options the op does not
// support are errors, and outputs carry the original's names.
#include "seqpack/ops/registry.h"

#include <ATen/ATen.h>

#include "seqpack/cuda_probe.h"
#include "test_helpers.h"

namespace seqpack::ops {
namespace {

TensorMap align_inputs() {
  return {{"sequences", at::ones({2, 3, 1}, at::kDouble)}, {"lengths", at::tensor({1, 3}, at::kLong)}};
}

TEST(OpRegistry, RunsAnOpWithTheOriginalsNames) {
  const auto out = run_op("align_encoder_sequences", align_inputs(), {{"alignment", "left"}, {"source", "left"}});
  ASSERT_TRUE(out.contains("aligned"));
  EXPECT_EQ(out.at("aligned").sizes(), at::IntArrayRef({2, 3, 1}));
}

TEST(OpRegistry, RejectsWhatTheOpDoesNotTake) {
  EXPECT_REJECTS(run_op("no_such_op", {}, {}), "op", "no_such_op");
  EXPECT_REJECTS(run_op("align_encoder_sequences", align_inputs(), {{"alignmnet", "left"}}), "params",
                 "\"alignmnet\"");
  auto extra = align_inputs();
  extra["weights"] = at::ones({1});
  EXPECT_REJECTS(run_op("align_encoder_sequences", extra, {}), "inputs", "\"weights\"");
  EXPECT_REJECTS(run_op("align_encoder_sequences", {{"lengths", at::ones({1})}}, {}), "inputs", "\"sequences\"");
  EXPECT_REJECTS(run_op("align_encoder_sequences", align_inputs(), {{"max_length", "3"}}), "params.max_length",
                 "integer");
  EXPECT_REJECTS(run_op("pack_decoder_sequences", align_inputs(), {{"batch_first", 1}}), "params.batch_first",
                 "true or false");
  EXPECT_REJECTS(run_op("validate_encoder_alignment", {{"encoder_input", at::ones({1, 2, 1})}}, {}),
                 "params.expected_alignment", "required");
  EXPECT_REJECTS(run_op("align_encoder_sequences", align_inputs(), nlohmann::json::array()), "params", "object");
  EXPECT_REJECTS(run_op("align_encoder_sequences", align_inputs(), {}, {.backward = true}), "--backward");
  const TensorMap weights;
  EXPECT_REJECTS(run_op("align_encoder_sequences", align_inputs(), {}, {.weights = &weights}), "--weights");
  EXPECT_REJECTS(run_op("unpack_to_fixed_length",
                        {{"data", at::ones({3})}, {"batch_sizes", at::tensor({2, 1}, at::kLong)},
                         {"sorted_indices", at::tensor({0, 1}, at::kLong)}},
                        {}),
                 "sorted_indices and unsorted_indices");
}

TEST(CudaProbe, RunsWhereAGpuIsPresent) {
  if (!cuda::compiled_with_cuda()) GTEST_SKIP() << "seqpack was built without CUDA (no nvcc, or SEQPACK_CUDA=OFF)";
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA GPU on this machine; the .cu sources were compiled and linked only";
  EXPECT_TRUE(at::equal(cuda::iota(5).cpu(), at::arange(5, at::kLong)));
}

}  // namespace
}  // namespace seqpack::ops
