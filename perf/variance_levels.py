"""Where a ratio's variance lives: between rounds, between launches of fresh workers, and between
runs made apart in time, from the rounds of one or more runs (run_matrix.py's rounds.json).

    python perf/variance_levels.py RUN [RUN ...] [--json FILE]
    e.g. after two runs an hour apart of the profile made for it:
        python perf/run_matrix.py --profile levels --out reports/NAME-a    # about 15 minutes
        python perf/run_matrix.py --profile levels --out reports/NAME-b    # an hour later
        python perf/variance_levels.py reports/NAME-a reports/NAME-b

For every ratio of every point (the A/A control included), the per-round log ratios of each run are
split by launch, and a one-way analysis of variance separates the rounds' variance (within a launch)
from the launches' (what a fresh process changes, beyond the rounds' noise). With two runs or more,
the spread of each run's mean beyond what its launches explain is the runs' own component: what no
interval of one run can hold. Printed per kind of point as medians over its ratios, as standard
deviations on the log scale (x100, about percent), with what a launch and a round cost and the number
of rounds per launch that gives the narrowest interval for the time:
    rounds per launch = sqrt((launch cost / round cost) x (round variance / launch variance))
(the classic optimum of two-stage sampling, as Kalibera and Jones apply it to benchmark repetitions).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import statistics
import sys
from pathlib import Path

import comparisons


def one_way(groups: list[list[float]]) -> tuple[float, float, float, int]:
    """(grand mean of the group means, the within-group variance, the between-group component beyond
    it, rounds per group) of log ratios grouped by launch; a component estimated below 0 is 0."""
    groups = [g for g in groups if g]
    sizes = [len(g) for g in groups]
    n = statistics.fmean(sizes)
    means = [statistics.fmean(g) for g in groups]
    within_df = sum(sizes) - len(groups)
    within = sum((x - m) ** 2 for g, m in zip(groups, means) for x in g) / within_df if within_df > 0 else 0.0
    between_ms = n * statistics.variance(means) if len(means) > 1 else 0.0
    return statistics.fmean(means), within, max(0.0, (between_ms - within) / n), round(n)


def ratio_groups(point: dict, ratio: comparisons.Ratio) -> list[list[float]] | None:
    """The ratio's per-round log ratios grouped by launch (None where an arm is missing)."""
    arms = point["arms"]
    num, den = arms.get(ratio.numerator.label), arms.get(ratio.denominator.label)
    if not num or not den:
        return None
    launches = point.get("launch") or [1] * min(len(num), len(den))
    groups: dict[int, list[float]] = {}
    for a, b, launch in zip(num, den, launches):
        if a > 0 and b > 0:
            groups.setdefault(launch, []).append(math.log(b / a))
    return list(groups.values())


def decompose(runs: list[dict]) -> list[dict]:
    """One row per (point, ratio) measured in every run given: its components and costs."""
    profile = runs[0]["profile"]
    rows = []
    for point in comparisons.points(comparisons.load_profile(profile)):
        records = [r["rounds"]["points"].get(point.name) for r in runs]
        if not all(records):
            continue
        for ratio in point.ratios + [point.control_ratio]:
            per_run = [ratio_groups(rec, ratio) for rec in records]
            if not all(per_run) or any(len(g) < 2 for g in per_run):
                continue
            fits = [one_way(g) for g in per_run]
            row = {"point": point.name, "kind": point.kind, "ratio": ratio.label,
                   "control": ratio == point.control_ratio,
                   "round_var": statistics.fmean(f[1] for f in fits),
                   "launch_var": statistics.fmean(f[2] for f in fits),
                   "launches": min(len(g) for g in per_run), "rounds_per_launch": fits[0][3],
                   "relaunch_s": statistics.fmean(rec.get("relaunch_s", 0.0) for rec in records),
                   "round_s": statistics.fmean(rec.get("round_s", 0.0) for rec in records),
                   "estimates": [math.exp(f[0]) for f in fits]}
            if len(runs) > 1:  # the runs' means spread beyond what each run's launches explain
                expected = statistics.fmean(
                    (f[1] / f[3] + f[2]) / len(g) for f, g in zip(fits, per_run))  # var of one run's mean
                row["run_var"] = max(0.0, statistics.variance([f[0] for f in fits]) - expected)
            rows.append(row)
    return rows


