"""The regression gate: compares this build with the committed baselines under perf/baselines/ and
exits 1 on a change beyond its margin.

    python perf/gate.py check  [--only instructions|ratios] [--build build/release]
    python perf/gate.py update [--only instructions|ratios] [--build build/release]

Two kinds of gate:
- instructions: valgrind's callgrind counts the instructions of each primitive and of one training
  step of each LSTM-family model at a fixed small size (perf/gate/instruction_counts.cpp, one
  thread). Deterministic, so the margins are tight and the gate is two-sided: an improvement fails
  too, asking for the baseline to be updated so that the next regression is measured from it.
- ratios: packed / padded, segmented / padded and stepwise / padded it/s of the C++ TransformerLSTM
  step for each length distribution (packed by PyTorch's LSTM or by seqpack's segmented or stepwise
  one), and C++ / Python (padded, eager), measured side by side in one run: 9 rounds, each running
  the C++ program and then the Python harness once. Times on a shared machine are noisy (the
  interquartile range of a ratio's repetitions reached ~50% of their median here), so only a
  regression fails, and only when it is beyond the margin, significant in a Mann-Whitney U test
  (two-sided, as Google Benchmark's compare.py) after Holm's correction for testing every ratio at
  once (family-wise ALPHA), and seen again in a second, independent set of rounds. An improvement is
  reported, not failed.
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
RATIO_MARGIN = 20.0  # a shared 2-core machine: a ratio's median moved by up to 27% between baselines
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
    """A change in percent, positive meaning worse."""
    if not significant or abs(change_pct) <= margin:
        return "ok"
    return "REGRESSION" if change_pct > 0 else "IMPROVED (update the baseline)"


def holm_significant(p_values: dict[str, float], alpha: float = ALPHA) -> set[str]:
    """The names whose p-value stays below alpha under Holm's step-down correction, which keeps the
    chance of any false alarm among all of them at alpha (20 independent ratios at p < 0.05 each
    would raise one in up to 64% of the runs of an unchanged build)."""
    significant = set()
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    for rank, (name, p) in enumerate(ordered):
        if p >= alpha / (len(ordered) - rank):
            break
        significant.add(name)
    return significant


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
    """One row per ratio. A lower ratio is the regression for every gated ratio (packed/padded,
    segmented/padded, stepwise/padded, C++/Python: all it/s over it/s). Improvements are noted,
    never failed: one noisy run cannot be trusted to move a baseline."""
    margin = baseline["margin_pct"]
    rows, changes, p_values = {}, {}, {}
    for name in sorted(set(baseline["ratios"]) | set(now)):
        base, value = baseline["ratios"].get(name), now.get(name)
        if not base or not value:
            rows[name] = [name, "—", "—", "—", "—", "MISSING (update the baseline)"]
            continue
        b, v = statistics.median(base), statistics.median(value)
        changes[name] = 100.0 * (v - b) / b
        p_values[name] = mannwhitneyu(base, value, alternative="two-sided").pvalue
        rows[name] = [name, f"{b:.3f}", f"{v:.3f}", f"{changes[name]:+.1f}% (p={p_values[name]:.3f})", f"±{margin:.0f}%"]
    significant = holm_significant(p_values)
    for name, change in changes.items():
        word = verdict(-change, margin, name in significant)
        rows[name].append("improved (not failed; update the baseline if it holds)" if word.startswith("IMPROVED")
                          else word)
    return [rows[name] for name in sorted(rows)]


def failing(rows: list[list[str]]) -> set[str]:
    return {r[0] for r in rows if r[-1] == "REGRESSION" or r[-1].startswith(("IMPROVED", "MISSING"))}


def print_table(title: str, rows: list[list[str]]) -> None:
    header = ["what", "baseline", "now", "change", "margin", "verdict"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())


# ------------------------------------------------------------------ commands

def check(kind: str, baseline: dict, measure) -> set[str]:
    """The names that fail against the baseline, printing the tables. measure() gives one fresh set
    of measurements; a flagged ratio is measured again and fails only if it fails twice: a busy spell
    on a shared machine can shift a whole set of rounds, but seldom lasts through both."""
    compare = compare_instructions if kind == "instructions" else compare_ratios
    rows = compare(baseline, measure())
    print_table(f"{kind} (baseline: commit {baseline['commit']}, {baseline['machine']})", rows)
    flagged = failing(rows)
    if flagged and kind == "ratios":
        print(f"\ngate: {len(flagged)} ratio(s) flagged; measuring {REPETITIONS} fresh rounds to confirm",
              file=sys.stderr, flush=True)
        again = compare(baseline, measure())
        print_table(f"{kind}, confirmation rounds (only the flagged ratios can fail)", again)
        flagged &= failing(again)
    return flagged


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
        measure = (lambda: instruction_counts(args.build)) if kind == "instructions" \
            else (lambda: ratio_samples(args.build, sys.executable))
        if args.command == "check":
            if not path.exists():
                raise SystemExit(f"gate: no baseline {path}; make one with: python perf/gate.py update --only {kind}")
            failed |= bool(check(kind, json.loads(path.read_text()), measure))
            continue
        now = measure()
        record = {**stamp, "counts": now, "margins": {n: margin_for(n) for n in now}} if kind == "instructions" \
            else {**stamp, "repetitions": REPETITIONS, "margin_pct": RATIO_MARGIN, "ratios": now}
        BASELINES.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
        print(f"gate: wrote {path.relative_to(ROOT)} ({len(now)} entries; {stamp['machine']}, commit {stamp['commit']})")
    if args.command == "check":
        print("\ngate: " + ("FAILED: a change beyond its margin (tables above)" if failed else "passed"))
    return 1 if failed else 0


def _torch_version() -> str:
    try:
        import torch
        return torch.__version__
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
