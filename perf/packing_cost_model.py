"""The calibrated packing policy's cost model: fitted on the C++ training-step matrix, evaluated
against the original's rule.

    python perf/packing_cost_model.py             # refit from SOURCE, write perf/packing_cost_model.json
    python perf/packing_cost_model.py --check     # refit and compare with the committed JSON (exit 1 if they differ)
    python perf/packing_cost_model.py --evaluate REPORT_DIR   # print the accuracy section for REPORT_DIR/results.csv

For each model and path (padded, packed, padding_free), ln(seconds per step) is linear in the
features of seqpack_reference.packing_policy (log B, log fill ratio, their product, an
all-lengths-equal indicator and its product with log B), fitted by least squares on the matrix's
points (T = 64, the original's default sizes, float32, CPU). padded and packed are fitted for every
model; padding_free only for a model whose every point measured it (older runs did not: the JSON
then has no padding_free coefficients for that model). The policy picks the fastest predicted path
among those with coefficients, ties to the earlier of padded, packed, padding_free. The matrix does
not vary T, the hidden size or the layer count, so the fit cannot use them.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

import stats  # perf/ is on sys.path: this file runs as a script, or is imported by report.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "reference"))
from seqpack_reference import packing_policy, sequence  # noqa: E402
from seqpack_reference.perf.distributions import batch_lengths, read_distributions  # noqa: E402

SOURCE = ROOT / "reports" / "2026-11-30-padding-free" / "results.csv"
OUT = ROOT / "perf" / "packing_cost_model.json"
# The paths, in the policy's tie order. padded and packed are required at every point; padding_free
# is optional (runs made before the padding-free path existed did not measure it).
PATHS = tuple(packing_policy.PATHS)
REQUIRED = ("padded", "packed")
ENCODER_SEED = 1  # the step workloads (perf/lib/workloads.cpp) draw the encoder lengths with seed 1


def points(results_csv: Path) -> list[dict]:
    """One point per model x distribution x B x T measured on the C++ padded and packed paths. Reads
    both schemas of results.csv: the old one (arm rows only, no `row` column) and run_matrix.py's (arm
    and ratio rows). A point carries each measured path's seconds per step (padded and packed always,
    padding_free where the CSV has its arm), and "intervals": path -> its paired `cpp <path> / cpp
    padded` ratio (stats.Interval) for packed and padding_free where the CSV has one (none in the old
    schema), and "rounds": path -> its per-round seconds from rounds.json beside the CSV, where there is
    one (for the pairs the CSV has no interval of: packed against padding_free), with "launch": the
    launch each round ran in where rounds.json has it; the A/A control's arm is no path, so it is
    left out."""
    distributions = {d["name"]: d for d in read_distributions(ROOT / "perf" / "distributions.csv")}
    arms, intervals = {}, {}
    with open(results_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r["kind"] != "step" or r["side"] != "cpp" or r["status"] != "ok":
            continue
        key = (r["what"], r["distribution"], int(r["batch"]), int(r["steps"]))
        if r.get("row", "arm") == "arm" and r["mode"] in PATHS and float(r["median_it_s"]) > 0:
            arms.setdefault(key, {})[r["mode"]] = 1.0 / float(r["median_it_s"])
        elif (r.get("row") == "ratio" and r["mode"] in PATHS and r["mode"] != "padded"
              and (r["base_side"], r["base_mode"]) == ("cpp", "padded")):
            intervals.setdefault(key, {})[r["mode"]] = stats.Interval(
                float(r["ratio"]), float(r["ratio_low"]), float(r["ratio_high"]), int(r["rounds"]))
    rounds_json = results_csv.parent / "rounds.json"
    rounds = json.loads(rounds_json.read_text()).get("points", {}) if rounds_json.exists() else {}
    out = []
    for key, seconds in arms.items():
        model, dist, batch, steps = key
        if any(path not in seconds for path in REQUIRED) or dist not in distributions:
            continue
        measured = rounds.get(f"step/{model}/{dist}/{batch}/{steps}", {})  # comparisons.Point.name
        lengths = batch_lengths(distributions[dist], batch, steps, ENCODER_SEED)
        out.append({"model": model, "distribution": dist, "batch": batch, "steps": steps, "lengths": lengths,
                    "x": packing_policy.features(batch, steps, lengths),
                    "intervals": {path: i for path, i in intervals.get(key, {}).items() if path in seconds},
                    "rounds": {path: measured["arms"][f"cpp {path}"] for path in seconds
                               if f"cpp {path}" in measured.get("arms", {})},
                    "launch": measured.get("launch"),
                    **{path: seconds[path] for path in PATHS if path in seconds}})
    return sorted(out, key=lambda p: (p["model"], p["distribution"], p["batch"], p["steps"]))


def fit(pts: list[dict]) -> dict:
    """model -> path -> coefficients (least squares on ln seconds): padded and packed for every
    model, padding_free only where every one of the model's points measured it."""
    fitted = {}
    for model in sorted({p["model"] for p in pts}):
        mine = [p for p in pts if p["model"] == model]
        x = np.array([p["x"] for p in mine])
        fitted[model] = {path: np.linalg.lstsq(x, np.log([p[path] for p in mine]), rcond=None)[0].tolist()
                         for path in PATHS if all(path in p for p in mine)}
    return fitted


