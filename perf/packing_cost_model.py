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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "reference"))
from seqpack_reference import packing_policy, sequence  # noqa: E402
from seqpack_reference.perf.distributions import batch_lengths, read_distributions  # noqa: E402

SOURCE = ROOT / "reports" / "2026-11-25-full-cpu" / "results.csv"
OUT = ROOT / "perf" / "packing_cost_model.json"
PATHS = ("padded", "packed")
ENCODER_SEED = 1  # training_step_bench draws the encoder lengths with seed 1


def points(results_csv: Path) -> list[dict]:
    """One point per model x distribution x B x T measured on both C++ paths."""
    distributions = {d["name"]: d for d in read_distributions(ROOT / "perf" / "distributions.csv")}
    rows = {}
    for r in csv.DictReader(open(results_csv)):
        if r["kind"] == "step" and r["side"] == "cpp" and r["status"] == "ok" and float(r["median_it_s"]) > 0:
            rows[(r["what"], r["distribution"], int(r["batch"]), int(r["steps"]), r["mode"])] = r
    out = []
    for (model, dist, batch, steps, mode), r in rows.items():
        other = rows.get((model, dist, batch, steps, "packed"))
        if mode != "padded" or other is None or dist not in distributions:
            continue
        lengths = batch_lengths(distributions[dist], batch, steps, ENCODER_SEED)
        point = {"model": model, "distribution": dist, "batch": batch, "steps": steps, "lengths": lengths,
                 "x": packing_policy.features(batch, steps, lengths)}
        for path, row in (("padded", r), ("packed", other)):
            point[path] = 1.0 / float(row["median_it_s"])       # seconds per step
            point[path + "_spread"] = float(row["spread_pct"]) / 100.0
        out.append(point)
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

def within_noise(p: dict) -> bool:
    """The two medians lie within each other's spread: their ranges (median +- half the spread,
    in it/s) overlap, so the measurement cannot say which path is faster."""
    padded, packed = 1 / p["padded"], 1 / p["packed"]
    return abs(padded - packed) <= (padded * p["padded_spread"] + packed * p["packed_spread"]) / 2


def score(pts: list[dict], picks: list[bool]) -> dict:
    """picks[i]: pack point i. Share of faster picks, the same counting picks within noise as
    right, and the time lost against always picking the faster path (over the whole matrix)."""
    right = noisy_right = 0
    lost = best = worst_loss = 0.0
    for p, pack in zip(pts, picks):
        chosen, fastest = p["packed" if pack else "padded"], min(p["padded"], p["packed"])
        right += chosen == fastest
        noisy_right += chosen == fastest or within_noise(p)
        lost, best = lost + chosen - fastest, best + fastest
        worst_loss = max(worst_loss, chosen / fastest - 1)
    n = len(pts)
    return {"n": n, "right": right, "right_pct": 100 * right / n, "noise_right_pct": 100 * noisy_right / n,
            "lost_pct": 100 * lost / best, "worst_pct": 100 * worst_loss}


def calibrated_picks(pts: list[dict], fitted_for) -> list[bool]:
    """fitted_for(point) -> the fitted coefficients used to predict that point."""
    picks = []
    for p in pts:
        coefficients = fitted_for(p)[p["model"]]
        predict = {path: float(np.dot(coefficients[path], p["x"])) for path in PATHS}
        picks.append(predict["packed"] < predict["padded"])
    return picks


def evaluations(pts: list[dict], committed: dict | None) -> list[tuple[str, dict]]:
    same_point = lambda p, q: (p["model"], p["distribution"], p["batch"], p["steps"]) == \
        (q["model"], q["distribution"], q["batch"], q["steps"])  # noqa: E731
    refit = fit(pts)
    out = [("calibrated, leave-one-out (each point predicted by a fit without it)",
            score(pts, calibrated_picks(pts, lambda p: fit([q for q in pts if not same_point(p, q)])))),
           ("calibrated, leave-one-distribution-out (a fit without the point's distribution)",
            score(pts, calibrated_picks(pts, lambda p: fit([q for q in pts if q["distribution"] != p["distribution"]])))),
           ("calibrated, in-sample (fitted on these points)", score(pts, calibrated_picks(pts, lambda p: refit)))]
    if committed is not None:
        out.append((f"calibrated, the committed cost model (fitted on {committed['source']})",
                    score(pts, calibrated_picks(pts, lambda p: committed["models"]))))
    out += [("the original's rule (should_use_packing)",
             score(pts, [sequence.should_use_packing(torch.tensor(p["lengths"])) for p in pts])),
            ("always padded", score(pts, [False] * len(pts))), ("always packed", score(pts, [True] * len(pts)))]
    return out


def section(results_csv: Path) -> list[str]:
    """The report's section: how often each policy picks the faster C++ path."""
    pts = points(results_csv)
    if not pts:
        return []
    committed = packing_policy.load() if OUT.exists() else None
    noisy = sum(within_noise(p) for p in pts)
    lines = ["## Packing policy: calibrated against the original's rule", "",
             f"{len(pts)} points (model x distribution x B x T, C++ training step). The calibrated policy "
             "(`packing = calibrated`) packs iff its cost model predicts a faster packed step; the original's rule "
             "packs any batch of 8 or more with unequal lengths. right = picks the path with the higher median "
             f"it/s; within noise = also counting a pick as right when the two medians lie within their spreads "
             f"({noisy} of {len(pts)} points here); time lost = step time above always picking the faster path, "
             "summed over the points (worst = the largest loss at one point).", "",
             "| policy | right | right or within noise | time lost | worst point |", "|---|---|---|---|---|"]
    for name, s in evaluations(pts, committed):
        lines.append(f"| {name} | {s['right']}/{s['n']} ({s['right_pct']:.1f}%) | {s['noise_right_pct']:.1f}% | "
                     f"{s['lost_pct']:.1f}% | {s['worst_pct']:.0f}% |")
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
