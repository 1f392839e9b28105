#pragma once
// The benchmark length distributions of perf/distributions.csv (one row each: name, kind, two
// parameters, description), and the lengths they give a batch. Lengths are deterministic, the same
// in C++ and in Python (reference/seqpack_reference/perf/distributions.py): row i takes the
// quantile (i + 0.5) / B of the distribution, then the rows are shuffled by a fixed LCG.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace seqpack::perf {

struct LengthDistribution {
  std::string name, kind, description;
  double param1 = 0, param2 = 0;
};

// Reads the CSV; an unknown kind or a malformed row is InvalidArgument naming the row.
std::vector<LengthDistribution> read_distributions(const std::filesystem::path& csv);

// B lengths in [1, T].
std::vector<int64_t> batch_lengths(const LengthDistribution& distribution, int64_t batch, int64_t steps,
                                   uint64_t seed = 0);

// sum(L) / (B * T): the share of the padded batch that is real data.
double fill_ratio(const std::vector<int64_t>& lengths, int64_t steps);

}  // namespace seqpack::perf
