"""The regression gate: compares this build with the committed baselines under perf/baselines/ and
exits 1 on a change beyond its margin.

    python perf/gate.py check  [--only instructions|ratios] [--build build/release]
    python perf/gate.py update [--only instructions|ratios] [--build build/release]
    python perf/gate.py record --out FILE [--rounds N]      # rounds for characterise, slowed arms included
    python perf/gate.py characterise FILE [FILE ...]        # false-alarm rate and power from recorded rounds

Two kinds of gate:
- instructions: valgrind's callgrind counts the instructions of each primitive and of one training
  step of each LSTM-family model at a fixed small size (perf/gate/instruction_counts.cpp, one
  thread). Deterministic, so the margins are tight and the gate is two-sided: an improvement fails
  too, asking for the baseline to be updated so that the next regression is measured from it.
- ratios: packed / padded, segmented / padded and stepwise / padded it/s of the C++ TransformerLSTM
  step for each length distribution, and C++ / Python (padded, eager): 20 ratios, each measured in
  8 paired, interleaved rounds (engine.py; profile "gate"). A ratio fails when its fall from the
  baseline is beyond the margin with confidence: a one-sided Welch t-test on the per-round log-ratios
  of baseline and now, against a fall of exactly the margin, significant after Holm's correction over
  all 20 ratios (family-wise ALPHA). An improvement is reported, not failed. The margin and the
  number of rounds were chosen by measuring the gate's false-alarm rate and its power against a
  slowdown injected into the packed step (characterise; docs/measurement.md, "The regression gate",
  gives the figures).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from scipy.stats import t as student_t

import comparisons
import engine
import machine
from run_matrix import commit
from seqpack_paths import ROOT
from stats import holm_significant, log_ratios

BASELINES = ROOT / "perf" / "baselines"
ALPHA = 0.05
# Margins, in percent. Instruction counts repeat exactly run to run, but a rebuild that moves code
# shifts a small workload's count by up to ~1.2% (seen on create_mask after an unrelated change);
# 2% stays above that and below an extra copy of the data.
INSTRUCTION_MARGIN = {"default": 2.0}
# A ratio's fall that fails, measured on the baseline's own CPU model, and on another one (a ratio
# such as packed / padded depends on the CPU: its vector units, its caches).
RATIO_MARGIN = 10.0
OTHER_CPU_RATIO_MARGIN = 25.0
SLOWDOWNS = (0.1, 0.2, 0.5)  # injected into the packed step by characterise: +10%, +20%, +50% time


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


def gate_settings() -> dict:
    return comparisons.load_profile("gate")


def cpu_model() -> str:
    return machine.describe().split(",")[0]


def ratio_name(ratio: comparisons.Ratio, distribution: str) -> str:
    """cpp packed / cpp padded bimodal -> "packed/padded bimodal"; C++ over Python -> "C++/Python padded ..." """
    if ratio.denominator.side == "python":
        return f"C++/Python {ratio.numerator.mode} {distribution}"
    return f"{ratio.numerator.mode}/{ratio.denominator.mode} {distribution}"


def measure_rounds(build: Path, python: str, rounds: int, slowdowns=(), seed=None) -> dict[str, list[float]]:
    """Per-round log-ratios of every gated ratio (and, with slowdowns, of the packed step slowed by
    each fraction over padded, named "packed+20%/padded <distribution>")."""
    settings = gate_settings()
    engine_settings = engine.EngineSettings.from_profile(settings)
    engine_settings.min_rounds = engine_settings.max_rounds = rounds
    rng = random.Random(seed if seed is not None else random.SystemRandom().randrange(2**32))
    points = comparisons.gate_points(settings)
    slowed = {f"cpp packed+{round(100 * s)}%": s for s in slowdowns}
    out: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workers = engine.Workers(build, python, Path(tmp), "gate")
        try:
            for index, point in enumerate(points, 1):
                print(f"gate: measuring {point.name} ({index}/{len(points)}, {rounds} rounds)", file=sys.stderr,
                      flush=True)
                extra = [comparisons.Arm("cpp", label.split(" ", 1)[1]) for label in slowed]
                point.arms += extra
                point.ratios += [comparisons.Ratio(a, comparisons.cpp("padded")) for a in extra]
                result = engine.measure(point, workers, engine_settings, rng, say=lambda text: None,
                                        slowdowns={label: s for label, s in slowed.items()})
                for ratio in point.ratios:
                    num, den = result.arms[ratio.numerator.label], result.arms[ratio.denominator.label]
                    if num.status != "ok" or den.status != "ok":
                        raise SystemExit(f"gate: {ratio.label} at {point.name} failed: {num.status}; {den.status}")
                    out[ratio_name(ratio, point.distribution)] = log_ratios(num.seconds_per_step,
                                                                            den.seconds_per_step)
        finally:
            workers.close()
    return out


# ------------------------------------------------------------------ comparing

def verdict(change_pct: float, margin: float) -> str:
    """An instruction count's change in percent, positive meaning worse."""
    if abs(change_pct) <= margin:
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