def cost_model(pts: list[dict], source: Path) -> dict:
    with open(source, newline="") as f:
        devices = {r["device"] for r in csv.DictReader(f) if r["kind"] == "step" and r["side"] == "cpp"}
    return {"description": "ln(seconds per C++ training step) = coefficients . features, per model and path "
                           "(padded and packed for every model; padding_free only for a model whose every point "
                           "measured it); the policy picks the fastest predicted path among those with "
                           "coefficients, ties to the earlier of padded, packed, padding_free "
                           "(perf/packing_cost_model.py)",
            "source": str(source.relative_to(ROOT)), "device": "cpu", "measured_on": sorted(devices),
            "steps": sorted({p["steps"] for p in pts}), "batch_sizes": sorted({p["batch"] for p in pts}),
            "features": packing_policy.FEATURES, "fill_floor": packing_policy.FILL_FLOOR, "models": fit(pts)}


pick = packing_policy.fastest_of  # the policy's own rule, so the evaluation judges what C++ and Python pick


# ---------------------------------------------------------------- evaluation

def judge(p: dict, chosen: str) -> str | None:
    """A pick against the point's paired intervals of `cpp <path> / cpp padded` it/s (the run measures
    every path against padded, not packed against padding_free). A path other than padded is "right"
    when significantly faster than padded, "wrong" when significantly slower, "undecidable" when its
    interval covers 1. padded is "right" when every other path with an interval is significantly
    slower, "wrong" when one of them is significantly faster, "undecidable" otherwise. None when the
    point has no interval for the pick (the old schema, or a path it did not measure)."""
    intervals = p["intervals"]
    if chosen != "padded":
        if chosen not in intervals:
            return None
        verdict = intervals[chosen].verdict
        return "right" if verdict == "faster" else "wrong" if verdict == "slower" else "undecidable"
    if not intervals:
        return None
    verdicts = [i.verdict for i in intervals.values()]
    if "faster" in verdicts:
        return "wrong"
    return "right" if all(v == "slower" for v in verdicts) else "undecidable"


def paired(p: dict, numerator: str, denominator: str) -> stats.Interval | None:
    """The speed ratio numerator / denominator at the point: the run's own interval where one of them is
    padded (inverted when padded is the numerator), else the interval from both paths' rounds in
    rounds.json (paired by round, over launches where it has them, as perf/paired_ratio.py computes
    it), else None."""
    intervals, rounds = p["intervals"], p.get("rounds", {})
    if denominator == "padded" and numerator in intervals:
        return intervals[numerator]
    if numerator == "padded" and denominator in intervals:
        i = intervals[denominator]
        return dataclasses.replace(i, estimate=1 / i.estimate, low=1 / i.high, high=1 / i.low)
    if numerator in rounds and denominator in rounds:
        return stats.ratio_interval(rounds[numerator], rounds[denominator], p.get("launch"))
    return None


def non_inferior(p: dict, chosen: str) -> str | None:
    """The pick against every other path the point measured, so against the fastest of them too:
    stats.non_inferiority of the pick's it/s over each other path's. "non-inferior" when non-inferior
    to every one, "inferior" when inferior to one, "undecided" otherwise (an interval straddling the
    bound, or a pair without an interval: no evidence of no loss). None when the pick was not measured
    or has no interval against any other path (the old schema without rounds.json)."""
    if chosen not in p:
        return None
    intervals = [paired(p, chosen, other) for other in PATHS if other in p and other != chosen]
    if not any(intervals):
        return None
    verdicts = [stats.non_inferiority(i) if i else "undecided" for i in intervals]
    if "inferior" in verdicts:
        return "inferior"
    return "non-inferior" if all(v == "non-inferior" for v in verdicts) else "undecided"


