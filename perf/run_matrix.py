"""Runs the benchmark matrix of a profile and writes its results: every point's arms in paired,
interleaved rounds (engine.py, over the C++ and Python workers), then the primitives (Google
Benchmark programs and the Python worker's primitives, in rounds too).

    python perf/run_matrix.py --profile quick|full --build build/release --out reports/<name>
        [--only step lstm_step forward grouping primitive] [--filter TEXT]

Writes <out>/results.csv: one row per arm (median it/s over the rounds with its 95% interval,
rounds, units per sample, preparation time, fill, memory) and one per ratio (estimate, 95%
interval, half-width, verdict); <out>/rounds.json, every round's seconds per step of every arm (what
the ratios are computed from); <out>/machine.json, the machine and its load before and after.
Progress goes to stderr: a line per point with how many are left and about how long.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import comparisons
import engine
import machine
import stats
from seqpack_paths import ROOT

KINDS = ("step", "lstm_step", "forward", "grouping", "primitive")
FIELDS = ["row", "kind", "what", "side", "mode", "base_side", "base_mode", "distribution", "batch", "steps", "status",
          "median_it_s", "it_s_low", "it_s_high", "ratio", "ratio_low", "ratio_high", "half_width_pct", "verdict",
          "rounds", "units_per_sample", "fill_ratio", "samples_per_s", "timesteps_per_s", "peak_memory_mib",
          "warmup_s", "device", "torch", "commit"]


def commit() -> str:
    result = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return result.stdout.strip() + ("+changes" if dirty else "")


def export_packages(python: str, models: list[str]) -> str:
    """The AOTInductor packages the forward points run (exported once, then cached): their folder."""
    print(f"[setup] exporting the compiled packages of {models} (cached after the first time)", file=sys.stderr,
          flush=True)
    result = subprocess.run([python, "-m", "seqpack_reference.compiled.export", "--cases",
                             str(ROOT / "conformance" / "cases"), "--perf", *models], cwd=ROOT / "reference",
                            check=True, stdout=subprocess.PIPE, text=True)
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
            "peak_memory_mib": result.peak_memory_mib, "warmup_s": result.prepare_s}


def ratio_row(kind, what, distribution, batch, steps, ratio: comparisons.Ratio, interval) -> dict:
    row = {"row": "ratio", "kind": kind, "what": what, "side": ratio.numerator.side, "mode": ratio.numerator.mode,
           "base_side": ratio.denominator.side, "base_mode": ratio.denominator.mode, "distribution": distribution,
           "batch": batch, "steps": steps}
    if interval is None:
        return {**row, "status": "not measured"}
    return {**row, "status": "ok", "ratio": interval.estimate, "ratio_low": interval.low, "ratio_high": interval.high,
            "half_width_pct": interval.half_width_pct, "verdict": interval.verdict, "rounds": interval.rounds}


def point_rows(result: engine.PointResult) -> list[dict]:
    p = result.point
    where = (p.kind, p.what, p.distribution, p.batch, p.encoder_steps)
    rows = [arm_row(*where, r.arm, r) for r in result.arms.values()]
    rows += [ratio_row(*where, ratio, result.ratios.get(ratio.label)) for ratio in p.ratios + [p.control_ratio]]
    return rows


# ------------------------------------------------------------------ primitives

def _program_round(program: Path, profile: str) -> dict[str, float]:
    """One pass of a Google Benchmark program (every benchmark once, in random order): name -> s/call."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        subprocess.run([str(program), f"--benchmark_out={out}", "--benchmark_out_format=json",
                        "--benchmark_repetitions=1", "--benchmark_format=json"], check=True,
                       stdout=subprocess.DEVNULL, env={**os.environ, "SEQPACK_PROFILE": profile})
        return {e["run_name"].rsplit("/min_time", 1)[0]: 1.0 / e["items_per_second"]
                for e in json.loads(out.read_text())["benchmarks"] if e.get("run_type") == "iteration"}


