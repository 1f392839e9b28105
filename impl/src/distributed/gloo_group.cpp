#include "seqpack/distributed/gloo_group.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "seqpack/errors.h"

namespace seqpack::distributed {

c10::intrusive_ptr<c10d::Backend> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                             std::chrono::milliseconds timeout) {
  if (!store) reject("store", "is null: the ranks meet through a store");
  if (size < 1) reject("size", "a group has at least 1 rank, got {}", size);
  if (rank < 0 || rank >= size) reject("rank", "must be in [0, {}), got {}", size, rank);
  if (timeout.count() < 1) reject("timeout", "must be at least 1 ms, got {} ms", timeout.count());
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

}  // namespace seqpack::distributed
