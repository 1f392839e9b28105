"""The regression gate: compares this build with the committed baselines under perf/baselines/ and
exits 1 on any change beyond its margin, in either direction (an improvement asks for the baseline
to be updated, so that the next regression is measured from it).

    python perf/gate.py check  [--only instructions|ratios] [--build build/release]
    python perf/gate.py update [--only instructions|ratios] [--build build/release]

Two kinds of gate:
- instructions: valgrind's callgrind counts the instructions of each primitive and of one training
  step of each LSTM-family model at a fixed small size (perf/gate/instruction_counts.cpp, one
  thread). Deterministic, so the margins are tight.
- ratios: packed / padded, segmented / padded and stepwise / padded it/s of the C++ TransformerLSTM
  step for each length distribution (packed by PyTorch's LSTM or by seqpack's segmented or stepwise
  one), and
  C++ / Python (padded, eager), measured side by side in one run: 9 rounds, each running the C++
  program and then the Python harness once. A ratio fails only when a Mann-Whitney U test (two-sided, as
  Google Benchmark's compare.py) finds the repetitions differ from the baseline's (p < 0.05) and
  the medians differ by more than the margin.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from scipy.stats import mannwhitneyu

from run_matrix import commit, device_description  # the same stamp as the reports

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ROOT / "perf" / "baselines"
ALPHA = 0.05
REPETITIONS = 9
# Margins, in percent. Instruction counts repeat exactly run to run, but a rebuild that moves code
# shifts a small workload's count by up to ~1.2% (seen on create_mask after an unrelated change);
# 2% stays above that and below an extra copy of the data.
INSTRUCTION_MARGIN = {"default": 2.0}
RATIO_MARGIN = 20.0  # a shared 2-core machine: ratios of medians move by ~5-15% between runs
GATE_MODEL, GATE_BATCH = "transformer_lstm", 16


def margin_for(name: str) -> float:
    return next((m for prefix, m in INSTRUCTION_MARGIN.items() if prefix != "default" and name.startswith(prefix)),
                INSTRUCTION_MARGIN["default"])


# ------------------------------------------------------------------ measuring

def instruction_counts(build: Path) -> dict[str, int]:
    """Instructions (Ir) of each workload's measured call, from one callgrind run."""
    program = build / "perf" / "instruction_counts"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        print(f"gate: counting instructions under callgrind ({program.name}; a few minutes)", file=sys.stderr,
              flush=True)
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
                        str(program)], check=True, capture_output=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        counts = {}
        for part in Path(tmp).glob("callgrind.out.*"):
            text = part.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.M)
            summary = re.search(r"^totals: (\d+)", text, re.M) or re.search(r"^summary: (\d+)", text, re.M)
            if trigger and summary:
                counts[trigger.group(1)] = int(summary.group(1))
    if not counts:
        raise SystemExit("gate: callgrind wrote no counts (is valgrind installed?)")
    return dict(sorted(counts.items()))


def _cpp_round(build: Path, tmp: Path) -> dict[tuple[str, str], float]:
    """(path, distribution) -> it/s, C++ padded and packed, one repetition each."""
    out = tmp / "steps.json"
    subprocess.run([str(build / "perf" / "training_step_bench"), f"--benchmark_out={out}",
                    "--benchmark_out_format=json", f"--benchmark_filter=step/{GATE_MODEL}/cpp/.*/{GATE_BATCH}/",
                    "--benchmark_format=json"], check=True, capture_output=True,
                   env=dict(os.environ, SEQPACK_PROFILE="gate"))
    rates = {}
    for entry in json.loads(out.read_text())["benchmarks"]:
        if entry.get("run_type") == "iteration":
            _, _, _, path, distribution, *_ = entry["run_name"].split("/")
            rates[path, distribution] = entry["items_per_second"]
    return rates


def _python_round(python: str, tmp: Path) -> dict[str, float]:
    """distribution -> it/s, Python padded eager, one repetition each."""
    out = tmp / "python.json"
    subprocess.run([python, "-m", "seqpack_reference.perf.harness", "--profile", "gate", "--out", str(out),
                    "--filter", f"step/{GATE_MODEL}/python/padded_eager/"], cwd=ROOT / "reference", check=True,
                   capture_output=True)
    return {r["distribution"]: r["rates"][0] for r in json.loads(out.read_text())["records"] if r["status"] == "ok"}


