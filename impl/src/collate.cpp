#include "seqpack/collate.h"

#include <ATen/ATen.h>
#include <fmt/ranges.h>

#include "seqpack/errors.h"
#include "seqpack/lengths.h"
#include "seqpack/sequence.h"

namespace seqpack {
namespace {

std::string part_name(size_t sample, std::string_view part) { return fmt::format("samples[{}].{}", sample, part); }

// The parts of a sample by name, so that every check runs over all of them alike.
// A part is read through a pointer (nullptr when the sample lacks it), never a copy.
using PartGetter = const at::Tensor* (*)(const Sample&);
const at::Tensor* maybe(const at::Tensor& t) { return t.defined() ? &t : nullptr; }
const at::Tensor* maybe(const std::optional<at::Tensor>& t) { return t ? maybe(*t) : nullptr; }
struct Part {
  std::string_view name;
  PartGetter get;
  std::string_view steps_of;  // the part whose first dimension this one must match ("" for none)
  int64_t rank;               // exact rank for inputs, minimum rank for the rest
  bool exact_rank;
  bool required = false;
};

const std::vector<Part>& parts() {
  static const std::vector<Part> all{
      {"encoder_input", [](const Sample& s) { return maybe(s.encoder_input); }, "", 2, true, true},
      {"decoder_input", [](const Sample& s) { return maybe(s.decoder_input); }, "", 2, true, true},
      {"target", [](const Sample& s) { return maybe(s.target); }, "decoder_input", 1, false, true},
      {"encoder_mask", [](const Sample& s) { return maybe(s.encoder_mask); }, "encoder_input", 1, false},
      {"decoder_mask", [](const Sample& s) { return maybe(s.decoder_mask); }, "decoder_input", 1, false},
      {"encoder_lengths", [](const Sample& s) { return maybe(s.encoder_lengths); }, "", 0, false},
      {"decoder_lengths", [](const Sample& s) { return maybe(s.decoder_lengths); }, "", 0, false},
  };
  return all;
}

const Part& part(std::string_view name) {
  for (const auto& p : parts()) {
    if (p.name == name) return p;
  }
  throw std::logic_error("unknown sample part");
}

// Every sample has the same parts, of the right rank, and agrees with sample 0 in dtype and in
// every dimension but time.
void check_samples(const std::vector<Sample>& samples) {
  if (samples.empty()) reject("samples", "must hold at least one sample (got an empty list)");
  for (const auto& p : parts()) {
    const bool first_has = p.get(samples[0]) != nullptr;
    for (size_t i = 0; i < samples.size(); ++i) {
      const at::Tensor* value = p.get(samples[i]);
      const bool has = value != nullptr;
      if (has != first_has) {
        reject(part_name(i, p.name), "every sample of a batch must carry the same parts ({} has it, {} does not)",
               has ? fmt::format("sample {}", i) : "sample 0", has ? "sample 0" : fmt::format("sample {}", i));
      }
      if (!has && p.required) reject(part_name(i, p.name), "is required");
      if (!has) continue;
      const auto& t = *value;
      const auto arg = part_name(i, p.name);
      if (p.name.ends_with("lengths")) {
        if (t.numel() != 1) reject(arg, "must hold exactly one length (got shape {})", t.sizes());
      } else if (p.exact_rank ? t.dim() != p.rank : t.dim() < p.rank) {
        reject(arg, "must have {} {} dimension(s), time first (got shape {})", p.exact_rank ? "exactly" : "at least",
               p.rank, t.sizes());
      }
      if (!p.steps_of.empty()) {
        const auto steps = part(p.steps_of).get(samples[i])->size(0);
        if (t.size(0) != steps) {
          reject(arg, "must have as many steps as {} ({}; got {})", p.steps_of, steps, t.size(0));
        }
      }
      const at::Tensor& first = *p.get(samples[0]);
      if (t.scalar_type() != first.scalar_type()) {
        reject(arg, "dtype {} differs from sample 0's {}", c10::toString(t.scalar_type()), c10::toString(first.scalar_type()));
      }
      if (!p.name.ends_with("lengths") && t.sizes().slice(1) != first.sizes().slice(1)) {
        reject(arg, "shape after the time dimension {} differs from sample 0's {} (feature counts must agree)",
               t.sizes().slice(1), first.sizes().slice(1));
      }
    }
  }
}

// The samples' lengths of one part as (B,) int64, each checked against its own sample's steps.
// One host read per sample (a batch of 64 would spend most of collate in per-sample tensor ops).
at::Tensor sample_lengths(const std::vector<Sample>& samples, std::string_view name) {
  const auto& p = part(name);
  const auto& steps_part = part(name.starts_with("encoder") ? "encoder_input" : "decoder_input");
  std::vector<int64_t> values;
  values.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const at::Tensor& length = *p.get(samples[i]);
    if (!at::isFloatingType(length.scalar_type()) && !at::isIntegralType(length.scalar_type(), false)) {
      reject(part_name(i, name), "must be an integer or floating tensor (got {})", c10::toString(length.scalar_type()));
    }
    const double value = length.item<double>();
    check_length_value(value, part_name(i, name), static_cast<int64_t>(i), {.max_length = steps_part.get(samples[i])->size(0)});
    values.push_back(static_cast<int64_t>(value));
  }
  return at::tensor(values);
}

// A window cut or padded to `steps`, keeping its end (keep_end) or its start; padding is zero and
// goes on the side that is dropped when cutting.
at::Tensor fit_steps(const at::Tensor& x, int64_t steps, bool keep_end) {
  const int64_t have = x.size(0);
  if (have >= steps) return x.narrow(0, keep_end ? have - steps : 0, steps);
  auto shape = x.sizes().vec();
  shape[0] = steps;
  auto out = at::zeros(shape, x.options());
  out.narrow(0, keep_end ? steps - have : 0, have).copy_(x);
  return out;
}

// The original's cut, x[-steps:] or x[:steps] (whole when steps >= the window), then a stack that
// needs equal shapes.
at::Tensor slice_like_python(const at::Tensor& x, int64_t steps, bool keep_end) {
  const int64_t have = x.size(0);
  if (steps == 0 && keep_end) return x;  // x[-0:] is the whole window
  if (steps >= have) return x;
  return x.narrow(0, keep_end ? have - steps : 0, steps);
}

at::Tensor stack_part(const std::vector<Sample>& samples, std::string_view name, int64_t steps, bool keep_end,
                      bool like_python) {
  const auto& p = part(name);
  std::vector<at::Tensor> rows;
  rows.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const at::Tensor& x = *p.get(samples[i]);
    rows.push_back(like_python ? slice_like_python(x, steps, keep_end) : fit_steps(x, steps, keep_end));
    if (rows.back().size(0) != rows.front().size(0)) {
      reject(part_name(i, name),
             "has {} steps after the cut to the batch's {}, where sample 0 has {}: the original cannot stack windows "
             "of unequal length (use sample_alignment left or right to pad them)",
             rows.back().size(0), steps, rows.front().size(0));
    }
  }
  return at::stack(rows);
}

