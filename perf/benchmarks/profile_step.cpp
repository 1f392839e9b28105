// Where a training step's time goes, by op and by the padding-free path's stages: builds a step arm
// and the padded arm at the same point (perf/lib/workloads.h), times them in alternating rounds for
// orientation (the paired intervals come from perf/run_matrix.py), then records a few steps of the
// arm with PyTorch's profiler into a Chrome trace that perf/profile_summary.py reads.
//
//   build/release/perf/profile_step transformer_lstm heavy_tailed 64 padding_free /tmp/step.json [DEVICE [PRECISION]]
//
// DEVICE: cpu (default) or cuda[:N]; PRECISION: float32 (default), bfloat16 or float16 (autocast).
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "device.h"
#include "workloads.h"

namespace {

double median_seconds(seqpack::perf::Workload& workload, c10::Device device, std::vector<double>& samples,
                      int64_t units) {
  seqpack::perf::synchronize(device);  // a GPU's queued kernels belong to the units that queued them
  const auto start = std::chrono::steady_clock::now();
  workload.run(units);
  seqpack::perf::synchronize(device);
  samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / units);
  auto sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  return sorted[sorted.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6 || argc > 8) {
    std::fprintf(stderr, "usage: %s MODEL DISTRIBUTION BATCH PATH TRACE.json [DEVICE [PRECISION]]\n", argv[0]);
    return 2;
  }
  seqpack::perf::ArmSpec arm;
  try {
    arm = seqpack::perf::arm_from_json({{"kind", "step"}, {"what", argv[1]}, {"mode", argv[4]},
                                        {"distribution", argv[2]}, {"batch", std::stoll(argv[3])},
                                        {"encoder_steps", 64}, {"decoder_steps", 16},
                                        {"device", argc > 6 ? argv[6] : "cpu"},
                                        {"precision", argc > 7 ? argv[7] : "float32"}});
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 2;
  }
  auto padded_arm = arm;
  padded_arm.mode = "padded";
  auto workload = seqpack::perf::make_workload(arm);
  auto padded = seqpack::perf::make_workload(padded_arm);
  std::vector<double> mine, theirs;
  double mine_s = 0, padded_s = 0;
  for (int round = 0; round < 9; ++round) {
    mine_s = median_seconds(workload, arm.device, mine, 3);
    padded_s = median_seconds(padded, arm.device, theirs, 3);
  }
  std::printf("%s %s B = %lld: %s %.2f ms, padded %.2f ms (medians of 9 alternating rounds), fill %.3f, "
              "efficiency %.2f\n",
              argv[1], argv[2], static_cast<long long>(arm.batch), argv[4], mine_s * 1e3, padded_s * 1e3,
              workload.fill_ratio, mine_s / (workload.fill_ratio * padded_s));
  {
    torch::autograd::profiler::RecordProfile profile(argv[5]);
    workload.run(5);
  }
  std::printf("trace of 5 steps: %s\n", argv[5]);
  return 0;
}
