#pragma once
// The primitives measured alone (alignment, packing, fused align-and-pack, unpack, masks, each loss
// forward and backward, collate), each as a call on a batch of the given lengths, built once. One
// definition for both drivers: the comparison engine's worker (perf/lib/workloads.cpp, kind
// primitive) and the stand-alone Google Benchmark program perf/benchmarks/primitives_bench.cpp.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace seqpack::perf {

// Every primitive's name, in the order the benchmark program registers them.
const std::vector<std::string>& primitive_names();

// The call of `name` on a batch of B = lengths.size() rows of `steps` steps (8 features; collate's
// windows carry decoders of steps / 4). Returns what the call computed, so that callers can keep
// it from being optimised away. InvalidArgument for an unknown name.
std::function<at::Tensor()> make_primitive(const std::string& name, const std::vector<int64_t>& lengths, int64_t steps);

}  // namespace seqpack::perf
