#pragma once
// Live bytes of LibTorch's CPU allocator, counted from the allocator's own reports while a probe is
// open: the hook PyTorch's profiler uses for its memory events (c10::MemoryReportingInfoBase, set
// for this thread with a DebugInfoGuard), so that the Python worker, which reads the profiler's
// allocation events, counts the same allocations the same way.
//
// Counted: every tensor storage the CPU allocator hands out on this thread while the probe is
// open, and its release. Not counted: a block allocated before the probe opened when it is freed
// (the allocator does not know its size), memory that bypasses the allocator (oneDNN's and MKL's
// own scratch buffers), and allocations made on other threads (CPU autograd and ATen's
// allocations run on the calling thread; intra-op worker threads rarely allocate).
#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace seqpack::perf {

class AllocationProbe {
 public:
  AllocationProbe();
  ~AllocationProbe();
  AllocationProbe(const AllocationProbe&) = delete;
  AllocationProbe& operator=(const AllocationProbe&) = delete;

  int64_t live_bytes() const;
  int64_t peak_bytes() const;  // the largest live_bytes() since the probe opened or reset_peak()
  void reset_peak();

 private:
  struct Counter;
  std::shared_ptr<Counter> counter_;
  std::unique_ptr<c10::DebugInfoGuard> guard_;
};

// The peak bytes one unit of `run` holds above what was live when it started: run(1) once with the
// probe open (so that what the measured unit frees was allocated where the probe saw it), then the
// measured run(1). For a training step: activations, temporaries and the gradients (freed by
// zero_grad and made again by backward every step).
int64_t unit_peak_bytes(const std::function<void(int64_t)>& run);

}  // namespace seqpack::perf
