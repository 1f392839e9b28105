"""perf/distributions.csv read in Python, giving the same lengths as perf/lib/length_distributions.cpp:
row i takes the quantile (i + 0.5) / B, rounded half up and clamped to [1, T], then the rows are
shuffled by the same 64-bit LCG."""
from __future__ import annotations

import csv
import math
from pathlib import Path

KINDS = {"equal", "uniform", "linspace", "bimodal", "pareto"}
MASK64 = (1 << 64) - 1


def read_distributions(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["kind"] not in KINDS:
            raise ValueError(f"{path}: distribution {row['name']} has an unknown kind {row['kind']!r}")
        row["param1"], row["param2"] = float(row["param1"]), float(row["param2"])
    return rows


def _unrounded(d, row, batch, steps):
    t, u = float(steps), (row + 0.5) / batch
    kind = d["kind"]
    if kind == "equal":
        return t
    if kind == "uniform":
        return (d["param1"] + (d["param2"] - d["param1"]) * u) * t
    if kind == "linspace":
        return t if batch == 1 else 1.0 + (t - 1.0) * row / (batch - 1)
    if kind == "bimodal":
        return (d["param1"] if u < d["param2"] else 1.0) * t
    return d["param1"] * math.pow(1.0 - u, -1.0 / d["param2"]) * t


def batch_lengths(d: dict, batch: int, steps: int, seed: int = 0) -> list[int]:
    lengths = [min(max(int(min(math.floor(_unrounded(d, i, batch, steps) + 0.5), steps)), 1), steps)
               for i in range(batch)]
    state = (seed * 2654435761 + 12345) & MASK64
    for i in range(batch - 1, 0, -1):
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK64
        j = (state >> 33) % (i + 1)
        lengths[i], lengths[j] = lengths[j], lengths[i]
    return lengths


def fill_ratio(lengths: list[int], steps: int) -> float:
    return sum(lengths) / (steps * len(lengths))
