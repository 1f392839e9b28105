#include "device.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <fmt/format.h>
#include <torch/cuda.h>

#include "seqpack/errors.h"

namespace seqpack::perf {

std::string device_label(c10::Device device) {
  if (device.is_cpu()) return "cpu";
  return fmt::format("{}:{}", c10::DeviceTypeName(device.type(), true), device.has_index() ? device.index() : 0);
}

namespace {
c10::Device indexed(c10::Device device) {
  return device.has_index() ? device : c10::Device(device.type(), 0);
}
}  // namespace

void synchronize(c10::Device device) {
  if (device.is_cpu()) return;
  c10::impl::getDeviceGuardImpl(device.type())->synchronizeDevice(indexed(device).index());
}

DeviceTimer::DeviceTimer(c10::Device device) : device_(indexed(device)) {
  if (!device_.is_cpu()) {
    // BACKEND_DEFAULT: events that record time (PyTorch's default disables timing on CUDA).
    start_event_.emplace(device_.type(), c10::EventFlag::BACKEND_DEFAULT);
    stop_event_.emplace(device_.type(), c10::EventFlag::BACKEND_DEFAULT);
  }
}

void DeviceTimer::start() {
  if (device_.is_cpu()) {
    start_time_ = std::chrono::steady_clock::now();
    return;
  }
  start_event_->record(c10::impl::getDeviceGuardImpl(device_.type())->getStream(device_));
}

double DeviceTimer::stop_seconds() {
  if (device_.is_cpu()) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count();
  }
  stop_event_->record(c10::impl::getDeviceGuardImpl(device_.type())->getStream(device_));
  synchronize(device_);
  return start_event_->elapsedTime(*stop_event_) / 1000.0;  // elapsedTime is in milliseconds
}

nlohmann::json describe_device(c10::Device device) {
  nlohmann::json description = {{"device", device_label(device)}};
  if (!device.is_cuda()) return description;
  const auto& hooks = at::detail::getCUDAHooks();
  const auto total_bytes = c10::getDeviceAllocator(c10::kCUDA)->getMemoryInfo(indexed(device).index()).second;
  description["memory_mib"] = static_cast<int64_t>(total_bytes >> 20);
  const long cuda = hooks.versionCUDART();  // e.g. 13000 = 13.0
  description["cuda"] = fmt::format("{}.{}", cuda / 1000, (cuda % 1000) / 10);
  description["cudnn"] = hooks.compiledWithCuDNN() ? std::to_string(hooks.versionCuDNN()) : "unknown";
  // No device-generic API gives these; the Python twin's description (machine.json) has them.
  description["name"] = "unknown";
  description["driver"] = "unknown";
  description["capability"] = "unknown";
  return description;
}

void reset_peak_device_memory(c10::Device device) {
  if (device.is_cpu()) return;
  c10::getDeviceAllocator(device.type())->resetPeakStats(indexed(device).index());
}

double peak_device_memory_mib(c10::Device device) {
  if (device.is_cpu()) return 0.0;
  const auto stats = c10::getDeviceAllocator(device.type())->getDeviceStats(indexed(device).index());
  const auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
  return static_cast<double>(stats.allocated_bytes[aggregate].peak) / (1024.0 * 1024.0);
}

}  // namespace seqpack::perf
