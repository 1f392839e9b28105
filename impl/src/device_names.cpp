#include "seqpack/device_names.h"

#include <torch/cuda.h>

#include <optional>
#include <string>

#include "seqpack/errors.h"

namespace seqpack {

c10::Device parse_device(std::string_view text, std::string_view argument, bool allow_auto) {
  if (allow_auto && text == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  std::optional<c10::Device> device;
  try {
    device = c10::Device(std::string(text));
  } catch (const c10::Error&) {  // its own message is long; the rule below says it in one line
  }
  const bool known = device && ((device->is_cpu() && !device->has_index()) || device->is_cuda());
  if (!known) {
    reject(argument, "must be {}cpu, cuda or cuda:N, not \"{}\"", allow_auto ? "auto, " : "", printable(text, 40));
  }
  if (device->is_cpu()) return *device;
  if (!torch::cuda::is_available()) {
    reject(argument, "\"{}\" asked for, but this machine has no CUDA GPU (torch::cuda::is_available() is false)",
           printable(text, 40));
  }
  const int index = device->has_index() ? device->index() : 0;
  if (index >= torch::cuda::device_count()) {
    reject(argument, "\"{}\" asked for, but this machine has {} CUDA device(s)", printable(text, 40),
           torch::cuda::device_count());
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace seqpack
