"""How a paired ratio's noise grows with the time between its two samples: two instances of one arm
(A and its twin B) in one worker, sampled in pairs (A B or B A, at random) back to back, and the sd of
ln(A_i / B_(i+k)) for pairs k apart. If the machine's speed drifted only between rounds, every lag
would show the same sd; it grows with k when the drift is faster than a round.

    python perf/pairing_distance.py [--workload 0] [--side cpp] [--mode padded] [--pairs 150]

The arm is one of the gate's workloads (profiles.json "gate"), its sample as long as the gate's.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
from pathlib import Path

import comparisons
import engine
from seqpack_paths import ROOT

LAGS = (0, 1, 2, 4, 8, 16, 32)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", type=int, default=0, help="which of the gate's workloads (0: TransformerLSTM)")
    parser.add_argument("--side", choices=("cpp", "python"), default="cpp")
    parser.add_argument("--mode", default="padded")
    parser.add_argument("--pairs", type=int, default=150)
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    args = parser.parse_args(argv)
    point = comparisons.gate_points(comparisons.load_profile("gate"))[args.workload]
    arm = comparisons.Arm(args.side, args.mode)
    with tempfile.TemporaryDirectory() as logs:
        workers = engine.Workers(args.build, sys.executable, Path(logs), "gate")
        try:
            worker = workers[args.side]
            worker.ensure_started()
            for name in ("a", "b"):
                worker.call({"op": "prepare", "id": name, "arm": point.arm_spec(arm), "timeout_s": 300,
                             "memory": False}, 400)
            units = max(1, math.ceil(point.sample_s / worker.call({"op": "run", "id": "a", "units": 1}, 120)["seconds"]))
            logs_of = {"a": [], "b": []}
            for _ in range(args.pairs):
                for name in random.sample(["a", "b"], 2):
                    logs_of[name].append(math.log(worker.call({"op": "run", "id": name, "units": units}, 120)["seconds"]))
        finally:
            workers.close()
    a, b = logs_of["a"], logs_of["b"]
    print(f"{arm.label} at {point.name}: {args.pairs} pairs of samples of {units} units ({point.sample_s} s)")
    print("| pairs k apart | sd of ln(A_i / B_i+k), % |\n|---|---|")
    for k in LAGS:
        if k < len(a) - 2:
            print(f"| {k} | {100 * statistics.stdev([a[i] - b[i + k] for i in range(len(a) - k)]):.1f} |")
    print(f"| (A alone) | {100 * statistics.stdev(a):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