def score(pts: list[dict], picks: list[str]) -> dict:
    """picks[i]: the path picked at point i. The picks judged by the intervals, and the time lost
    against always picking the point's path with the lowest median step time among those it measured
    (over the whole matrix; medians, so drift is in it). A pick of a path the point did not measure
    (padding_free on an older run) is counted in "unmeasured" and enters neither. "non_inferiority":
    the picks' non_inferior verdicts counted, with how many were judged."""
    verdicts = [judge(p, chosen) for p, chosen in zip(pts, picks)]
    counts = {v: verdicts.count(v) for v in ("right", "wrong", "undecidable")}
    no_loss = [non_inferior(p, chosen) for p, chosen in zip(pts, picks)]
    non_inferiority = {v: no_loss.count(v) for v in ("non-inferior", "undecided", "inferior")}
    non_inferiority["judged"] = sum(non_inferiority.values())
    lost = best = worst_loss = 0.0
    unmeasured = 0
    for p, chosen in zip(pts, picks):
        if chosen not in p:
            unmeasured += 1
            continue
        fastest = min(p[path] for path in PATHS if path in p)
        lost, best = lost + p[chosen] - fastest, best + fastest
        worst_loss = max(worst_loss, p[chosen] / fastest - 1)
    return {"n": len(pts), "judged": sum(counts.values()), **counts, "non_inferiority": non_inferiority,
            "unmeasured": unmeasured,
            "picked": {path: picks.count(path) for path in PATHS},
            "lost_pct": 100 * lost / best if best else math.nan, "worst_pct": 100 * worst_loss}


def calibrated_picks(pts: list[dict], fitted_for) -> list[str] | None:
    """fitted_for(point) -> the fitted coefficients used to predict that point; None when a point's
    model has no fit (a leave-out fit of a model measured at one point only)."""
    picks = []
    for p in pts:
        coefficients = fitted_for(p).get(p["model"])
        if coefficients is None:
            return None
        picks.append(pick(coefficients, p["x"]))
    return picks


def evaluations(pts: list[dict], committed: dict | None) -> list[tuple[str, dict]]:
    same_point = lambda p, q: (p["model"], p["distribution"], p["batch"], p["steps"]) == \
        (q["model"], q["distribution"], q["batch"], q["steps"])  # noqa: E731
    refit = fit(pts)
    policies = [("calibrated, leave-one-out (each point predicted by a fit without it)",
                 calibrated_picks(pts, lambda p: fit([q for q in pts if not same_point(p, q)]))),
                ("calibrated, leave-one-distribution-out (a fit without the point's distribution)",
                 calibrated_picks(pts, lambda p: fit([q for q in pts if q["distribution"] != p["distribution"]]))),
                ("calibrated, in-sample (fitted on these points)", calibrated_picks(pts, lambda p: refit))]
    if committed is not None:
        policies.append((f"calibrated, the committed cost model (fitted on {committed['source']})",
                         calibrated_picks(pts, lambda p: committed["models"])))
    policies += [("the original's rule (should_use_packing: packed or padded)",
                  ["packed" if sequence.should_use_packing(torch.tensor(p["lengths"])) else "padded" for p in pts]),
                 ("always padded", ["padded"] * len(pts)), ("always packed", ["packed"] * len(pts))]
    if any("padding_free" in p for p in pts):
        policies.append(("always padding_free", ["padding_free"] * len(pts)))
    return [(name, score(pts, picks)) for name, picks in policies if picks is not None]


def count_cell(count: int, judged: int) -> str:
    return f"{count}/{judged} ({100 * count / judged:.0f}%)" if judged else "—"


def non_inferiority_cell(counts: dict) -> str:
    """Non-inferior of judged, then the rest split: undecided (too wide to tell) and inferior."""
    if not counts["judged"]:
        return "—"
    return (f"{count_cell(counts['non-inferior'], counts['judged'])}; {counts['undecided']} undecided, "
            f"{counts['inferior']} inferior")


