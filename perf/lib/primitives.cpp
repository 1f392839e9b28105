#include "primitives.h"

#include <map>

#include "bench_support.h"
#include "seqpack/calc_loss.h"
#include "seqpack/collate.h"
#include "seqpack/errors.h"
#include "seqpack/masks.h"
#include "seqpack/sequence.h"

namespace seqpack::perf {
namespace {

constexpr int64_t kFeatures = 8;
using Call = std::function<at::Tensor()>;
using Lengths = std::vector<int64_t>;

// A right-aligned encoder, as the original's data set yields it.
at::Tensor right_aligned_encoder(const Lengths& lengths, int64_t steps) {
  return right_aligned_batch(lengths, steps, kFeatures);
}

Call align(const Lengths& lengths, int64_t steps, Source source) {
  const auto x = left_aligned_batch(lengths, steps, kFeatures);
  const auto options = AlignOptions(source).alignment(Alignment::Right);
  return [x, l = at::tensor(lengths), options] { return align_encoder_sequences(x, l, options); };
}

Call pack(const Lengths& lengths, int64_t steps) {
  const auto x = left_aligned_batch(lengths, steps, kFeatures);
  return [x, l = at::tensor(lengths)] { return pack_decoder_sequences(x, l).data(); };
}

// A right-aligned encoder packed for an LSTM: aligned to the left, then packed (two gathers and an
// aligned copy in between), against pack_encoder_sequences, which fuses the two into one gather.
Call align_then_pack(const Lengths& lengths, int64_t steps) {
  const auto to_left = AlignOptions(Source::Right).alignment(Alignment::Left);
  return [x = right_aligned_encoder(lengths, steps), l = at::tensor(lengths), to_left] {
    return pack_decoder_sequences(align_encoder_sequences(x, l, to_left), l).data();
  };
}

Call align_pack_fused(const Lengths& lengths, int64_t steps) {
  return [x = right_aligned_encoder(lengths, steps), l = at::tensor(lengths)] {
    return pack_encoder_sequences(x, l, PackEncoderOptions(Source::Right)).data();
  };
}

Call unpack(const Lengths& lengths, int64_t steps) {
  const auto packed = pack_decoder_sequences(left_aligned_batch(lengths, steps, kFeatures), at::tensor(lengths));
  return [packed, options = UnpackOptions().total_length(steps)] {
    return std::get<0>(unpack_to_fixed_length(packed, options));
  };
}

Call mask(const Lengths& lengths, int64_t steps) {
  return [l = at::tensor(lengths), steps] { return create_mask(steps, l); };
}

Call attention_mask(const Lengths& lengths, int64_t steps) {
  return [l = at::tensor(lengths), steps] { return get_attention_mask(l, l, steps, steps); };
}

// Forward and backward of one loss, masked by the batch's lengths.
Call loss(const Lengths& lengths, int64_t steps, CriterionKind kind) {
  const int64_t outputs = kind == CriterionKind::Quantile ? 7 : 1;
  const auto batch = static_cast<int64_t>(lengths.size());
  const auto y = at::randn({batch, steps, outputs}).requires_grad_(true);
  const auto target = at::randn({batch, steps, 1}) + 3.0;  // away from 0 for MAPE
  return [y, target, l = at::tensor(lengths), criterion = Criterion().kind(kind)] {
    calc_loss(y, target, l, criterion).backward();
    return y.grad();
  };
}

// Windows of `steps` (right-aligned encoders, decoders of steps / 4, masks and lengths) collated into
// a left-aligned batch, from the explicit source or from the original's guess.
Call collate_windows(const Lengths& lengths, int64_t steps, Source source) {
  const auto samples = windows(lengths, steps, Lengths(lengths.size(), steps / 4), steps / 4, kFeatures, 4);
  const auto options = CollateOptions().encoder_alignment(Alignment::Left).sample_alignment(source);
  return [samples, options] { return collate(samples, options).encoder_input; };
}

using Maker = std::function<Call(const Lengths&, int64_t)>;

const std::vector<std::pair<std::string, Maker>>& makers() {
  static const std::vector<std::pair<std::string, Maker>> all{
      {"align_explicit", [](const Lengths& l, int64_t t) { return align(l, t, Source::Left); }},
      {"align_auto", [](const Lengths& l, int64_t t) { return align(l, t, Source::Auto); }},
      {"pack", pack},
      {"align_then_pack", align_then_pack},
      {"align_pack_fused", align_pack_fused},
      {"unpack", unpack},
      {"create_mask", mask},
      {"get_attention_mask", attention_mask},
      {"loss_mse", [](const Lengths& l, int64_t t) { return loss(l, t, CriterionKind::MSE); }},
      {"loss_mae", [](const Lengths& l, int64_t t) { return loss(l, t, CriterionKind::MAE); }},
      {"loss_huber", [](const Lengths& l, int64_t t) { return loss(l, t, CriterionKind::Huber); }},
      {"loss_mape", [](const Lengths& l, int64_t t) { return loss(l, t, CriterionKind::MAPE); }},
      {"loss_smape", [](const Lengths& l, int64_t t) { return loss(l, t, CriterionKind::SMAPE); }},
      {"loss_quantile", [](const Lengths& l, int64_t t) { return loss(l, t, CriterionKind::Quantile); }},
      {"collate", [](const Lengths& l, int64_t t) { return collate_windows(l, t, Source::Right); }},
      {"collate_auto", [](const Lengths& l, int64_t t) { return collate_windows(l, t, Source::Auto); }},
  };
  return all;
}

}  // namespace

const std::vector<std::string>& primitive_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, make] : makers()) out.push_back(name);
    return out;
  }();
  return names;
}

std::function<at::Tensor()> make_primitive(const std::string& name, const std::vector<int64_t>& lengths,
                                           int64_t steps) {
  for (const auto& [known, make] : makers()) {
    if (known == name) return make(lengths, steps);
  }
  reject("arm what", "no primitive \"{}\"", name);
}

}  // namespace seqpack::perf
