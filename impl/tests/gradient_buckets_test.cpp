// Data-parallel gradients: DDP's bucketing rule, and the averaging and broadcast on real gloo
// groups (one rank: averaging is the identity; two ranks as two threads of this process).
#include "seqpack/distributed/gradient_buckets.h"

#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include <thread>

#include "seqpack/distributed/broadcast_parameters.h"
#include "seqpack/distributed/gloo_group.h"
#include "test_helpers.h"

namespace seqpack::distributed {
namespace {

using Buckets = std::vector<std::vector<size_t>>;
constexpr std::chrono::seconds kTimeout{60};

// Float32 parameters of the given element counts (4 bytes each).
std::vector<at::Tensor> floats(const std::vector<int64_t>& counts) {
  std::vector<at::Tensor> all;
  for (const auto n : counts) all.push_back(at::zeros({n}));
  return all;
}

TEST(GradientBuckets, LastRegisteredFirstAndEachBucketClosedAtItsCap) {
  // Caps of 40 and 100 bytes: 10 and 25 floats.
  const BucketCaps caps{40, 100};
  EXPECT_EQ(gradient_buckets(floats({5, 5, 5, 5, 5, 5}), caps), (Buckets{{5, 4}, {3, 2, 1, 0}}));
  // The first bucket closes at 10 floats; a later one at 25.
  EXPECT_EQ(gradient_buckets(floats({20, 5, 6, 4}), caps), (Buckets{{3, 2}, {1, 0}}));
  EXPECT_EQ(gradient_buckets(floats({25, 4, 6}), caps), (Buckets{{2, 1}, {0}}));
}

TEST(GradientBuckets, TheParameterThatPassesTheCapStaysInItsBucket) {
  // DDP's rule: added first, then the bucket closes (so a bucket can pass its cap by one parameter).
  const BucketCaps caps{40, 100};
  EXPECT_EQ(gradient_buckets(floats({1, 30, 1, 11}), caps), (Buckets{{3}, {2, 1}, {0}}));
  EXPECT_EQ(gradient_buckets(floats({2, 2, 26, 2}), caps), (Buckets{{3, 2}, {1, 0}}));
}

TEST(GradientBuckets, DefaultCapsAreDdpsOneAndTwentyFiveMiB) {
  const int64_t mib_floats = (1 << 20) / 4;
  // 1 MiB fills the first bucket; the next 25 MiB go together; the rest starts a third.
  EXPECT_EQ(gradient_buckets(floats({1, 10 * mib_floats, 15 * mib_floats, mib_floats / 2, mib_floats / 2})),
            (Buckets{{4, 3}, {2, 1}, {0}}));
}

TEST(GradientBuckets, DtypeChangeClosesTheBucket) {
  const std::vector<at::Tensor> mixed{at::zeros({2}), at::zeros({2}, at::kDouble), at::zeros({2}, at::kDouble)};
  EXPECT_EQ(gradient_buckets(mixed), (Buckets{{2, 1}, {0}}));
  EXPECT_TRUE(gradient_buckets({}).empty());
}

TEST(GradientBuckets, Rejections) {
  EXPECT_REJECTS(gradient_buckets(floats({2}), {0, 100}), "caps:", "at least 1 byte");
  EXPECT_REJECTS(gradient_buckets(floats({2}), {40, -1}), "caps:", "at least 1 byte");
  EXPECT_REJECTS(gradient_buckets({at::zeros({2}), at::Tensor()}), "parameters:", "parameter 1 is undefined");
  EXPECT_REJECTS(GradientBuckets({at::Tensor()}), "parameters:", "undefined");
}

TEST(GlooGroup, Rejections) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  EXPECT_REJECTS(gloo_group(nullptr, 0, 1, kTimeout), "store:", "is null");
  EXPECT_REJECTS(gloo_group(store, 0, 0, kTimeout), "size:", "at least 1 rank");
  EXPECT_REJECTS(gloo_group(store, 2, 2, kTimeout), "rank:", "[0, 2)");
  EXPECT_REJECTS(gloo_group(store, -1, 2, kTimeout), "rank:", "[0, 2)");
  EXPECT_REJECTS(gloo_group(store, 0, 1, std::chrono::milliseconds(0)), "timeout:", "at least 1 ms");
}

// Three float parameters (3, 7 and 2 values) whose gradients are scale x index + 1.
struct Trained {
  std::vector<at::Tensor> parameters;
  explicit Trained(double scale) {
    for (const auto n : {3, 7, 2}) {
      auto p = at::arange(n, at::kFloat).requires_grad_();
      p.mutable_grad() = at::arange(n, at::kFloat) * scale + 1;
      parameters.push_back(p);
    }
  }
};

TEST(GradientBuckets, OnOneRankAveragingKeepsTheGradients) {
  auto group = gloo_group(c10::make_intrusive<c10d::HashStore>(), 0, 1, kTimeout);
  Trained t(2.0);
  auto unused = at::ones({4}).requires_grad_();  // no gradient: it gets the mean of zeros
  t.parameters.push_back(unused);
  GradientBuckets buckets(t.parameters, {40, 40});
  ASSERT_EQ(buckets.buckets(), (Buckets{{3, 2, 1}, {0}}));  // 16 + 8 + 28 bytes pass 40: closed
  buckets.average_gradients(*group);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(at::equal(t.parameters[i].grad(), at::arange(t.parameters[i].numel(), at::kFloat) * 2 + 1)) << i;
  }
  EXPECT_TRUE(at::equal(unused.grad(), at::zeros({4})));
  broadcast_parameters(*group, t.parameters);
  EXPECT_TRUE(at::equal(t.parameters[1], at::arange(7, at::kFloat)));
  EXPECT_REJECTS(broadcast_parameters(*group, t.parameters, 1), "root:", "[0, 1)");
}

TEST(GradientBuckets, OnTwoRanksEveryRankGetsTheMeanAndRankZerosParameters) {
  auto store = c10::make_intrusive<c10d::HashStore>();  // shared by the two ranks' threads
  Trained t0(2.0), t1(4.0);
  for (auto& p : t1.parameters) {
    at::NoGradGuard no_grad;
    p.add_(100);
  }
  const auto run = [&store](int rank, Trained& t) {
    auto group = gloo_group(store, rank, 2, kTimeout);
    broadcast_parameters(*group, t.parameters);
    GradientBuckets(t.parameters, {40, 40}).average_gradients(*group);
  };
  std::thread other(run, 1, std::ref(t1));
  run(0, t0);
  other.join();
  for (size_t i = 0; i < 3; ++i) {
    const auto n = t0.parameters[i].numel();
    const auto mean = at::arange(n, at::kFloat) * 3 + 1;  // (2x + 1 + 4x + 1) / 2
    EXPECT_TRUE(at::equal(t0.parameters[i].grad(), mean)) << i;
    EXPECT_TRUE(at::equal(t1.parameters[i].grad(), mean)) << i;
    EXPECT_TRUE(at::equal(t1.parameters[i], at::arange(n, at::kFloat))) << "rank 1 kept its own parameter " << i;
  }
}

}  // namespace
}  // namespace seqpack::distributed
