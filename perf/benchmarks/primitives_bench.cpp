// The primitives alone, over the profile's batch sizes, T and every length distribution:
// alignment (explicit and auto source), pack, align-then-pack against fused align-and-pack, unpack,
// the masks, and each loss (forward and backward, masked by the batch's lengths). Names: primitive/<op>/cpp/<distribution>/<B>/<T>.
#include <fmt/format.h>

#include "bench_support.h"
#include "seqpack/calc_loss.h"
#include "seqpack/masks.h"
#include "seqpack/sequence.h"

namespace seqpack::perf {
namespace {

constexpr int64_t kFeatures = 8;

struct Point {
  std::vector<int64_t> lengths;
  int64_t steps;
};

using Primitive = void (*)(benchmark::State&, const Point&);

void align_explicit(benchmark::State& state, const Point& p) {
  const auto x = left_aligned_batch(p.lengths, p.steps, kFeatures);
  const auto lengths = at::tensor(p.lengths);
  const auto options = AlignOptions(Source::Left).alignment(Alignment::Right);
  for (auto _ : state) benchmark::DoNotOptimize(align_encoder_sequences(x, lengths, options));
}

void align_auto(benchmark::State& state, const Point& p) {
  const auto x = left_aligned_batch(p.lengths, p.steps, kFeatures);
  const auto lengths = at::tensor(p.lengths);
  const auto options = AlignOptions(Source::Auto).alignment(Alignment::Right);
  for (auto _ : state) benchmark::DoNotOptimize(align_encoder_sequences(x, lengths, options));
}

void pack(benchmark::State& state, const Point& p) {
  const auto x = left_aligned_batch(p.lengths, p.steps, kFeatures);
  const auto lengths = at::tensor(p.lengths);
  for (auto _ : state) benchmark::DoNotOptimize(pack_decoder_sequences(x, lengths).data());
}

// A right-aligned encoder packed for an LSTM: aligned to the left, then packed (two gathers and an
// aligned copy in between), against pack_encoder_sequences, which fuses the two into one gather.
at::Tensor right_aligned_encoder(const Point& p) {
  return align_encoder_sequences(left_aligned_batch(p.lengths, p.steps, kFeatures), at::tensor(p.lengths),
                                 AlignOptions(Source::Left).alignment(Alignment::Right));
}

void align_then_pack(benchmark::State& state, const Point& p) {
  const auto x = right_aligned_encoder(p);
  const auto lengths = at::tensor(p.lengths);
  const auto to_left = AlignOptions(Source::Right).alignment(Alignment::Left);
  for (auto _ : state) {
    benchmark::DoNotOptimize(pack_decoder_sequences(align_encoder_sequences(x, lengths, to_left), lengths).data());
  }
}

void align_pack_fused(benchmark::State& state, const Point& p) {
  const auto x = right_aligned_encoder(p);
  const auto lengths = at::tensor(p.lengths);
  const auto options = PackEncoderOptions(Source::Right);
  for (auto _ : state) benchmark::DoNotOptimize(pack_encoder_sequences(x, lengths, options).data());
}

void unpack(benchmark::State& state, const Point& p) {
  const auto packed = pack_decoder_sequences(left_aligned_batch(p.lengths, p.steps, kFeatures), at::tensor(p.lengths));
  const auto options = UnpackOptions().total_length(p.steps);
  for (auto _ : state) benchmark::DoNotOptimize(std::get<0>(unpack_to_fixed_length(packed, options)));
}

void mask(benchmark::State& state, const Point& p) {
  const auto lengths = at::tensor(p.lengths);
  for (auto _ : state) benchmark::DoNotOptimize(create_mask(p.steps, lengths));
}

void attention_mask(benchmark::State& state, const Point& p) {
  const auto lengths = at::tensor(p.lengths);
  for (auto _ : state) benchmark::DoNotOptimize(get_attention_mask(lengths, lengths, p.steps, p.steps));
}

template <CriterionKind kind>
void loss(benchmark::State& state, const Point& p) {
  const int64_t outputs = kind == CriterionKind::Quantile ? 7 : 1;
  const auto batch = static_cast<int64_t>(p.lengths.size());
  const auto y = at::randn({batch, p.steps, outputs}).requires_grad_(true);
  const auto target = at::randn({batch, p.steps, 1}) + 3.0;  // away from 0 for MAPE
  const auto lengths = at::tensor(p.lengths);
  const auto criterion = Criterion().kind(kind);
  for (auto _ : state) {
    const auto value = calc_loss(y, target, lengths, criterion);
    value.backward();
    benchmark::DoNotOptimize(y.grad().data_ptr());
  }
}

const std::vector<std::pair<std::string, Primitive>> kPrimitives{
    {"align_explicit", align_explicit},
    {"align_auto", align_auto},
    {"pack", pack},
    {"align_then_pack", align_then_pack},
    {"align_pack_fused", align_pack_fused},
    {"unpack", unpack},
    {"create_mask", mask},
    {"get_attention_mask", attention_mask},
    {"loss_mse", loss<CriterionKind::MSE>},
    {"loss_mae", loss<CriterionKind::MAE>},
    {"loss_huber", loss<CriterionKind::Huber>},
    {"loss_mape", loss<CriterionKind::MAPE>},
    {"loss_smape", loss<CriterionKind::SMAPE>},
    {"loss_quantile", loss<CriterionKind::Quantile>},
};

void register_all() {
  const auto& settings = profile().settings;
  for (const auto& [op, run] : kPrimitives) {
    for (const auto& distribution : profile().distributions) {
      for (const int64_t batch : settings.at("primitive_batch_sizes")) {
        for (const int64_t steps : settings.at("primitive_steps")) {
          const Point point{batch_lengths(distribution, batch, steps), steps};
          const auto name = fmt::format("primitive/{}/cpp/{}/{}/{}", op, distribution.name, batch, steps);
          with_profile(benchmark::RegisterBenchmark(name.c_str(),
                                                    [run, point](benchmark::State& state) {
                                                      reset_peak_memory();
                                                      run(state, point);
                                                      set_counters(state, point.lengths, point.steps);
                                                    }),
                       "primitive");
        }
      }
    }
  }
}

}  // namespace
}  // namespace seqpack::perf

int main(int argc, char** argv) { return seqpack::perf::run_benchmarks(argc, argv, seqpack::perf::register_all); }
