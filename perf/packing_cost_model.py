"""The calibrated packing policy's cost model: fitted on the C++ training-step matrix, evaluated
against the original's rule.

    python perf/packing_cost_model.py             # refit from SOURCE, write perf/packing_cost_model.json
    python perf/packing_cost_model.py --check     # refit and compare with the committed JSON (exit 1 if they differ)
    python perf/packing_cost_model.py --evaluate REPORT_DIR   # print the accuracy section for REPORT_DIR/results.csv

For each model and path (padded, packed), ln(seconds per step) is linear in the features of
seqpack_reference.packing_policy (log B, log fill ratio, their product, an all-lengths-equal
indicator and its product with log B), fitted by least squares on the matrix's points (T = 64, the
original's default sizes, float32, CPU). The policy packs iff the predicted packed time is lower.
The matrix does not vary T, the hidden size or the layer count, so the fit cannot use them.
"""
from __future__ import annotations

import argparse
import csv
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

SOURCE = ROOT / "reports" / "2026-11-25-full-cpu" / "results.csv"
OUT = ROOT / "perf" / "packing_cost_model.json"
PATHS = ("padded", "packed")
ENCODER_SEED = 1  # the step workloads (perf/lib/workloads.cpp) draw the encoder lengths with seed 1


def points(results_csv: Path) -> list[dict]:
    """One point per model x distribution x B x T measured on both C++ paths. Reads both schemas of
    results.csv: the old one (arm rows only, no `row` column) and run_matrix.py's (arm and ratio
    rows). A point carries "interval", its paired `cpp packed / cpp padded` ratio (stats.Interval),
    or None where the CSV has none (the old schema); the A/A control's arm is no path, so it is left out."""
    distributions = {d["name"]: d for d in read_distributions(ROOT / "perf" / "distributions.csv")}
    arms, intervals = {}, {}
    for r in csv.DictReader(open(results_csv)):
        if r["kind"] != "step" or r["side"] != "cpp" or r["status"] != "ok":
            continue
        key = (r["what"], r["distribution"], int(r["batch"]), int(r["steps"]))
        if r.get("row", "arm") == "arm" and r["mode"] in PATHS and float(r["median_it_s"]) > 0:
            arms[key, r["mode"]] = r
        elif r.get("row") == "ratio" and (r["mode"], r["base_side"], r["base_mode"]) == ("packed", "cpp", "padded"):
            intervals[key] = stats.Interval(float(r["ratio"]), float(r["ratio_low"]), float(r["ratio_high"]),
                                            int(r["rounds"]))
    out = []
    for (key, mode), r in arms.items():
        model, dist, batch, steps = key
        other = arms.get((key, "packed"))
        if mode != "padded" or other is None or dist not in distributions:
            continue
        lengths = batch_lengths(distributions[dist], batch, steps, ENCODER_SEED)
        out.append({"model": model, "distribution": dist, "batch": batch, "steps": steps, "lengths": lengths,
                    "x": packing_policy.features(batch, steps, lengths), "interval": intervals.get(key),
                    "padded": 1.0 / float(r["median_it_s"]), "packed": 1.0 / float(other["median_it_s"])})
    return out


def fit(pts: list[dict]) -> dict:
    """model -> path -> coefficients (least squares on ln seconds)."""
    fitted = {}
    for model in sorted({p["model"] for p in pts}):
        mine = [p for p in pts if p["model"] == model]
        x = np.array([p["x"] for p in mine])
        fitted[model] = {path: np.linalg.lstsq(x, np.log([p[path] for p in mine]), rcond=None)[0].tolist()
                         for path in PATHS}
    return fitted


def cost_model(pts: list[dict], source: Path) -> dict:
    devices = {r["device"] for r in csv.DictReader(open(source)) if r["kind"] == "step" and r["side"] == "cpp"}
    return {"description": "ln(seconds per C++ training step) = coefficients . features, per model and path; "
                           "pack iff the packed prediction is lower (perf/packing_cost_model.py)",
            "source": str(source.relative_to(ROOT)), "device": "cpu", "measured_on": sorted(devices),
            "steps": sorted({p["steps"] for p in pts}), "batch_sizes": sorted({p["batch"] for p in pts}),
            "features": packing_policy.FEATURES, "fill_floor": packing_policy.FILL_FLOOR, "models": fit(pts)}


# ---------------------------------------------------------------- evaluation

