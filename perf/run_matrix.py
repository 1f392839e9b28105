"""Runs the benchmark matrix of a profile and writes its results: every point's arms (comparisons.py)
in paired, interleaved rounds (engine.py, over the C++ and the Python worker).

    python perf/run_matrix.py --profile quick|full --build build/release --out reports/<name>
        [--only step lstm_step forward grouping primitive] [--filter TEXT] [--device auto|cpu|cuda[:N]]

--device (default auto: cuda:0 when a GPU is present, else cpu) is resolved here, once, before any
worker starts; asking for CUDA on a machine without a GPU fails at once in one line.

Writes <out>/results.csv: one row per arm (median it/s over the rounds; it_s_low / it_s_high, the 95%
interval of their geometric mean,
rounds, units per sample, preparation time, fill, memory) and one per ratio (estimate, 95%
interval, half-width, verdict, launches and the interval's degrees of freedom); every row also has
its point's re-run stalled rounds, the other work on the machine meanwhile (foreign_cpus) and what
disturbed it (disturbed; empty when nothing did); <out>/rounds.json, every round's seconds per step
of every arm and the launch it ran in (what the ratios are computed from); <out>/machine.json, the machine, its accelerator (the device's
description: GPU name, memory, driver, CUDA, cuDNN) and its load before and after.
Progress goes to stderr: a line per point with how many are left and about how long.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import comparisons
import data_parallel
import engine
import machine
import stats
import variance_levels
from seqpack_paths import ROOT
from seqpack_reference.perf import device as devices

KINDS = comparisons.KINDS
FIELDS = ["row", "kind", "what", "side", "mode", "base_side", "base_mode", "distribution", "batch", "steps", "status",
          "median_it_s", "it_s_low", "it_s_high", "ratio", "ratio_low", "ratio_high", "half_width_pct", "verdict",
          "rounds", "units_per_sample", "fill_ratio", "samples_per_s", "timesteps_per_s", "peak_rss_mib",
          "unit_peak_mib", "held_mib",
          "warmup_s", "ranks", "base_ranks", "rank_fill_ratio",
          *[f"{m}{end}" for m in data_parallel.METRICS for end in ("", "_low", "_high")], "precision",
          "base_precision", "peak_device_memory_mib", "device", "launches", "df", "treated_rounds", "foreign_cpus",
          "disturbed", "machine", "torch", "commit"]


def commit() -> str:
    result = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return result.stdout.strip() + ("+changes" if dirty else "")


def export_packages(python: str, models: list[str], log: Path) -> str:
    """The AOTInductor packages the forward points run (exported once, then cached): their folder."""
    print(f"[setup] exporting the compiled packages of {models} (cached after the first time)", file=sys.stderr,
          flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as errors:
        result = subprocess.run([python, "-m", "seqpack_reference.compiled.export", "--cases",
                                 str(ROOT / "conformance" / "cases"), "--perf", *models], cwd=ROOT / "reference",
                                stdout=subprocess.PIPE, stderr=errors, text=True)
    if result.returncode != 0:
        raise SystemExit(f"exporting the compiled packages failed (log: {log})")
    return result.stdout.strip().splitlines()[-1]


def arm_row(kind, what, distribution, batch, steps, arm: comparisons.Arm, result: engine.ArmResult) -> dict:
    rate = stats.rate_interval(result.seconds_per_step) if result.status == "ok" else None
    median = 1.0 / sorted(result.seconds_per_step)[len(result.seconds_per_step) // 2] if rate else 0.0
    return {"row": "arm", "kind": kind, "what": what, "side": arm.side, "mode": arm.mode, "distribution": distribution,
            "batch": batch, "steps": steps, "status": result.status, "median_it_s": median,
            "it_s_low": rate.low if rate else "", "it_s_high": rate.high if rate else "",
            "rounds": len(result.seconds_per_step), "units_per_sample": result.units, "fill_ratio": result.fill_ratio,
            "samples_per_s": median * result.samples / result.steps_per_unit,
            "timesteps_per_s": median * result.timesteps / result.steps_per_unit,
            "peak_rss_mib": result.peak_memory_mib, "warmup_s": result.prepare_s,
            "unit_peak_mib": "" if result.unit_peak_mib is None else result.unit_peak_mib,
            "held_mib": "" if result.held_mib is None else result.held_mib,
            "precision": arm.precision, "peak_device_memory_mib": result.peak_device_memory_mib,
            **data_parallel_columns(arm, result)}


def data_parallel_columns(arm: comparisons.Arm, result: engine.ArmResult) -> dict:
    """A data-parallel arm's rank count, each rank's fill and its shares (data_parallel.py) with their
    95% intervals over the rounds."""
    if not arm.ranks:
        return {}
    row = {"ranks": arm.ranks, "rank_fill_ratio": " ".join(f"{f:.4f}" for f in result.rank_fill_ratio)}
    for name in data_parallel.METRICS:
        interval = stats.mean_interval(result.metrics.get(name, []))
        if interval:
            row.update({name: interval.estimate, f"{name}_low": interval.low, f"{name}_high": interval.high})
    return row


def ratio_row(kind, what, distribution, batch, steps, ratio: comparisons.Ratio, interval) -> dict:
    row = {"row": "ratio", "kind": kind, "what": what, "side": ratio.numerator.side, "mode": ratio.numerator.mode,
           "base_side": ratio.denominator.side, "base_mode": ratio.denominator.mode, "distribution": distribution,
           "batch": batch, "steps": steps, "ranks": ratio.numerator.ranks or "", "base_ranks": ratio.denominator.ranks or "",
           "precision": ratio.numerator.precision,
           "base_precision": ratio.denominator.precision}
    if interval is None:
        return {**row, "status": "not measured"}
    return {**row, "status": "ok", "ratio": interval.estimate, "ratio_low": interval.low, "ratio_high": interval.high,
            "half_width_pct": interval.half_width_pct, "verdict": interval.verdict, "rounds": interval.rounds,
            "launches": interval.launches, "df": interval.df}


def point_rows(result: engine.PointResult) -> list[dict]:
    p = result.point
    where = (p.kind, p.what, p.distribution, p.batch, p.encoder_steps)
    rows = [arm_row(*where, r.arm, r) for r in result.arms.values()]
    rows += [ratio_row(*where, ratio, result.ratios.get(ratio.label)) for ratio in p.ratios + [p.control_ratio]]
    # Every row of the point says how it was measured and what disturbed it.
    point = {"device": p.device, "treated_rounds": result.treated_rounds, "foreign_cpus": round(result.foreign_cpus, 3),
             "disturbed": "; ".join(result.disturbances)}  # primitives and data parallel stay on the CPU
    return [{"launches": result.launches, **row, **point} for row in rows]


def point_record(result: engine.PointResult) -> dict:
    """rounds.json's entry: every round's seconds per step of every arm, the launch each round ran in,
    and how the point went."""
    return {"stopped": result.stopped, "launch": result.launch_of_round, "treated_rounds": result.treated_rounds,
            "foreign_cpus": round(result.foreign_cpus, 3), "disturbances": result.disturbances,
            "relaunch_s": round(result.relaunch_s, 3), "round_s": round(result.round_s, 3),
            "arms": {label: a.seconds_per_step for label, a in result.arms.items()}}


# ------------------------------------------------------------------ main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="+", choices=KINDS, default=list(KINDS), help="the kinds of point to measure")
    parser.add_argument("--filter", default="", help="only points whose name contains this text")
    parser.add_argument("--seed", type=int, default=None, help="the seed of the rounds' order (default: random)")
    parser.add_argument("--device", default="auto", help="auto (a GPU when present), cpu, cuda or cuda:N")
    args = parser.parse_args(argv)
    try:  # before anything starts: a GPU asked for and absent is one line, at once
        device = devices.device_label(devices.parse_device(args.device, "--device"))
    except devices.DeviceError as error:
        raise SystemExit(f"run_matrix.py: {error}")
    settings = comparisons.load_profile(args.profile, device)
    args.out.mkdir(parents=True, exist_ok=True)
    revision = commit()  # taken before the run: what was built and measured
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    points = [p for p in comparisons.points(settings, device=device) if p.kind in args.only and args.filter in p.name]
    print(f"[setup] {len(points)} points on {device}; checking the machine", file=sys.stderr, flush=True)
    promise = variance_levels.plan(points, settings)
    if promise:
        print(promise, file=sys.stderr, flush=True)
    before = machine.snapshot()
    # The AOTInductor packages of the LSTM family's forward points (export --perf): the C++ compiled arm
    # runs them, and the eager C++ arms load their weights.
    forward_models = sorted({p.what for p in points if p.kind == "forward" and comparisons.model_family(p.what) == "lstm"})
    export_log = args.out / "logs" / "export.log"
    extra_env = {}
    if forward_models:
        extra_env["SEQPACK_AOTI_DIR"] = export_packages(sys.executable, forward_models, export_log)
    workers = engine.Workers(args.build, sys.executable, args.out / "logs", args.profile, extra_env,
                             settings.get("data_parallel_threads_per_rank", 1))
    progress = engine.Progress(points)
    rows, rounds = {}, {}  # by the point's index: written in the order points are declared
    host = machine.describe()

    def write_results():  # after every point, so that an interrupted run keeps what it measured
        torch_version = workers.info("python")["torch"]
        with open(args.out / "results.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            for index in sorted(rows):
                for row in rows[index]:
                    writer.writerow({**row, "machine": host, "torch": torch_version, "commit": revision})
        records = {points[i].name: rounds[i] for i in sorted(rounds)}
        (args.out / "rounds.json").write_text(json.dumps({"seed": seed, "points": records}) + "\n")

    def finished(index, result):
        rows[index] = point_rows(result)
        rounds[index] = point_record(result)
        write_results()

    try:
        engine_settings = engine.EngineSettings.from_profile(settings)
        measurements = [engine.PointMeasurement(p, workers, engine_settings, rng, progress.say) for p in points]
        engine.measure_in_passes(measurements, rng, progress, finished)
        threads = {side: workers.info(side)["threads"] for side in ("cpp", "python")
                   if workers[side].process is not None}  # the single workers that ran
        torch_version = workers.info("python")["torch"]
    finally:
        workers.close()
    after = machine.snapshot()
    (args.out / "machine.json").write_text(json.dumps(
        {**machine.record(threads), "accelerator": devices.describe_device(devices.parse_device(device)),
         "profile": args.profile, "commit": revision, "torch": torch_version,
         "data_parallel_threads_per_rank": settings.get("data_parallel_threads_per_rank", 1),
         "engine": settings.get("engine", {}), "before": before, "after": after,
         "warnings": machine.shared_warnings(before, after)}, indent=1) + "\n")
    print(f"results: {sum(len(r) for r in rows.values())} rows in {args.out / 'results.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
