"""The machine in the record: what it is, and how busy it was before and after a run.

A report measured on a machine that other work was using says so (report.py warns); the paired
rounds cancel much of such load from the ratios, but not from the it/s."""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

BUSY_SHARE = 0.2  # of one CPU: a process using more, not ours, is other work on the machine


def describe() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def governor() -> str:
    path = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    try:
        return path.read_text().strip()
    except OSError:
        return "not readable"


def _cpu_times() -> dict[int, tuple[str, float]]:
    """pid -> (command, user + system seconds so far)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[int(stat.parent.name)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return out


def busy_processes(window_s: float = 1.0) -> list[dict]:
    """Processes (not this one) that used more than BUSY_SHARE of a CPU over the window, busiest first."""
    exclude = {os.getpid()}
    before = _cpu_times()
    time.sleep(window_s)
    after = _cpu_times()
    busy = []
    for pid, (name, used) in after.items():
        if pid in exclude or pid not in before:
            continue
        share = (used - before[pid][1]) / window_s
        if share > BUSY_SHARE:
            busy.append({"pid": pid, "command": name, "cpu_share": round(share, 2)})
    return sorted(busy, key=lambda p: -p["cpu_share"])


def snapshot() -> dict:
    return {"time": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_average": list(os.getloadavg()),
            "busy_processes": busy_processes()}


def record(threads: dict[str, int]) -> dict:
    """What does not change during a run."""
    return {"device": describe(), "logical_cpus": os.cpu_count(), "governor": governor(), "threads": threads}


def shared_warnings(before: dict, after: dict) -> list[str]:
    """Why the machine looked shared, if it did: load before the run, or other busy processes."""
    warnings = []
    cpus = os.cpu_count() or 1
    if before["load_average"][0] > 0.5 * cpus:
        warnings.append(f"the 1-minute load average was {before['load_average'][0]:.2f} on {cpus} CPUs before the run")
    for moment, snap in (("before", before), ("after", after)):
        for p in snap["busy_processes"]:
            share = 100 * p["cpu_share"]
            warnings.append(f"{p['command']} (pid {p['pid']}) used {share:.0f}% of a CPU {moment} the run")
    return warnings