def judge(p: dict, pack: bool) -> str | None:
    """A pick against the point's paired interval of packed / padded it/s: "right" when the chosen
    path is significantly faster, "wrong" when significantly slower, "undecidable" when the interval
    covers 1; None without an interval."""
    interval = p["interval"]
    if interval is None:
        return None
    if interval.verdict == "no difference detected":
        return "undecidable"
    return "right" if (interval.verdict == "faster") == pack else "wrong"


def score(pts: list[dict], picks: list[bool]) -> dict:
    """picks[i]: pack point i. The picks judged by the intervals, and the time lost against always
    picking the path with the higher median it/s (over the whole matrix; medians, so drift is in it)."""
    verdicts = [judge(p, pack) for p, pack in zip(pts, picks)]
    counts = {v: verdicts.count(v) for v in ("right", "wrong", "undecidable")}
    lost = best = worst_loss = 0.0
    for p, pack in zip(pts, picks):
        chosen, fastest = p["packed" if pack else "padded"], min(p["padded"], p["packed"])
        lost, best = lost + chosen - fastest, best + fastest
        worst_loss = max(worst_loss, chosen / fastest - 1)
    return {"n": len(pts), "judged": sum(counts.values()), **counts, "lost_pct": 100 * lost / best,
            "worst_pct": 100 * worst_loss}


def calibrated_picks(pts: list[dict], fitted_for) -> list[bool] | None:
    """fitted_for(point) -> the fitted coefficients used to predict that point; None when a point's
    model has no fit (a leave-out fit of a model measured at one point only)."""
    picks = []
    for p in pts:
        coefficients = fitted_for(p).get(p["model"])
        if coefficients is None:
            return None
        predict = {path: float(np.dot(coefficients[path], p["x"])) for path in PATHS}
        picks.append(predict["packed"] < predict["padded"])
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
    policies += [("the original's rule (should_use_packing)",
                  [sequence.should_use_packing(torch.tensor(p["lengths"])) for p in pts]),
                 ("always padded", [False] * len(pts)), ("always packed", [True] * len(pts))]
    return [(name, score(pts, picks)) for name, picks in policies if picks is not None]


def count_cell(count: int, judged: int) -> str:
    return f"{count}/{judged} ({100 * count / judged:.0f}%)" if judged else "—"


def section(results_csv: Path) -> list[str]:
    """The report's section: each policy's picks judged by the paired intervals."""
    pts = points(results_csv)
    if not pts:
        return []
    committed = packing_policy.load() if OUT.exists() else None
    without = sum(p["interval"] is None for p in pts)
    lines = ["## Packing policy: calibrated against the original's rule", "",
             f"{len(pts)} points (model x distribution x B x T, C++ training step). The calibrated policy "
             "(`packing = calibrated`) packs iff its cost model predicts a faster packed step; the original's rule "
             "packs any batch of 8 or more with unequal lengths. Each pick is judged by the point's 95% interval of "
             "`cpp packed / cpp padded` (paired rounds): right = the chosen path is significantly faster (the "
             "interval excludes 1 on its side), wrong = significantly slower, undecidable = the interval covers 1; "
             "not significantly slower = right + undecidable. Time lost = step time above always picking the path "
             "with the higher median it/s, summed over the points (worst = the largest loss at one point); it comes "
             "from medians, so it carries some of the machine's drift.", ""]
    if without:
        lines += [f"{without} of {len(pts)} points have no interval (a results.csv of the old schema, or a ratio "
                  "not measured): they count in time lost only.", ""]
    lines += ["| policy | right | wrong | undecidable | not significantly slower | time lost | worst point |",
              "|---|---|---|---|---|---|---|"]
    for name, s in evaluations(pts, committed):
        lines.append(f"| {name} | {count_cell(s['right'], s['judged'])} | {count_cell(s['wrong'], s['judged'])} | "
                     f"{count_cell(s['undecidable'], s['judged'])} | "
                     f"{count_cell(s['right'] + s['undecidable'], s['judged'])} | {s['lost_pct']:.1f}% | "
                     f"{s['worst_pct']:.0f}% |")
    return lines + [""]


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
        same = {k: v for k, v in committed.items() if k != "models"} == \
            {k: v for k, v in fitted.items() if k != "models"} and committed["models"].keys() == fitted["models"].keys()
        for model in fitted["models"] if same else []:
            for path in PATHS:
                same &= all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
                            for a, b in zip(committed["models"][model][path], fitted["models"][model][path]))
        print("packing cost model: " + ("matches the committed JSON" if same else "refit differs from the committed JSON"))
        return 0 if same else 1
    OUT.write_text(json.dumps(fitted, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