def best_rounds_per_launch(relaunch_s: float, round_s: float, round_var: float, launch_var: float) -> int:
    if launch_var <= 0 or round_s <= 0:
        return 10  # no launch variance seen: as many rounds per launch as the profile allows
    return max(1, min(10, round(math.sqrt((relaunch_s / round_s) * (round_var / launch_var)))))


def summary(rows: list[dict]) -> list[dict]:
    """Per kind of point: medians over its ratios (A/A controls apart)."""
    out = []
    for kind in comparisons.KINDS:
        for control in (False, True):
            sel = [r for r in rows if r["kind"] == kind and r["control"] == control]
            if not sel:
                continue
            med = lambda key: statistics.median(r[key] for r in sel)  # noqa: E731
            entry = {"kind": kind + (" (A/A)" if control else ""), "ratios": len(sel),
                     "sd_round_pct": 100 * math.sqrt(med("round_var")),
                     "sd_launch_pct": 100 * math.sqrt(med("launch_var")),
                     "launch_share": med("launch_var") / ((med("launch_var") + med("round_var")) or 1),
                     "relaunch_s": med("relaunch_s"), "round_s": med("round_s")}
            if "run_var" in sel[0]:
                entry["sd_run_pct"] = 100 * math.sqrt(med("run_var"))
                entry["ratios_with_run_component"] = sum(r["run_var"] > 0 for r in sel)
            entry["best_rounds_per_launch"] = best_rounds_per_launch(entry["relaunch_s"], entry["round_s"],
                                                                     med("round_var"), med("launch_var"))
            out.append(entry)
    return out


