#pragma once
// The one parser of device names ("cpu", "cuda", "cuda:N") for every C++ program of the suite:
// the conformance runner's SEQPACK_DEVICE and the benchmark workers' --device and arm devices.
// The syntax is c10::Device's; only the CPU and CUDA devices that exist here are accepted.
#include <c10/core/Device.h>

#include <string_view>

namespace seqpack {

// "cpu", "cuda" (device 0) or "cuda:N"; with allow_auto also "auto" (the first GPU when there is
// one, else the CPU). Throws InvalidArgument naming `argument` for any other text, or for a CUDA
// device this machine does not have.
c10::Device parse_device(std::string_view text, std::string_view argument, bool allow_auto = false);

}  // namespace seqpack
