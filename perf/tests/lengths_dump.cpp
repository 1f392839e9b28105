// Prints the lengths every distribution gives a few batch shapes, as JSON, for
// distributions_agree.py to compare with the Python side.
#include <iostream>
#include <nlohmann/json.hpp>

#include "length_distributions.h"

int main() {
  nlohmann::json out;
  for (const auto& d : seqpack::perf::read_distributions(SEQPACK_PERF_DIR "/distributions.csv")) {
    for (const int64_t batch : {1, 7, 8, 64, 128}) {
      for (const int64_t steps : {1, 16, 64, 1024}) {
        for (const uint64_t seed : {0, 1, 2}) {
          out[d.name][std::to_string(batch) + "/" + std::to_string(steps) + "/" + std::to_string(seed)] =
              seqpack::perf::batch_lengths(d, batch, steps, seed);
        }
      }
    }
  }
  std::cout << out.dump() << "\n";
}
