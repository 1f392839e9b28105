"""Data-parallel arms (docs/data-parallel.md): how a group of ranks is started, and what its per-step,
per-rank times say.

A data-parallel arm runs in a worker group: torchrun starts one process per rank (the C++ worker
perf/worker/ddp_worker.cpp or the Python one seqpack_reference.perf.ddp_worker), rank 0 speaks the
engine's protocol for all of them. Each run answers every rank's times per step: compute (the step's
start to the rank's last gradient bucket ready), wait (then to the averaged gradients) and step (the
whole step, optimiser included). From them, per round:

- straggler_waste: the share of rank-time spent waiting for a slower rank's compute,
  sum over steps and ranks of (slowest rank's compute - this rank's compute) / sum of step times;
- wait_share: the share of rank-time spent in the all-reduce (that wait plus the transfer);
- compute_share: the share spent computing.
"""
from __future__ import annotations

import re
from pathlib import Path

from seqpack_paths import ROOT

METRICS = ("straggler_waste", "wait_share", "compute_share")


def launcher(side: str, ranks: int, build: Path, python: str) -> tuple[list[str], Path]:
    """The command that starts a group of `ranks` processes on this host, and its working folder. On
    several hosts, run the same worker under torchrun with its usual --nnodes/--node-rank/--rdzv-* flags
    (docs/data-parallel.md)."""
    run = [python, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks)]
    if side == "cpp":
        return run + ["--no-python", str(build.resolve() / "perf" / "ddp_worker")], ROOT
    if side == "python":
        return run + ["-m", "seqpack_reference.perf.ddp_worker"], ROOT / "reference"
    raise ValueError(f"no data-parallel worker for side {side!r}")


def metrics(rank_timings: list[dict]) -> dict[str, float]:
    """The round's shares from every rank's per-step times (rank_timings[r][name][s])."""
    steps = len(rank_timings[0]["step"])
    if any(len(t[name]) != steps for t in rank_timings for name in ("compute", "wait", "step")):
        raise ValueError("rank_timings: every rank must time the same steps")
    total = sum(sum(t["step"]) for t in rank_timings)
    if total <= 0:
        raise ValueError("rank_timings: steps took no time")
    waste = 0.0
    for s in range(steps):
        slowest = max(t["compute"][s] for t in rank_timings)
        waste += sum(slowest - t["compute"][s] for t in rank_timings)
    return {"straggler_waste": waste / total,
            "wait_share": sum(sum(t["wait"]) for t in rank_timings) / total,
            "compute_share": sum(sum(t["compute"]) for t in rank_timings) / total}


def why_the_group_stopped(log: Path) -> str:
    """torchrun's root cause of a group that died (its report at the end of the log), in one line."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    cause = text.rsplit("Root Cause", 1)[-1] if "Root Cause" in text else ""
    rank = re.search(r"rank\s*:\s*(\d+)", cause)
    code = re.search(r"exitcode\s*:\s*(-?\d+)", cause)
    if not rank or not code:
        return ""
    return f"rank {rank.group(1)} exited with status {code.group(1)}, and torchrun stopped the others"
