#pragma once
// The device a benchmark arm runs on: parsing `--device` / an arm's "device", timing that
// waits for the device's queued work (CUDA events on CUDA, the steady clock on the CPU), what the
// device is (machine.json, the worker's "info") and its peak memory. The Python twin is
// reference/seqpack_reference/perf/device.py, with the same messages.
#include <c10/core/Device.h>
#include <c10/core/Event.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "seqpack/device_names.h"  // parse_device: device names, one parser for every program

namespace seqpack::perf {

// "cpu", "cuda:0": what results.csv and the arm spec hold.
std::string device_label(c10::Device device);

// Waits for the work queued on the device (the current stream); nothing on the CPU.
void synchronize(c10::Device device);

// Seconds between start() and stop_seconds() of the device's work: on CUDA two events recorded on
// the current stream (read after synchronising), on the CPU the steady clock.
class DeviceTimer {
 public:
  explicit DeviceTimer(c10::Device device);
  void start();
  double stop_seconds();

 private:
  c10::Device device_;
  std::optional<c10::Event> start_event_, stop_event_;
  std::chrono::steady_clock::time_point start_time_;
};

// {"device": "cpu"}, or on CUDA {"device": "cuda:N", "name", "memory_mib", "driver", "cuda", "cudnn",
// "capability"}; what the C++ side cannot ask generically is "unknown" (the coordinator's machine.json
// comes from the Python twin, which knows them all).
nlohmann::json describe_device(c10::Device device);

// The caching allocator's peak allocated bytes on the device since the reset, in MiB; 0 on the CPU
// (the CPU's peak is the process's resident set, bench_support.h's peak_memory_mib).
void reset_peak_device_memory(c10::Device device);
double peak_device_memory_mib(c10::Device device);

}  // namespace seqpack::perf
