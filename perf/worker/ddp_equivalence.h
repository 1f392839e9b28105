#pragma once
// The data-parallel equivalence: N training steps of a model's small float64 configuration
// (dropout 0, MSE without masking, Adam lr 1e-3) on R ranks' shards, either under torchrun (each
// rank trains on its own shard, gradients averaged as data-parallel training averages them) or in
// one process on each step's concatenated shards (rank 0's, then rank 1's, ...). Both write the
// final parameters by state_dict name; averaging promises they are the same, up to rounding.
#include <cstdint>
#include <optional>
#include <string>

namespace seqpack::perf {

struct EquivalenceOptions {
  std::string out;                   // the safetensors file written (by rank 0 under torchrun)
  std::string model = "transformer_lstm";
  std::string path = "padded";       // padded | packed
  int64_t steps = 3;                 // 0: the initial parameters
  std::optional<int64_t> as_ranks;   // without torchrun (WORLD_SIZE unset): the ranks whose shards to join
};

// InvalidArgument naming the option for an unknown or non-LSTM-family model, another path, steps
// below 0, as_ranks below 1 or given under torchrun.
void run_equivalence(const EquivalenceOptions& options);

}  // namespace seqpack::perf
