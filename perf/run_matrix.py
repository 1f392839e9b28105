"""Runs the benchmark matrix, C++ and Python sides, and merges them into one results table.

    python perf/run_matrix.py --profile quick|full --build build/release --out reports/<name>
        [--skip-python] [--skip-cpp] [--programs batching_bench ...] [--python-filter TEXT]

Writes <out>/results.csv (one row per model or primitive x side x mode x batch size x distribution
x T: median it/s, spread, repetitions, device, torch version, commit) and the raw outputs of
both sides beside it. Progress goes to stderr: which point, how many are left.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ("primitives_bench", "training_step_bench", "lstm_step_bench", "batching_bench", "forward_bench")
FIELDS = ["kind", "what", "side", "mode", "distribution", "batch", "steps", "status", "median_it_s", "spread_pct",
          "repetitions", "samples_per_s", "timesteps_per_s", "fill_ratio", "peak_memory_mib", "warmup_s", "device",
          "torch", "commit"]
AGGREGATES = ("_mean", "_median", "_stddev", "_cv")


def device_description() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def commit() -> str:
    result = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return result.stdout.strip() + ("+changes" if dirty else "")


def spread_pct(rates) -> float:
    """(max - min) / median of the repetitions, in percent."""
    return 100.0 * (max(rates) - min(rates)) / statistics.median(rates) if rates else 0.0


def export_packages(python: str, profile: str) -> str:
    """The AOTInductor packages forward_bench runs (exported once, then cached): their folder."""
    models = json.loads((ROOT / "perf" / "profiles.json").read_text())[profile].get("forward_models", [])
    print(f"[cpp] exporting the compiled packages of {models} (cached after the first time)", file=sys.stderr,
          flush=True)
    result = subprocess.run([python, "-m", "seqpack_reference.compiled.export", "--cases",
                             str(ROOT / "conformance" / "cases"), "--perf", *models], cwd=ROOT / "reference",
                            check=True, stdout=subprocess.PIPE, text=True)
    return result.stdout.strip().splitlines()[-1]


def run_cpp(program: Path, profile: str, out: Path, extra_env=None) -> None:
    """Runs one Google Benchmark program, writing its JSON to `out`, with a progress line every ~5% of its runs."""
    env = dict(os.environ, SEQPACK_PROFILE=profile, **(extra_env or {}))
    listing = subprocess.run([str(program), "--benchmark_list_tests"], env=env, capture_output=True, text=True,
                             check=True).stdout.split()
    print(f"[cpp] {program.name}: {len(listing)} benchmarks", file=sys.stderr, flush=True)
    process = subprocess.Popen([str(program), f"--benchmark_out={out}", "--benchmark_out_format=json",
                                "--benchmark_format=console", "--benchmark_color=false"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Progress counts repetitions; with interleaving (bench_support.cpp) a benchmark's lines come
    # together once its last repetition has run, in random order.
    repetitions = json.loads((ROOT / "perf" / "profiles.json").read_text())[profile].get("repetitions") or 1
    runs = max(len(listing) * repetitions, 1)
    done, shown = 0, -1
    for line in process.stdout:
        words = line.split()
        if words and "/min_time" in words[0] and not words[0].endswith(AGGREGATES):
            done += 1
            if 20 * done // runs > shown:  # about every 5%
                shown = 20 * done // runs
                print(f"[cpp {done}/{runs} runs] {words[0].rsplit('/min_time', 1)[0]}", file=sys.stderr, flush=True)
    if process.wait() != 0:
        raise SystemExit(f"{program} failed")


def cpp_rows(out: Path) -> list[dict]:
    """One row per benchmark of a Google Benchmark JSON file, from its repetitions."""
    runs: dict[str, list[dict]] = {}
    # In registration order: interleaved repetitions come out in random order.
    entries = sorted((e for e in json.loads(out.read_text())["benchmarks"] if e.get("run_type") == "iteration"),
                     key=lambda e: (e.get("family_index", 0), e.get("per_family_instance_index", 0)))
    for entry in entries:
        runs.setdefault(entry["run_name"].rsplit("/min_time", 1)[0], []).append(entry)
    rows = []
    for name, reps in runs.items():
        kind, what, side, *rest = name.split("/")
        mode, distribution, batch, steps = rest if kind in ("step", "lstm_step", "grouping", "forward") else ["-", *rest]
        rates = [r["items_per_second"] for r in reps]
        rows.append({"kind": kind, "what": what, "side": side, "mode": mode, "distribution": distribution,
                     "batch": int(batch), "steps": int(steps), "status": "ok",
                     "median_it_s": statistics.median(rates), "spread_pct": spread_pct(rates),
                     "repetitions": len(rates),
                     "samples_per_s": statistics.median(r["samples_per_second"] for r in reps),
                     "timesteps_per_s": statistics.median(r["timesteps_per_second"] for r in reps),
                     "fill_ratio": reps[0]["fill_ratio"], "peak_memory_mib": max(r["peak_memory_mib"] for r in reps),
                     "warmup_s": 0.0})
    return rows


def run_python(python: str, profile: str, out: Path, name_filter: str = "") -> None:
    subprocess.run([python, "-m", "seqpack_reference.perf.harness", "--profile", profile, "--out", str(out.resolve()),
                    "--filter", name_filter], cwd=ROOT / "reference", check=True)


def python_rows(out: Path) -> tuple[list[dict], str]:
    """One row per point of the Python harness's JSON file, and its torch version."""
    data = json.loads(out.read_text())
    rows = []
    for r in data["records"]:
        rates = r.get("rates", [])
        median = statistics.median(rates) if rates else 0.0
        rows.append({"kind": r["kind"], "what": r["what"], "side": "python", "mode": r["mode"],
                     "distribution": r["distribution"], "batch": r["batch"], "steps": r["steps"],
                     "status": r["status"], "median_it_s": median, "spread_pct": spread_pct(rates),
                     "repetitions": len(rates), "samples_per_s": median * r.get("samples", 0),
                     "timesteps_per_s": median * r.get("timesteps", 0), "fill_ratio": r.get("fill_ratio", 0.0),
                     "peak_memory_mib": r.get("peak_memory_mib", 0.0), "warmup_s": r.get("warmup_s", 0.0)})
    return rows, data["torch"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--skip-python", action="store_true")
    parser.add_argument("--skip-cpp", action="store_true")
    parser.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=PROGRAMS,
                        help="the C++ benchmark programs to run (default: all)")
    parser.add_argument("--python-filter", default="", help="only Python points whose name contains this text")
    parser.add_argument("--commit", help="the commit the raw outputs were measured at (with --from-raw)")
    parser.add_argument("--from-raw", action="store_true",
                        help="run nothing: rebuild results.csv from the raw outputs already in --out")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    revision = args.commit or commit()  # taken before the run: what was built and measured
    rows, torch_version = [], "?"
    for program in PROGRAMS:
        raw = args.out / f"{program}.json"
        if not args.skip_cpp and not args.from_raw and program in args.programs:
            extra_env = {"SEQPACK_AOTI_DIR": export_packages(sys.executable, args.profile)} \
                if program == "forward_bench" else None
            run_cpp(args.build / "perf" / program, args.profile, raw, extra_env)
        if raw.exists() and not args.skip_cpp:
            rows += cpp_rows(raw)
    raw = args.out / "python.json"
    if not args.skip_python and not args.from_raw:
        run_python(sys.executable, args.profile, raw, args.python_filter)
    if raw.exists() and not args.skip_python:
        more, torch_version = python_rows(raw)
        rows += more
    device = device_description()
    with open(args.out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "device": device, "torch": torch_version, "commit": revision})
    (args.out / "machine.txt").write_text(f"{device}\nprofile {args.profile}\ncommit {revision}\n")
    print(f"results: {len(rows)} rows in {args.out / 'results.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
