"""The device a benchmark arm runs on, the twin of perf/lib/device.h with the same
messages: parsing --device / an arm's "device", timing that waits for the device's queued work (CUDA
events on CUDA, perf_counter on the CPU), what the device is (machine.json, the worker's "info") and
its peak memory."""
from __future__ import annotations

import re
import time

import torch


class DeviceError(ValueError):
    """A device that cannot be parsed or is not on this machine; the message is one line."""


def parse_device(text: str, argument: str = "device") -> torch.device:
    """"auto" (cuda:0 when a GPU is present, else cpu), "cpu", "cuda" (= "cuda:0") or "cuda:N"."""
    if text == "auto":
        return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    match = re.fullmatch(r"cuda(?::(\d{1,3}))?", text)
    if match is None:
        raise DeviceError(f'{argument}: must be auto, cpu, cuda or cuda:N, not "{text}"')
    if not torch.cuda.is_available():
        raise DeviceError(f'{argument}: "{text}" asked for, but this machine has no CUDA GPU '
                          "(torch::cuda::is_available() is false)")
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise DeviceError(f'{argument}: "{text}" asked for, but this machine has '
                          f"{torch.cuda.device_count()} CUDA device(s)")
    return torch.device("cuda", index)


def device_label(device: torch.device) -> str:
    """"cpu", "cuda:0"."""
    return "cpu" if device.type == "cpu" else f"{device.type}:{device.index or 0}"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class DeviceTimer:
    """Seconds between start() and stop_seconds(): CUDA events on the current stream, read after
    synchronising, on CUDA; perf_counter on the CPU."""

    def __init__(self, device: torch.device):
        self.device = device
        self.events = None
        if device.type == "cuda":
            self.events = (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))

    def start(self) -> None:
        if self.events:
            self.events[0].record(torch.cuda.current_stream(self.device))
        else:
            self.started = time.perf_counter()

    def stop_seconds(self) -> float:
        if not self.events:
            return time.perf_counter() - self.started
        self.events[1].record(torch.cuda.current_stream(self.device))
        synchronize(self.device)
        return self.events[0].elapsed_time(self.events[1]) / 1000.0


def _driver_version() -> str:
    try:  # pynvml is optional; the driver is only informative
        import pynvml
        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception:
        return "unknown"


def describe_device(device: torch.device) -> dict:
    """{"device": "cpu"}, or on CUDA the GPU's name, memory, driver, CUDA, cuDNN and capability."""
    if device.type != "cuda":
        return {"device": device_label(device)}
    properties = torch.cuda.get_device_properties(device)
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {"device": device_label(device), "name": properties.name,
            "memory_mib": round(properties.total_memory / 2**20),
            "driver": _driver_version(), "cuda": torch.version.cuda or "unknown",
            "cudnn": str(cudnn) if cudnn else "unknown",
            "capability": f"{properties.major}.{properties.minor}"}


def reset_peak_device_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_device_memory_mib(device: torch.device) -> float:
    """The caching allocator's peak allocated bytes since the reset, in MiB; 0 on the CPU."""
    if device.type != "cuda":
        return 0.0
    return torch.cuda.max_memory_allocated(device) / 2**20
