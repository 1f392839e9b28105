#include "length_distributions.h"

#include <libfccp/csv.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "seqpack/errors.h"

namespace seqpack::perf {
namespace {

const std::set<std::string> kKinds{"equal", "uniform", "linspace", "bimodal", "pareto"};

// Row `row`'s length before rounding: the quantile u = (row + 0.5) / B of the distribution.
double unrounded_length(const LengthDistribution& d, int64_t row, int64_t batch, int64_t steps) {
  const double t = static_cast<double>(steps);
  const double u = (static_cast<double>(row) + 0.5) / static_cast<double>(batch);
  if (d.kind == "equal") return t;
  if (d.kind == "uniform") return (d.param1 + (d.param2 - d.param1) * u) * t;
  if (d.kind == "linspace") {
    return batch == 1 ? t : 1.0 + (t - 1.0) * static_cast<double>(row) / static_cast<double>(batch - 1);
  }
  if (d.kind == "bimodal") return (u < d.param2 ? d.param1 : 1.0) * t;
  return d.param1 * std::pow(1.0 - u, -1.0 / d.param2) * t;  // pareto
}

}  // namespace

std::vector<LengthDistribution> read_distributions(const std::filesystem::path& csv) {
  std::vector<LengthDistribution> out;
  try {
    io::CSVReader<5, io::trim_chars<' '>, io::double_quote_escape<',', '"'>> reader(csv.string());
    reader.read_header(io::ignore_extra_column, "name", "kind", "param1", "param2", "description");
    LengthDistribution row;
    while (reader.read_row(row.name, row.kind, row.param1, row.param2, row.description)) {
      if (!kKinds.contains(row.kind)) reject(csv.string(), "distribution {} has an unknown kind \"{}\"", row.name, row.kind);
      out.push_back(row);
    }
  } catch (const io::error::base& error) {
    reject(csv.string(), "cannot be read: {}", error.what());
  }
  return out;
}

std::vector<int64_t> batch_lengths(const LengthDistribution& d, int64_t batch, int64_t steps, uint64_t seed) {
  std::vector<int64_t> lengths(batch);
  for (int64_t i = 0; i < batch; ++i) {
    const double length = std::min(std::floor(unrounded_length(d, i, batch, steps) + 0.5), static_cast<double>(steps));
    lengths[i] = std::clamp<int64_t>(static_cast<int64_t>(length), 1, steps);
  }
  // Fisher-Yates with a 64-bit LCG (Knuth's MMIX constants), the same in Python.
  uint64_t state = seed * 2654435761ULL + 12345ULL;
  for (int64_t i = batch - 1; i > 0; --i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto j = static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(i + 1));
    std::swap(lengths[i], lengths[j]);
  }
  return lengths;
}

double fill_ratio(const std::vector<int64_t>& lengths, int64_t steps) {
  const auto total = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
  return static_cast<double>(total) / static_cast<double>(steps * static_cast<int64_t>(lengths.size()));
}

}  // namespace seqpack::perf
