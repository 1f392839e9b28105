// Prints the peak bytes the C++ allocation probe counts for a known allocation pattern, for
// perf/tests/allocation_probe_test.py, which runs the same pattern through the Python probe.
// The pattern, per unit: 3 MiB, then 5 MiB, the 3 MiB freed, 1 MiB; what the unit keeps replaces
// what the previous unit kept. Above the unit's start it peaks at 3 + 5 MiB.
#include <torch/torch.h>

#include <iostream>
#include <vector>

#include "allocation_probe.h"

int main() {
  constexpr int64_t kMiB = 1 << 20;
  std::vector<at::Tensor> kept;
  const auto unit = [&kept](int64_t units) {
    for (int64_t i = 0; i < units; ++i) {
      auto a = at::empty({3 * kMiB}, at::kByte);
      auto b = at::empty({5 * kMiB}, at::kByte);
      a.reset();
      auto c = at::empty({1 * kMiB}, at::kByte);
      kept = {b, c};
    }
  };
  unit(1);
  std::cout << seqpack::perf::unit_peak_bytes(unit) << "\n";
  return 0;
}
