// The C++ worker of the comparison engine (perf/engine.py). It lives as long as a run, holds the
// arms it was asked to build, and answers one JSON line per request line on stdin:
//   {"op": "info", "device": D}             -> {"ok": true, "side": "cpp", "threads": N, "pid": P, "torch": V,
//                                               "device": describe_device(D)}  (D optional, default "cpu")
//   {"op": "prepare", "id": I, "arm": {..}, "memory": M}
//                                           -> {"ok": true, "prepare_s": S, "fill_ratio": F, "samples": B,
//                                               "timesteps": N, "steps_per_unit": U}  (built and warmed up)
//                                              with M true, on the CPU, also "unit_peak_mib" (allocation_probe.h:
//                                              the peak one unit allocates above what was live before it)
//                                              and "held_mib" (parameters and optimizer state)
//   {"op": "run", "id": I, "units": K}      -> {"ok": true, "seconds": S, "peak_memory_mib": M,
//                                               "peak_device_memory_mib": G}  (G: 0 on the CPU)
//   {"op": "release", "id": I}              -> {"ok": true}
// A run is timed on the arm's device ("device" in the arm, default "cpu"): CUDA events after
// synchronising, so that the queued kernels are counted. A request that fails answers {"ok": false, "error": "..."} and leaves the worker running. The
// Python worker (reference/seqpack_reference/perf/worker.py) speaks the same protocol.
#include <torch/version.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "allocation_probe.h"
#include "bench_support.h"
#include "device.h"
#include "workloads.h"

namespace seqpack::perf {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kMiB = 1024.0 * 1024.0;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

struct PreparedArm {
  Workload workload;
  c10::Device device;
};

// The request's device ("cpu" when absent), refused in one line when it is not on this machine.
c10::Device requested_device(const nlohmann::json& holder, std::string_view argument) {
  return parse_device(holder.value("device", std::string("cpu")), argument, /*allow_auto=*/true);
}

nlohmann::json answer(std::map<std::string, PreparedArm>& arms, const nlohmann::json& request) {
  const auto op = request.at("op").get<std::string>();
  if (op == "info") {
    return {{"ok", true}, {"side", "cpp"}, {"threads", at::get_num_threads()}, {"pid", ::getpid()},
            {"torch", TORCH_VERSION}, {"device", describe_device(requested_device(request, "device"))}};
  }
  if (op != "prepare" && op != "run" && op != "release") return {{"ok", false}, {"error", "no op \"" + op + "\""}};
  const auto id = request.at("id").get<std::string>();
  if (op == "prepare") {
    const auto device = requested_device(request.at("arm"), "device");
    const auto start = Clock::now();
    auto workload = make_workload(arm_from_json(request.at("arm")));
    synchronize(device);
    const auto prepare_s = seconds_since(start);
    arms.insert_or_assign(id, PreparedArm{workload, device});
    nlohmann::json reply = {{"ok", true}, {"prepare_s", prepare_s}, {"fill_ratio", workload.fill_ratio},
                            {"samples", workload.samples}, {"timesteps", workload.timesteps},
                            {"steps_per_unit", workload.steps_per_unit}};
    if (request.value("memory", false) && device.is_cpu()) {
      reply["unit_peak_mib"] = static_cast<double>(unit_peak_bytes(workload.run)) / kMiB;
      reply["held_mib"] = static_cast<double>(workload.held_bytes) / kMiB;
    }
    return reply;
  }
  const auto arm = arms.find(id);
  if (arm == arms.end()) return {{"ok", false}, {"error", "no prepared arm \"" + id + "\""}};
  if (op == "run") {
    const auto units = request.at("units").get<int64_t>();
    if (units < 1) return {{"ok", false}, {"error", "units must be at least 1"}};
    const auto device = arm->second.device;
    synchronize(device);  // nothing queued before the run is counted in it
    reset_peak_memory();
    reset_peak_device_memory(device);
    DeviceTimer timer(device);
    timer.start();
    arm->second.workload.run(units);
    const auto seconds = timer.stop_seconds();
    return {{"ok", true}, {"seconds", seconds}, {"peak_memory_mib", peak_memory_mib()},
            {"peak_device_memory_mib", peak_device_memory_mib(device)}};
  }
  arms.erase(arm);  // release
  return {{"ok", true}};
}

int serve() {
  // The protocol gets its own descriptor; fd 1 (anything a library prints) goes to the log, so that
  // nothing else can land between the replies.
  FILE* out = ::fdopen(::dup(1), "w");
  if (out == nullptr || ::dup2(2, 1) < 0) return 1;
  std::map<std::string, PreparedArm> arms;
  std::string line;
  while (std::getline(std::cin, line)) {
    nlohmann::json reply;
    try {
      reply = answer(arms, nlohmann::json::parse(line));
    } catch (const c10::Error& error) {  // PyTorch's message without its backtrace, one line
      reply = {{"ok", false}, {"error", first_line(error.what_without_backtrace())}};
    } catch (const std::exception& error) {
      reply = {{"ok", false}, {"error", first_line(error.what())}};
    }
    std::fputs((reply.dump() + "\n").c_str(), out);
    std::fflush(out);  // the coordinator waits for this line
  }
  return 0;
}

}  // namespace
}  // namespace seqpack::perf

int main() { return seqpack::perf::serve(); }
