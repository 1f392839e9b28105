#include "length_distributions.h"

#include <libfccp/csv.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>

#include "seqpack/errors.h"

namespace seqpack::perf {
namespace {

const std::set<std::string> kKinds{"equal", "uniform", "linspace", "bimodal", "pareto"};

// The empirical quantile u of a sorted sample (its lower one: element floor(u n)), mapped onto T steps.
double empirical_length(const LengthDistribution& d, const std::vector<int64_t>& sample, double u, double t) {
  const auto index = std::min(sample.size() - 1, static_cast<size_t>(u * static_cast<double>(sample.size())));
  const auto length = static_cast<double>(sample[index]);
  return d.scale ? length * t / static_cast<double>(sample.back()) : std::min(length, t);
}

// One length of a lengths file: a positive integer up to kMaxFileLength, or InvalidArgument.
int64_t parse_length(const std::string& spec, const char* column, const std::string& text, long row) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    reject(spec, "row {}: {} \"{}\" is not an integer", row, column, text);
  }
  if (value < 1 || value > kMaxFileLength) {
    reject(spec, "row {}: {} {} is outside [1, {}]", row, column, value, kMaxFileLength);
  }
  return value;
}

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
  if (d.kind == "empirical") return empirical_length(d, d.sample, u, t);
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

LengthDistribution read_lengths_file(const std::string& spec, const std::filesystem::path& root) {
  LengthDistribution d{spec, "empirical", "lengths read from a file"};
  std::string path = spec.substr(kFilePrefix.size());
  if (const auto at = path.rfind('@'); at != std::string::npos) {
    const auto rule = path.substr(at + 1);
    if (rule != "clip" && rule != "scale") reject(spec, "unknown rule \"{}\" after @ (clip or scale)", rule);
    d.scale = rule == "scale";
    path.resize(at);
  }
  if (path.empty()) reject(spec, "names no file (file:PATH[@clip|@scale])");
  // The path as written, joined to the root as text (std::filesystem would not tidy it either).
  const std::string file = path.front() == '/' ? path : root.string() + "/" + path;
  std::error_code error;  // a link loop or a path through a file: not a readable file, not an exception
  if (!std::filesystem::is_regular_file(file, error)) reject(spec, "{} is not a readable file", file);
  constexpr auto kNoLengths = "has no lengths (a header and at least one row are needed)";
  const auto bytes = std::filesystem::file_size(file, error);
  if (error) reject(spec, "{} is not a readable file", file);
  if (bytes > kMaxFileBytes) reject(spec, "is larger than {} bytes", kMaxFileBytes);
  std::ifstream in(file, std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in && !in.eof()) reject(spec, "{} is not a readable file", file);
  if (text.empty()) reject(spec, kNoLengths);
  // libfccp hangs on a large file whose last line has no end (its issue 72; seen on a 48 MiB
  // file); the same lines with the end added are read right.
  if (text.back() != '\n') text.push_back('\n');
  // libfccp reads a line as a C string: a NUL would end it silently.
  if (const auto nul = text.find('\0'); nul != std::string::npos) reject(spec, "holds a NUL byte at offset {}: a lengths file is text", nul);
  try {
    io::CSVReader<2, io::trim_chars<' '>, io::double_quote_escape<',', '"'>, io::throw_on_overflow, io::empty_line_comment>
        reader(file, text.data(), text.data() + text.size());
    reader.read_header(io::ignore_extra_column | io::ignore_missing_column, "length", "decoder_length");
    if (!reader.has_column("length")) reject(spec, "has no column \"length\"");
    const bool decoder = reader.has_column("decoder_length");
    std::string length, decoder_length;
    while (reader.read_row(length, decoder_length)) {
      const long row = static_cast<long>(reader.get_file_line());
      d.sample.push_back(parse_length(spec, "length", length, row));
      if (decoder) d.decoder_sample.push_back(parse_length(spec, "decoder_length", decoder_length, row));
    }
  } catch (const io::error::base& error) {
    reject(spec, "cannot be read as CSV: {}", error.what());
  }
  if (d.sample.empty()) reject(spec, kNoLengths);
  std::sort(d.sample.begin(), d.sample.end());
  std::sort(d.decoder_sample.begin(), d.decoder_sample.end());
  return d;
}

std::vector<int64_t> batch_decoder_lengths(const LengthDistribution& d, int64_t batch, int64_t steps, uint64_t seed) {
  if (d.decoder_sample.empty()) return batch_lengths(d, batch, steps, seed);
  auto decoder = d;
  decoder.sample = d.decoder_sample;
  return batch_lengths(decoder, batch, steps, seed);
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
