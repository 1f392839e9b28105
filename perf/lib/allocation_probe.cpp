#include "allocation_probe.h"

#include <algorithm>

namespace seqpack::perf {

struct AllocationProbe::Counter : public c10::MemoryReportingInfoBase {
  int64_t live = 0;
  int64_t peak = 0;

  void reportMemoryUsage(void* /*ptr*/, int64_t alloc_size, size_t /*total_allocated*/, size_t /*total_reserved*/,
                         c10::Device device) override {
    if (!device.is_cpu()) return;
    live += alloc_size;  // negative for a release
    peak = std::max(peak, live);
  }
  bool memoryProfilingEnabled() const override { return true; }
};

AllocationProbe::AllocationProbe()
    : counter_(std::make_shared<Counter>()),
      guard_(std::make_unique<c10::DebugInfoGuard>(c10::DebugInfoKind::PROFILER_STATE, counter_)) {}

AllocationProbe::~AllocationProbe() = default;

int64_t AllocationProbe::live_bytes() const { return counter_->live; }
int64_t AllocationProbe::peak_bytes() const { return counter_->peak; }
void AllocationProbe::reset_peak() { counter_->peak = counter_->live; }

int64_t unit_peak_bytes(const std::function<void(int64_t)>& run) {
  AllocationProbe probe;
  run(1);
  const auto before = probe.live_bytes();
  probe.reset_peak();
  run(1);
  return probe.peak_bytes() - before;
}

}  // namespace seqpack::perf
