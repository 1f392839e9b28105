// Prints the lengths every distribution gives a few batch shapes, as JSON, for
// distributions_agree.py to compare with the Python side: the named ones of distributions.csv, and
// each lengths file named on the command line ("file:PATH[@rule]"; its decoder lengths too, or the
// line it is refused with).
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "length_distributions.h"
#include "seqpack/errors.h"

namespace {

nlohmann::json batches(const seqpack::perf::LengthDistribution& d) {
  nlohmann::json out;
  for (const int64_t batch : {1, 7, 8, 64, 128}) {
    for (const int64_t steps : {1, 16, 64, 1024}) {
      for (const uint64_t seed : {0, 1, 2}) {
        const auto key = std::to_string(batch) + "/" + std::to_string(steps) + "/" + std::to_string(seed);
        out["encoder"][key] = seqpack::perf::batch_lengths(d, batch, steps, seed);
        out["decoder"][key] = seqpack::perf::batch_decoder_lengths(d, batch, steps, seed);
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  nlohmann::json out;
  for (const auto& d : seqpack::perf::read_distributions(std::string(seqpack::perf::perf_source_dir()) + "/distributions.csv")) {
    out[d.name] = batches(d);
  }
  for (int i = 1; i < argc; ++i) {
    try {
      out[argv[i]] = batches(seqpack::perf::read_lengths_file(argv[i], std::filesystem::path(seqpack::perf::perf_source_dir()).parent_path()));
    } catch (const seqpack::InvalidArgument& error) {
      out[argv[i]] = {{"error", error.what()}};
    }
  }
  // A refusal echoes the file's bytes, which need not be UTF-8: JSON gets U+FFFD for those.
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}