def primitive_rounds(build: Path, profile: str, settings: dict, workers: engine.Workers, rng, say) -> list[dict]:
    """Rounds over the primitives: each round runs each Google Benchmark program once and each Python
    primitive once, in random order; a ratio pairs its two sides' samples of the same round."""
    rounds_settings = settings["primitive_rounds"]
    distributions = [d["name"] for d in comparisons.read_distributions()]
    python_arms = {}
    for what, batches, steps in (("align_auto", "primitive_batch_sizes", "primitive_steps"),
                                 ("collate", "collate_batch_sizes", "collate_steps")):
        for d in distributions:
            for b in settings[batches]:
                for t in settings[steps]:
                    python_arms[f"primitive/{what}/python/{d}/{b}/{t}"] = {
                        "kind": "primitive", "what": what, "mode": "-", "distribution": d, "batch": b,
                        "encoder_steps": t, "decoder_steps": 0}
    units, info = {}, {}
    for name, spec in python_arms.items():
        reply = workers["python"].call({"op": "prepare", "id": name, "arm": spec}, 600)
        seconds = workers["python"].call({"op": "run", "id": name, "units": 1}, 600)["seconds"]
        units[name] = max(1, round(settings["primitive_min_time_s"] / max(seconds, 1e-9)))
        info[name] = reply
    series: dict[str, list[float]] = {}
    tasks = [("program", "primitives_bench"), ("program", "batching_bench"), ("python", None)]
    started, count, stopped = time.monotonic(), 0, "max rounds"
    ratios = {}
    while count < rounds_settings["max_rounds"]:
        round_started = time.monotonic()
        rng.shuffle(tasks)
        for task, program in tasks:
            if task == "program":
                for name, seconds in _program_round(build / "perf" / program, profile).items():
                    series.setdefault(name, []).append(seconds)
            else:
                for name in python_arms:
                    reply = workers["python"].call({"op": "run", "id": name, "units": units[name]}, 600)
                    series.setdefault(name, []).append(reply["seconds"] / units[name])
        count += 1
        ratios = _primitive_ratios(series)
        wide = max((i.half_width_pct if i else float("inf") for i in ratios.values()), default=0.0)
        spent, last = time.monotonic() - started, time.monotonic() - round_started
        say(f"[primitives] round {count}: widest ratio interval ±{wide:.1f}% "
            f"(target ±{rounds_settings['target_half_width_pct']:g}%), {spent:.0f} s of {rounds_settings['budget_s']}")
        if count >= rounds_settings["min_rounds"]:
            if wide <= rounds_settings["target_half_width_pct"]:
                stopped = "target"
                break
            if spent + last > rounds_settings["budget_s"]:
                stopped = "budget"
                break
    say(f"[primitives] {count} rounds ({stopped})")
    for name in python_arms:
        workers["python"].call({"op": "release", "id": name}, 60)
    rows = []
    for name, seconds in series.items():
        _, what, side, d, b, t = name.split("/")
        rate = stats.rate_interval(seconds)
        median = 1.0 / sorted(seconds)[len(seconds) // 2]
        rows.append({"row": "arm", "kind": "primitive", "what": what, "side": side, "mode": "-", "distribution": d,
                     "batch": int(b), "steps": int(t), "status": "ok", "median_it_s": median, "it_s_low": rate.low if rate else "",
                     "it_s_high": rate.high if rate else "", "rounds": len(seconds),
                     "units_per_sample": units.get(name, ""), "fill_ratio": info.get(name, {}).get("fill_ratio", ""),
                     "samples_per_s": median * int(b), "warmup_s": info.get(name, {}).get("prepare_s", "")})
    for (num, den), interval in ratios.items():
        _, what, side, d, b, t = num.split("/")
        _, base_what, base_side, *_ = den.split("/")
        ratio = comparisons.Ratio(comparisons.Arm(side, what), comparisons.Arm(base_side, base_what))
        rows.append(ratio_row("primitive", what, d, int(b), int(t), ratio, interval))
    return rows


def _primitive_ratios(series: dict[str, list[float]]) -> dict[tuple[str, str], stats.Interval | None]:
    out = {}
    for name in series:
        _, what, side, d, b, t = name.split("/")
        for (num_side, num_what), (den_side, den_what) in comparisons.PRIMITIVE_RATIOS:
            if (side, what) == (num_side, num_what):
                base = f"primitive/{den_what}/{den_side}/{d}/{b}/{t}"
                if base in series:
                    out[name, base] = stats.ratio_interval(series[name], series[base])
    return out


# ------------------------------------------------------------------ main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="+", choices=KINDS, default=list(KINDS), help="the kinds of point to measure")
    parser.add_argument("--filter", default="", help="only points whose name contains this text")
    parser.add_argument("--seed", type=int, default=None, help="the seed of the rounds' order (default: random)")
    args = parser.parse_args(argv)
    settings = comparisons.load_profile(args.profile)
    args.out.mkdir(parents=True, exist_ok=True)
    revision = commit()  # taken before the run: what was built and measured
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    points = [p for p in comparisons.points(settings) if p.kind in args.only and args.filter in p.name]
    print(f"[setup] {len(points)} points; checking the machine", file=sys.stderr, flush=True)
    before = machine.snapshot()
    forward_models = sorted({p.what for p in points if p.kind == "forward"})
    extra_env = {"SEQPACK_AOTI_DIR": export_packages(sys.executable, forward_models)} if forward_models else {}
    workers = engine.Workers(args.build, sys.executable, args.out / "logs", args.profile, extra_env)
    progress = engine.Progress(points)
    rows, rounds = [], {}
    try:
        for point in points:
            progress.start(point)
            result = engine.measure(point, workers, engine.EngineSettings.from_profile(settings), rng, progress.say)
            progress.finish(result)
            rows += point_rows(result)
            rounds[point.name] = {"stopped": result.stopped, "arms": {label: a.seconds_per_step
                                                                      for label, a in result.arms.items()}}
        if "primitive" in args.only and settings.get("primitive_rounds") and not args.filter:
            rows += primitive_rounds(args.build, args.profile, settings, workers, rng, progress.say)
        threads = {side: workers.info(side)["threads"] for side in ("cpp", "python")}
        torch_version = workers.info("python")["torch"]
    finally:
        workers.close()
    after = machine.snapshot()
    device = machine.describe()
    with open(args.out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "device": device, "torch": torch_version, "commit": revision})
    (args.out / "rounds.json").write_text(json.dumps({"seed": seed, "points": rounds}) + "\n")
    (args.out / "machine.json").write_text(json.dumps(
        {**machine.record(threads), "profile": args.profile, "commit": revision, "torch": torch_version,
         "engine": settings.get("engine", {}), "before": before, "after": after,
         "warnings": machine.shared_warnings(before, after)}, indent=1) + "\n")
    print(f"results: {len(rows)} rows in {args.out / 'results.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