def ratio_test(base: list[float], now: list[float], margin_pct: float) -> tuple[float, float, float, float]:
    """(change %, its 95% interval low and high %, one-sided p of a fall beyond the margin), from the
    per-round log-ratios of baseline and now: Welch's t on the difference of their means, against a
    fall of exactly the margin."""
    d = statistics.fmean(now) - statistics.fmean(base)
    vb, vn = statistics.variance(base) / len(base), statistics.variance(now) / len(now)
    se = math.sqrt(vb + vn) or 1e-12
    df = (vb + vn) ** 2 / ((vb ** 2 / (len(base) - 1)) + (vn ** 2 / (len(now) - 1)) or 1e-24)
    half = student_t.ppf(0.975, df) * se
    p_fall = student_t.cdf((d - math.log(1 - margin_pct / 100)) / se, df)
    to_pct = lambda x: 100 * (math.exp(x) - 1)  # noqa: E731
    return to_pct(d), to_pct(d - half), to_pct(d + half), p_fall


def compare_ratios(baseline: dict, now: dict[str, list[float]], margin_pct: float) -> list[list[str]]:
    """One row per ratio. A lower ratio is the regression for every gated ratio (all are it/s over
    it/s with the path that should not get slower on top). An improvement beyond the margin (its
    whole interval above it) is noted, never failed: the baseline may be updated if it holds."""
    rows, tests = {}, {}
    for name in sorted(set(baseline["log_ratios"]) | set(now)):
        base, value = baseline["log_ratios"].get(name), now.get(name)
        if not base or not value:
            rows[name] = [name, "—", "—", "—", "—", "MISSING (update the baseline)"]
            continue
        tests[name] = change, low, high, p = ratio_test(base, value, margin_pct)
        rows[name] = [name, f"{math.exp(statistics.fmean(base)):.3f}", f"{math.exp(statistics.fmean(value)):.3f}",
                      f"{change:+.1f}% [{low:+.1f}, {high:+.1f}] (p={p:.4f})", f"-{margin_pct:.0f}%"]
    significant = holm_significant({name: t[3] for name, t in tests.items()}, ALPHA)
    for name, (change, low, high, p) in tests.items():
        rows[name].append("REGRESSION" if name in significant else
                          "improved (not failed; update the baseline if it holds)" if low > margin_pct else "ok")
    return [rows[name] for name in sorted(rows)]


def failing(rows: list[list[str]]) -> set[str]:
    return {r[0] for r in rows if r[-1] == "REGRESSION" or r[-1].startswith(("IMPROVED", "MISSING"))}


RATIO_HEADER = ["what", "baseline", "now", "change [95% interval] (p of a fall beyond the margin)", "fails below",
                "verdict"]
INSTRUCTION_HEADER = ["what", "baseline", "now", "change", "margin", "verdict"]


def print_table(title: str, rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())


def ratio_baseline() -> dict:
    """The baseline measured on this CPU model if there is one, else the first on record (compared
    with the wider margin); {} when none."""
    path = BASELINES / "ratios.json"
    if not path.exists():
        return {}
    records = json.loads(path.read_text())["baselines"]
    return records.get(cpu_model()) or next(iter(records.values()), {})


# ------------------------------------------------------------------ characterising

def gate_fails(baseline: dict[str, list[float]], now: dict[str, list[float]], margin_pct: float) -> set[str]:
    return failing(compare_ratios({"log_ratios": baseline}, now, margin_pct))


def blocks_of(recordings: list[dict], rounds: int) -> list[dict[str, list[float]]]:
    """Each recording cut into blocks of `rounds` consecutive rounds (a leftover shorter block dropped)."""
    blocks = []
    for rec in recordings:
        total = min(len(v) for v in rec["log_ratios"].values())
        blocks += [{k: v[i:i + rounds] for k, v in rec["log_ratios"].items()}
                   for i in range(0, total - rounds + 1, rounds)]
    return blocks


def characterise(recordings: list[dict], rounds: int, margin_pct: float) -> dict:
    """False alarms and power of the gate from recorded rounds. Each recording (gate.py record, one
    run of many rounds) is cut into blocks of `rounds` consecutive rounds; a simulated gate run takes
    one block as the baseline and another (of the same recording or another) as the check, as a real
    run compares a fresh set of rounds with one measured at another time. Unchanged: the gated
    ratios as recorded. Slowed: each packed/padded ratio replaced by the packed+X%/padded one."""
    blocks = blocks_of(recordings, rounds)
    gated = sorted(k for k in blocks[0] if "+" not in k)
    runs = [(a, b) for i, a in enumerate(blocks) for j, b in enumerate(blocks) if i != j]  # both orders
    out = {"rounds": rounds, "margin_pct": margin_pct, "blocks": len(blocks), "runs": len(runs)}
    out["false_alarms"] = sum(bool(gate_fails({k: a[k] for k in gated}, {k: b[k] for k in gated}, margin_pct))
                              for a, b in runs)
    for slowdown in SLOWDOWNS:
        tag = f"+{round(100 * slowdown)}%"
        caught = 0
        for a, b in runs:
            slowed = {k: (b[k.replace("packed/", f"packed{tag}/")] if k.startswith("packed/") else b[k]) for k in gated}
            caught += bool(gate_fails({k: a[k] for k in gated}, slowed, margin_pct))
        out[f"caught{tag}"] = caught
    return out


