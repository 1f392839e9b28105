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


# ------------------------------------------------------------------ load beside the workers

BUSY_FOREIGN_CPUS = 0.3  # CPUs' worth of work not ours, averaged over a point: the machine is shared


def _busy_cpu_seconds() -> float:
    """Seconds every CPU spent on anything but idling and waiting on I/O, since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    # guest time is already inside user and nice; steal is a CPU the hypervisor gave to someone else
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float:
    """CPU seconds of process `root`, its reaped children, and every live descendant with theirs."""
    ticks = os.sysconf("SC_CLK_TCK")
    parent, used = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone between the listing and the read
            continue
        fields = text[text.rindex(")") + 2:].split()
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        used[pid] = sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    ours = {root}
    grew = True
    while grew:  # descendants: processes whose parent is ours (the tree is small)
        grew = False
        for pid, ppid in parent.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                grew = True
    return sum(used.get(pid, 0.0) for pid in ours)


class LoadMeter:
    """How much CPU other work took while a point was measured: the machine's busy time minus that of
    this process tree (the engine and its workers, reaped ones included), per second of wall time.
    A process that came and went inside the window counts too, which a look at the processes before and
    after (busy_processes) misses: a compiler job is hundreds of them."""

    def __init__(self):
        self.started = time.monotonic()
        self.busy0, self.ours0 = _busy_cpu_seconds(), _tree_cpu_seconds(os.getpid())

    def foreign_cpus(self) -> float:
        wall = time.monotonic() - self.started
        if wall <= 0:
            return 0.0
        busy, ours = _busy_cpu_seconds() - self.busy0, _tree_cpu_seconds(os.getpid()) - self.ours0
        return max(0.0, (busy - ours) / wall)
