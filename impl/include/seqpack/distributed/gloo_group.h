#pragma once
// A gloo process group (c10d's ProcessGroupGloo, compiled into libtorch_cpu) over a store, the CPU
// backend data-parallel training here runs on.
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

namespace seqpack::distributed {

// Rank `rank` of `size`, meeting the others through `store` (every rank passes the same store, or
// a client of it), on the machine's default gloo device; `timeout` bounds every collective.
// InvalidArgument for no store, size < 1, a rank outside [0, size) or a timeout below 1 ms.
c10::intrusive_ptr<c10d::Backend> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                             std::chrono::milliseconds timeout);

}  // namespace seqpack::distributed