# ------------------------------------------------------------------ commands

def check(kind: str, baseline: dict, measure) -> set[str]:
    """The names that fail against the baseline, printing the table."""
    if kind == "instructions":
        rows = compare_instructions(baseline, measure())
    else:
        same_cpu = baseline["cpu"] == cpu_model()
        margin = baseline.get("margin_pct", RATIO_MARGIN) if same_cpu else OTHER_CPU_RATIO_MARGIN
        if not same_cpu:
            print(f"gate: no ratio baseline for {cpu_model()}; comparing with {baseline['cpu']}'s at the wider "
                  f"margin of {margin:.0f}%", file=sys.stderr)
        rows = compare_ratios(baseline, measure(), margin)
    print_table(f"{kind} (baseline: commit {baseline['commit']}, {baseline.get('machine', baseline.get('cpu'))})", rows,
                INSTRUCTION_HEADER if kind == "instructions" else RATIO_HEADER)
    return failing(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "update", "record", "characterise"])
    parser.add_argument("files", nargs="*", type=Path, help="characterise: recordings made by record")
    parser.add_argument("--only", choices=["instructions", "ratios"])
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    parser.add_argument("--out", type=Path, help="record: where to write the rounds")
    parser.add_argument("--rounds", type=int, help="record: how many rounds (default 4 gate runs' worth)")
    args = parser.parse_args(argv)
    rounds = engine.EngineSettings.from_profile(gate_settings()).min_rounds
    if args.command == "record":
        recorded = measure_rounds(args.build, sys.executable, args.rounds or 4 * rounds, SLOWDOWNS)
        args.out.write_text(json.dumps({"cpu": cpu_model(), "commit": commit(), "log_ratios": recorded}) + "\n")
        print(f"gate: wrote {args.out}")
        return 0
    if args.command == "characterise":
        recordings = [json.loads(f.read_text()) for f in args.files]
        for n in sorted({rounds, 6, 8, 12}):
            for margin in (5.0, 10.0, 15.0):
                print(json.dumps(characterise(recordings, n, margin)))
        for slowdown in SLOWDOWNS:  # what the switch did: packed / packed+X%, every round of every recording
            tag = f"+{round(100 * slowdown)}%"
            logs = [plain - slowed for rec in recordings for name, values in rec["log_ratios"].items()
                    if name.startswith("packed/") for plain, slowed in
                    zip(values, rec["log_ratios"][name.replace("packed/", f"packed{tag}/")])]
            print(json.dumps({"slowdown": tag, "measured_time_ratio": round(math.exp(statistics.fmean(logs)), 4),
                              "rounds": len(logs)}))
        baseline = ratio_baseline()
        if baseline.get("cpu") == recordings[0]["cpu"]:  # each block of `rounds` checked against the committed one
            gated = set(baseline["log_ratios"])
            blocks = [{k: v for k, v in b.items() if k in gated} for b in blocks_of(recordings, rounds)]
            fails = sum(bool(gate_fails(baseline["log_ratios"], b, RATIO_MARGIN)) for b in blocks)
            print(json.dumps({"against_committed_baseline": baseline["commit"], "rounds": rounds,
                              "margin_pct": RATIO_MARGIN, "checks": len(blocks), "false_alarms": fails}))
        return 0
    kinds = [args.only] if args.only else ["instructions", "ratios"]
    stamp = {"machine": machine.describe(), "cpu": cpu_model(), "commit": commit(), "torch": _torch_version()}
    failed = False
    for kind in kinds:
        path = BASELINES / f"{kind}.json"
        measure = (lambda: instruction_counts(args.build)) if kind == "instructions" \
            else (lambda: measure_rounds(args.build, sys.executable, rounds))
        if args.command == "check":
            baseline = ratio_baseline() if kind == "ratios" else (json.loads(path.read_text()) if path.exists() else {})
            if not baseline:
                raise SystemExit(f"gate: no baseline {path}; make one with: python perf/gate.py update --only {kind}")
            failed |= bool(check(kind, baseline, measure))
            continue
        now = measure()
        if kind == "instructions":
            record = {**stamp, "counts": now, "margins": {n: margin_for(n) for n in now}}
        else:
            record = json.loads(path.read_text()) if path.exists() else {"baselines": {}}
            record["baselines"][cpu_model()] = {**stamp, "rounds": rounds, "log_ratios": now}
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
