"""The Python worker of the comparison engine (perf/engine.py), the twin of perf/worker/perf_worker.cpp:
one JSON line in, one JSON line out, for as long as the run lasts.

    {"op": "info", "device": D}                        -> {"ok": true, "side": "python", "threads", "pid", "torch",
                                                           "device": describe_device(D)}  (D optional, "cpu")
    {"op": "prepare", "id": I, "arm": {..}, "timeout_s": S}
                                                       -> {"ok": true, "prepare_s", "fill_ratio", "samples",
                                                           "timesteps", "steps_per_unit"}  (built, warmed up)
                                                          with "memory": true, on the CPU, also "unit_peak_mib"
                                                          (allocation_probe.py) and "held_mib"
    {"op": "run", "id": I, "units": K}                 -> {"ok": true, "seconds", "peak_memory_mib",
                                                           "peak_device_memory_mib"}  (0 on the CPU)
    {"op": "release", "id": I}                         -> {"ok": true}

A run is timed on the arm's device (its "device", default "cpu"): CUDA events after synchronising.
A failed request answers {"ok": false, "error": "..."}; the worker goes on. A mode whose preparation
timed out (a compilation that does not end) fails at once afterwards instead of timing out again."""
from __future__ import annotations

import json
import os
import signal
import sys
import time

import torch

from .device import DeviceTimer, describe_device, parse_device, peak_device_memory_mib, reset_peak_device_memory, \
    synchronize
from .allocation_probe import unit_peak_bytes
from .workloads import PERF_DIR, Workloads, peak_memory_mib, reset_peak_memory

MIB = 1024 * 1024


class _TimedOut(Exception):
    pass


def _within(seconds, work):
    """work(), or _TimedOut after `seconds` (the compiler may wrap our exception in its own)."""
    expired = []

    def expire(signum, frame):
        expired.append(True)
        raise _TimedOut(f"gave up after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, int(seconds)))
    try:
        return work()
    except Exception as error:
        if expired:
            raise _TimedOut(f"gave up after {seconds} s") from error
        raise
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Worker:
    def __init__(self):
        self.workloads = Workloads(json.loads((PERF_DIR / "profiles.json").read_text())["model"])
        self.arms, self.timed_out = {}, {}
        self.devices = {}  # arm id -> the device it runs on

    def answer(self, request: dict) -> dict:
        op = request["op"]
        if op == "info":
            return {"ok": True, "side": "python", "threads": torch.get_num_threads(), "pid": os.getpid(),
                    "torch": torch.__version__,
                    "device": describe_device(parse_device(request.get("device", "cpu")))}
        if op not in ("prepare", "run", "release"):
            return {"ok": False, "error": f"no op {op!r}"}
        arm_id = request["id"]
        if op == "prepare":
            arm = request["arm"]
            device = parse_device(arm.get("device", "cpu"))
            mode_key = (arm["kind"], arm["what"], arm["mode"])
            if mode_key in self.timed_out:
                raise self.timed_out[mode_key]
            start = time.perf_counter()
            try:
                workload = _within(request.get("timeout_s", 600), lambda: self.workloads.make(arm))
            except _TimedOut as error:
                self.timed_out[mode_key] = error
                raise
            synchronize(device)
            self.arms[arm_id], self.devices[arm_id] = workload, device
            reply = {"ok": True, "prepare_s": time.perf_counter() - start, "fill_ratio": workload.fill_ratio,
                     "samples": workload.samples, "timesteps": workload.timesteps,
                     "steps_per_unit": workload.steps_per_unit}
            if request.get("memory") and device.type == "cpu":
                reply["unit_peak_mib"] = unit_peak_bytes(workload.run) / MIB
                reply["held_mib"] = workload.held_bytes / MIB
            return reply
        if arm_id not in self.arms:
            return {"ok": False, "error": f"no prepared arm {arm_id!r}"}
        if op == "run":
            units = int(request["units"])
            if units < 1:
                return {"ok": False, "error": "units must be at least 1"}
            device = self.devices[arm_id]
            synchronize(device)  # nothing queued before the run is counted in it
            reset_peak_memory()
            reset_peak_device_memory(device)
            timer = DeviceTimer(device)
            timer.start()
            self.arms[arm_id].run(units)
            return {"ok": True, "seconds": timer.stop_seconds(), "peak_memory_mib": peak_memory_mib(),
                    "peak_device_memory_mib": peak_device_memory_mib(device)}
        del self.arms[arm_id], self.devices[arm_id]  # release
        return {"ok": True}


def main() -> int:
    worker = Worker()
    # The protocol gets its own descriptor; fd 1 (Python's prints, C code's, subprocesses') goes to
    # the log, so that nothing else can land between the replies.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        try:
            reply = worker.answer(json.loads(line))
        except Exception as error:  # a failing arm is a result; the worker stays up
            message = (str(error).splitlines() or [""])[0][:300]
            reply = {"ok": False, "error": f"{type(error).__name__}: {message}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