def ratio_samples(build: Path, python: str) -> dict[str, list[float]]:
    """Each gated ratio as REPETITIONS samples. A repetition is one round: the C++ program, then the
    Python harness, back to back, so that each ratio's two sides see the same machine state (run
    one after the other as wholes, C++/Python moved by up to 30% between runs here)."""
    ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_index in range(REPETITIONS):
            print(f"gate: measuring ratios, round {round_index + 1}/{REPETITIONS}", file=sys.stderr, flush=True)
            cpp, py = _cpp_round(build, Path(tmp)), _python_round(python, Path(tmp))
            for (path, distribution), padded in sorted(cpp.items()):
                if path != "padded":
                    continue
                for packed_path in ("packed", "segmented", "stepwise"):
                    if (packed_path, distribution) in cpp:
                        ratios.setdefault(f"{packed_path}/padded {distribution}", []).append(
                            cpp[packed_path, distribution] / padded)
                if distribution in py:
                    ratios.setdefault(f"C++/Python padded {distribution}", []).append(padded / py[distribution])
    return ratios


# ------------------------------------------------------------------ comparing

def verdict(change_pct: float, margin: float, significant: bool = True) -> str:
    if not significant or abs(change_pct) <= margin:
        return "ok"
    return "REGRESSION" if change_pct > 0 else "IMPROVED (update the baseline)"


def compare_instructions(baseline: dict, now: dict[str, int]) -> list[list[str]]:
    rows = []
    for name in sorted(set(baseline["counts"]) | set(now)):
        base, value = baseline["counts"].get(name), now.get(name)
        if base is None or value is None:
            rows.append([name, str(base or "—"), str(value or "—"), "—", "—", "MISSING (update the baseline)"])
            continue
        change = 100.0 * (value - base) / base
        margin = baseline["margins"].get(name, margin_for(name))
        rows.append([name, f"{base:,}", f"{value:,}", f"{change:+.2f}%", f"±{margin:.1f}%", verdict(change, margin)])
    return rows


def compare_ratios(baseline: dict, now: dict[str, list[float]]) -> list[list[str]]:
    rows = []
    for name in sorted(set(baseline["ratios"]) | set(now)):
        base, value = baseline["ratios"].get(name), now.get(name)
        if not base or not value:
            rows.append([name, "—", "—", "—", "—", "MISSING (update the baseline)"])
            continue
        b, v = statistics.median(base), statistics.median(value)
        change = 100.0 * (v - b) / b
        p = mannwhitneyu(base, value, alternative="two-sided").pvalue
        # A lower ratio is the regression for packed/padded, segmented/padded and C++/Python alike.
        word = verdict(-change, baseline["margin_pct"], p < ALPHA)
        rows.append([name, f"{b:.3f}", f"{v:.3f}", f"{change:+.1f}% (p={p:.3f})", f"±{baseline['margin_pct']:.0f}%",
                     word])
    return rows


def print_table(title: str, rows: list[list[str]]) -> None:
    header = ["what", "baseline", "now", "change", "margin", "verdict"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())


# ------------------------------------------------------------------ commands

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "update"])
    parser.add_argument("--only", choices=["instructions", "ratios"])
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    args = parser.parse_args(argv)
    kinds = [args.only] if args.only else ["instructions", "ratios"]
    stamp = {"machine": device_description(), "commit": commit(), "torch": _torch_version()}
    failed = False
    for kind in kinds:
        path = BASELINES / f"{kind}.json"
        now = instruction_counts(args.build) if kind == "instructions" else ratio_samples(args.build, sys.executable)
        if args.command == "update":
            record = {**stamp, "counts": now, "margins": {n: margin_for(n) for n in now}} if kind == "instructions" \
                else {**stamp, "repetitions": REPETITIONS, "margin_pct": RATIO_MARGIN, "ratios": now}
            BASELINES.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=1) + "\n")
            print(f"gate: wrote {path.relative_to(ROOT)} ({len(now)} entries; {stamp['machine']}, commit "
                  f"{stamp['commit']})")
            continue
        if not path.exists():
            raise SystemExit(f"gate: no baseline {path}; make one with: python perf/gate.py update --only {kind}")
        baseline = json.loads(path.read_text())
        rows = compare_instructions(baseline, now) if kind == "instructions" else compare_ratios(baseline, now)
        print_table(f"{kind} (baseline: commit {baseline['commit']}, {baseline['machine']})", rows)
        failed |= any(r[-1] != "ok" for r in rows)
    if args.command == "check":
        print("\ngate: " + ("FAILED: a change beyond its margin (table above)" if failed else "passed"))
    return 1 if failed else 0


def _torch_version() -> str:
    try:
        import torch
        return torch.__version__
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