def load_run(folder: Path) -> dict:
    for name in ("rounds.json", "machine.json"):
        if not (folder / name).exists():
            raise SystemExit(f"variance_levels.py: RUN: {folder} has no {name} (a run_matrix.py output folder)")
    machine = json.loads((folder / "machine.json").read_text())
    return {"folder": str(folder), "profile": machine.get("profile", "quick"), "commit": machine.get("commit"),
            "time": machine.get("before", {}).get("time"), "rounds": json.loads((folder / "rounds.json").read_text())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="also write every ratio's row and the summary here")
    args = parser.parse_args(argv)
    runs = [load_run(f) for f in args.runs]
    if len({r["profile"] for r in runs}) > 1:
        raise SystemExit("variance_levels.py: RUN: the runs are of different profiles; compare runs of one profile")
    rows = decompose(runs)
    if not rows:
        raise SystemExit("variance_levels.py: RUN: no ratio was measured in two launches or more in every run")
    table = summary(rows)
    for r in runs:
        print(f"run {r['folder']}: profile {r['profile']}, commit {r['commit']}, started {r['time']}")
    header = ["kind", "ratios", "sd rounds %", "sd launches %", "launch share", "sd runs %", "launch s", "round s",
              "best rounds/launch"]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for e in table:
        run = f"{e['sd_run_pct']:.2f} ({e['ratios_with_run_component']} > 0)" if "sd_run_pct" in e else "—"
        print(f"| {e['kind']} | {e['ratios']} | {e['sd_round_pct']:.2f} | {e['sd_launch_pct']:.2f} | "
              f"{e['launch_share']:.2f} | {run} | {e['relaunch_s']:.1f} | {e['round_s']:.2f} | "
              f"{e['best_rounds_per_launch']} |")
    if args.json:
        args.json.write_text(json.dumps({"runs": [{k: v for k, v in r.items() if k != "rounds"} for r in runs],
                                         "summary": table, "ratios": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ------------------------------------------------------------------ what a profile can resolve

MEASURED = Path(__file__).resolve().parent / "variance_levels.json"  # the committed decomposition


def predicted_half_width_pct(kind: dict, budget_s: float, per_launch: int, min_launches: int,
                             min_rounds: int) -> float:
    """The half-width (%) a ratio with these components (a summary entry, or measured_like's) reaches in
    the budget: launches that fit (at least the minimum), their means' spread."""
    launch_s = per_launch * kind["round_s"] + kind["relaunch_s"]
    launches = max(min_launches, math.ceil(min_rounds / per_launch), int(budget_s // launch_s) if launch_s else 1)
    if launches < 2:  # one launch: the rounds' interval, which leaves the launches' part out
        rounds = max(min_rounds, int(budget_s // kind["round_s"]) if kind["round_s"] else min_rounds)
        sd, df, n = kind["sd_round_pct"] / 100, rounds - 1, rounds
    else:
        var = (kind["sd_launch_pct"] / 100) ** 2 + (kind["sd_round_pct"] / 100) ** 2 / per_launch
        sd, df, n = math.sqrt(var), launches - 1, launches
    from scipy.stats import t as student_t
    return 100 * (math.exp(student_t.ppf(0.975, df) * sd / math.sqrt(n)) - 1)


@functools.cache
def _arms_by_point(profile: str) -> dict[str, int]:
    """How many arms a round of each of the profile's points runs, the A/A twin included."""
    return {p.name: len(p.arms) + 1 for p in comparisons.points(comparisons.load_profile(profile))}


def measured_like(point, measured: dict) -> list[dict]:
    """The measured ratios (controls apart) of the point's kind, each as components with the costs of
    its own measured point scaled to this point: a round runs every arm once, so its cost goes with the
    arms and their sample length; a relaunch builds every arm again, so its cost goes with the arms."""
    rows = [r for r in measured["ratios"] if r["kind"] == point.kind and not r["control"]]
    if not rows:
        return []
    profile = measured["runs"][0]["profile"]
    arms, sample_s = _arms_by_point(profile), comparisons.load_profile(profile)["sample_s"][point.kind]
    out = []
    for r in rows:
        by_arms = (len(point.arms) + 1) / arms.get(r["point"], len(point.arms) + 1)
        out.append({"sd_round_pct": 100 * math.sqrt(r["round_var"]), "sd_launch_pct": 100 * math.sqrt(r["launch_var"]),
                    "round_s": by_arms * point.sample_s / sample_s * r["round_s"], "relaunch_s": by_arms * r["relaunch_s"]})
    return out


def plan(points, settings) -> str:
    """What a profile should resolve, from the committed decomposition (perf/variance_levels.json): how
    many of its requested ratios reach the target (each point: the share of its kind's measured ratios
    that would) in their points' budgets, or, under a run budget, in an equal share of it each (at
    least: a point that stops early leaves its time to the others); "" without one."""
    if not MEASURED.exists():
        return ""
    measured = json.loads(MEASURED.read_text())
    engine = settings.get("engine", {})
    target = engine.get("target_half_width_pct", 5.0)
    if target <= 0:  # a fixed design (levels, gate): no target to resolve
        return ""
    run_budget = engine.get("run_budget_s", 0.0)
    resolved, asked, unknown, seconds = 0.0, 0, 0, 0.0
    for point in points:
        asked += len(point.ratios)
        budget = min(point.budget_s, run_budget / len(points)) if run_budget else point.budget_s
        seconds += budget
        like = measured_like(point, measured)
        if not like:
            unknown += len(point.ratios)
            continue
        per_launch = engine.get("rounds_per_launch", {}).get(point.kind, 0) or engine.get("max_rounds", 60)
        reach = [predicted_half_width_pct(r, budget, per_launch, engine.get("min_launches", 3),
                                          engine.get("min_rounds", 5)) <= target for r in like]
        resolved += len(point.ratios) * sum(reach) / len(reach)  # the share of its kind's measured ratios
    return (f"[plan] from the variance measured at {measured['runs'][0].get('commit')} (no torch.compile in it): "
            f"about {resolved:.0f} of {asked} requested ratios should reach ±{target:g}% "
            + (f"in an equal share each of the run's {run_budget / 60:.0f} minutes" if run_budget else
               f"within their points' budgets, {seconds / 60:.0f} minutes at most and each point's first preparation")
            + (f" ({unknown} of kinds not measured)" if unknown else ""))