def section(results_csv: Path) -> list[str]:
    """The report's section: each policy's picks judged by the paired intervals."""
    pts = points(results_csv)
    if not pts:
        return []
    committed = packing_policy.load() if OUT.exists() else None
    with_free = sum("padding_free" in p for p in pts)
    bound = stats.NON_INFERIORITY_BOUND
    without = sum(not p["intervals"] for p in pts)
    lines = ["## Packing policy: calibrated against the original's rule", "",
             f"{len(pts)} points (model x distribution x B x T, C++ training step), {with_free} of them with the "
             "padding-free path measured. The calibrated policy (`packing = calibrated`) picks the path (padded, "
             "packed, padding_free) its cost model predicts fastest, among those it has coefficients for; the "
             "original's rule packs any batch of 8 or more with unequal lengths (packed or padded). Each pick is "
             "judged by the point's 95% intervals of `cpp <path> / cpp padded` (paired rounds): a pick of packed or "
             "padding_free is right when that path is significantly faster than padded (the interval excludes 1 "
             "above), wrong when significantly slower, undecidable when the interval covers 1; a pick of padded is "
             "right when every other measured path is significantly slower, wrong when one is significantly "
             "faster, undecidable otherwise. The run's results.csv has no paired interval of packed against "
             "padding_free, so right and wrong judge a pick between those two against padded only (a pick of "
             "packed where padding_free is faster still, or the reverse, can count right). Non-inferior at "
             f"{bound} = the pick's it/s over each other measured path's (so over the fastest one's too) has its "
             f"95% interval's low end at {bound} or above (a loss of at most {100 * (1 - bound):.0f}%, the "
             f"smallest the run's ±5% target half-width can resolve); inferior = one such interval lies entirely "
             f"below {bound}; undecided = neither (an interval too wide to show no loss). Packed and padding_free "
             "are compared there by their rounds in rounds.json (paired by round), where the run has it. An "
             "undecidable pick is no evidence of no loss, so right + undecidable is not counted as one. Time "
             "lost = step time above always picking the path with the lowest median step time among the point's "
             "measured paths (padded, packed and padding_free where measured), summed over the points (worst = the "
             "largest loss at one point); it comes from medians, so it carries some of the machine's drift. "
             "Picks = how many points each policy sends to padded / packed / padding_free.", ""]
    if without:
        lines += [f"{without} of {len(pts)} points have no interval (a results.csv of the old schema, or a ratio "
                  "not measured): they count in time lost only.", ""]
    scored = evaluations(pts, committed)
    lines += ["| policy | picks (padded/packed/padding_free) | right | wrong | undecidable | non-inferior at "
              f"{bound} | time lost | worst point |",
              "|---|---|---|---|---|---|---|---|"]
    for name, s in scored:
        picks = "/".join(str(s["picked"][path]) for path in PATHS)
        lines.append(f"| {name} | {picks} | {count_cell(s['right'], s['judged'])} | "
                     f"{count_cell(s['wrong'], s['judged'])} | {count_cell(s['undecidable'], s['judged'])} | "
                     f"{non_inferiority_cell(s['non_inferiority'])} | {s['lost_pct']:.1f}% | "
                     f"{s['worst_pct']:.0f}% |")
    unmeasured = [(name, s["unmeasured"]) for name, s in scored if s["unmeasured"]]
    if unmeasured:
        lines += ["", "Picks of a path the point did not measure (padding_free on a run without it) are neither "
                  "judged nor in time lost: " + "; ".join(f"{name}: {n} of {len(pts)}" for name, n in unmeasured)
                  + "."]
    return lines + [""]


def same_cost_model(committed: dict, fitted: dict) -> bool:
    """Everything but the coefficients equal, the same models with the same paths (a padding_free
    fitted on one side only is a difference), every path's coefficients equal to rounding."""
    if {k: v for k, v in committed.items() if k != "models"} != {k: v for k, v in fitted.items() if k != "models"}:
        return False
    if committed["models"].keys() != fitted["models"].keys():
        return False
    for model, paths in fitted["models"].items():
        if committed["models"][model].keys() != paths.keys():
            return False
        for path, b in paths.items():
            a = committed["models"][model][path]
            if len(a) != len(b) or not all(math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12) for u, v in zip(a, b)):
                return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="refit and compare with the committed JSON")
    parser.add_argument("--evaluate", metavar="REPORT_DIR", help="print the accuracy section for a report")
    parser.add_argument("--source", type=Path, default=SOURCE, help="results.csv to fit on")
    args = parser.parse_args()
    if args.evaluate:
        print("\n".join(section(Path(args.evaluate) / "results.csv")))
        return 0
    fitted = cost_model(points(args.source), args.source.resolve())
    if args.check:
        committed = packing_policy.load()
        same = same_cost_model(committed, fitted)
        print("packing cost model: " + ("matches the committed JSON" if same else "refit differs from the committed JSON"))
        return 0 if same else 1
    OUT.write_text(json.dumps(fitted, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