at::Tensor stack_lengths(const std::vector<Sample>& samples, std::string_view name) {
  const auto& p = part(name);
  std::vector<at::Tensor> rows;
  rows.reserve(samples.size());
  for (const auto& s : samples) rows.push_back(p.get(s)->reshape({1}));
  return at::stack(rows);
}

int64_t max_of(const at::Tensor& lengths) { return lengths.max().item<int64_t>(); }

// The batch's steps: the longest length, else the longest window; like the original, size(1) of
// sample 0's input when no lengths are given.
int64_t batch_steps(const std::vector<Sample>& samples, const std::optional<at::Tensor>& lengths,
                    std::string_view input, bool like_python) {
  if (lengths) return max_of(*lengths);
  const auto& p = part(input);
  if (like_python) return p.get(samples.front())->size(1);
  int64_t longest = 0;
  for (const auto& s : samples) longest = std::max(longest, p.get(s)->size(0));
  return longest;
}

}  // namespace

Batch collate(const std::vector<Sample>& samples, const CollateOptions& options) {
  check_samples(samples);
  const auto& first = samples.front();
  const bool like_python = options.sample_alignment() == Source::Auto;

  std::optional<at::Tensor> encoder_lengths, decoder_lengths;
  if (first.encoder_lengths) encoder_lengths = sample_lengths(samples, "encoder_lengths");
  if (first.decoder_lengths) decoder_lengths = sample_lengths(samples, "decoder_lengths");

  if (encoder_lengths && max_of(*encoder_lengths) == 0 && !like_python) {
    reject("encoder_lengths", "at least one sample needs a positive encoder length (every length is 0)");
  }
  if (decoder_lengths && max_of(*decoder_lengths) == 0) {
    reject("decoder_lengths", "at least one sample needs a positive decoder length (every length is 0; the original "
                              "asserts this too)");
  }
  const int64_t encoder_steps = batch_steps(samples, encoder_lengths, "encoder_input", like_python);
  const int64_t decoder_steps = batch_steps(samples, decoder_lengths, "decoder_input", like_python);

  // Padding is cut from the side it is on: the front of right-aligned windows.
  const bool encoder_keeps_end = options.sample_alignment() != Source::Left;
  Batch batch;
  batch.encoder_input = stack_part(samples, "encoder_input", encoder_steps, encoder_keeps_end, like_python);
  batch.decoder_input = stack_part(samples, "decoder_input", decoder_steps, false, like_python);
  batch.target = stack_part(samples, "target", decoder_steps, false, like_python);
  if (first.encoder_mask) {
    batch.encoder_mask = stack_part(samples, "encoder_mask", encoder_steps, encoder_keeps_end, like_python);
  }
  if (first.decoder_mask) batch.decoder_mask = stack_part(samples, "decoder_mask", decoder_steps, false, like_python);
  if (first.encoder_lengths) batch.encoder_lengths = stack_lengths(samples, "encoder_lengths");
  if (first.decoder_lengths) batch.decoder_lengths = stack_lengths(samples, "decoder_lengths");

  // Realign when the lengths differ (equal lengths fill every row). The original only ever
  // realigns to the left, guessing the source; an explicit source realigns either way.
  if (!encoder_lengths || encoder_lengths->min().item<int64_t>() == max_of(*encoder_lengths)) return batch;
  const bool same_side = (options.sample_alignment() == Source::Left) == (options.encoder_alignment() == Alignment::Left);
  if (like_python ? options.encoder_alignment() != Alignment::Left : same_side) return batch;
  const auto align = AlignOptions(options.sample_alignment())
                         .alignment(options.encoder_alignment())
                         .max_length(batch.encoder_input.size(1));
  batch.encoder_input = align_encoder_sequences(batch.encoder_input, *encoder_lengths, align);
  if (batch.encoder_mask) batch.encoder_mask = align_encoder_sequences(*batch.encoder_mask, *encoder_lengths, align);
  return batch;
}

}  // namespace seqpack
