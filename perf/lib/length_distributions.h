#pragma once
// The benchmark length distributions of perf/distributions.csv (one row each: name, kind, two
// parameters, description), and the lengths they give a batch. Lengths are deterministic, the same
// in C++ and in Python (reference/seqpack_reference/perf/distributions.py): row i takes the
// quantile (i + 0.5) / B of the distribution, then the rows are shuffled by a fixed LCG.
// Besides the CSV's rows, a distribution may come from a lengths file (docs/your-data.md):
// "file:PATH" or "file:PATH@scale", PATH relative to the repository root or absolute.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace seqpack::perf {

struct LengthDistribution {
  std::string name, kind, description;
  double param1 = 0, param2 = 0;
  // kind "empirical" (a lengths file): the file's lengths, sorted; its decoder lengths where it has
  // them; and whether a length maps onto the window by clipping (min(n, T)) or by scaling (n T / max).
  std::vector<int64_t> sample, decoder_sample;
  bool scale = false;
};

// The prefix of a distribution read from a lengths file, and the longest length such a file may hold.
inline constexpr std::string_view kFilePrefix = "file:";
inline constexpr int64_t kMaxFileLength = 1'000'000'000;
inline constexpr uintmax_t kMaxFileBytes = 256u << 20;  // a lengths file is read whole
// Reads the CSV; an unknown kind or a malformed row is InvalidArgument naming the row.
std::vector<LengthDistribution> read_distributions(const std::filesystem::path& csv);

// "file:PATH[@clip|@scale]": the lengths file's distribution (columns "length" and, optionally,
// "decoder_length": positive integers up to kMaxFileLength, at least one row; text of at most
// kMaxFileBytes, in libfccp's CSV dialect: "," between fields, '"' quotes, spaces trimmed, blank
// lines skipped). A missing or unreadable file, a missing column, a bad length or an empty file is
// InvalidArgument naming the spec and the rule.
LengthDistribution read_lengths_file(const std::string& spec, const std::filesystem::path& root);

// B lengths in [1, T].
std::vector<int64_t> batch_lengths(const LengthDistribution& distribution, int64_t batch, int64_t steps,
                                   uint64_t seed = 0);

// A window's decoder lengths: from the file's decoder column where it has one, else as batch_lengths.
std::vector<int64_t> batch_decoder_lengths(const LengthDistribution& distribution, int64_t batch, int64_t steps,
                                           uint64_t seed = 0);

// sum(L) / (B * T): the share of the padded batch that is real data.
double fill_ratio(const std::vector<int64_t>& lengths, int64_t steps);

}  // namespace seqpack::perf
