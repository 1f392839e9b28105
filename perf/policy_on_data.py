"""The calibrated packing policy judged off its training set: advise.py's measuring mode on the real
data sets' lengths (perf/datasets/), for every LSTM-family model at several batch sizes. At each
point the pick is timed against every other path in paired rounds; it is right when it is
non-inferior to each (the ratio's low end at least 0.95), wrong when some path is faster beyond that.

    python perf/policy_on_data.py --build build/release --out reports/<name> [--batches 32 64] [--budget-s 180]
        [--sets NAME@RULE ...] [--append]     (--append: keep <out>/points.json's other sets' points)
    python perf/policy_on_data.py --out reports/<name> --render     # policy.md again from points.json

Writes <out>/points.json (every point's advice, measured) and <out>/policy.md (a row per point, the
share of right picks with its exact 95% interval, the time lost where the pick was wrong).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import advise
import replication
from seqpack_paths import ROOT

# "<lengths file>@<rule>": JapaneseVowels clipped (short series in a long window) and scaled (the
# longest fills it); PLAID scaled, and clipped (its series are longer than the window: every
# window full, where padding wastes nothing).
LENGTH_SETS = ("japanese_vowels@clip", "japanese_vowels@scale", "plaid@scale", "plaid@clip")
BATCHES = (32, 64)
WRONG_BY_MORE_THAN = 0.20  # the policy's second target: never this much slower than the fastest path


def markdown(points: list[dict]) -> str:
    lines = ["# The packing policy on real data sets", "",
             "Each point: advise.py --measure (the pick against every other path, paired rounds over fresh "
             "worker launches, C++ float32 on the CPU, window 64 + 16 steps). Right: non-inferior to every "
             "other path (ratio's low end >= 0.95); wrong: some path faster beyond that; undecided otherwise.", "",
             "| data set | rule | model | B | fill | pick | pick over the others (95% interval) | verdict | "
             "fastest measured | time lost | rounds (stopped at) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        m = p["measured"]
        over = "; ".join(f"{path} {r['ratio']:.2f} [{r['low']:.2f}, {r['high']:.2f}]" for path, r in m["ratios"].items())
        lines.append(f"| {p['data_set']} | {p['rule']} | {p['model']} | {p['batch']} | {p['representative_fill']:.3f} | "
                     f"{p['pick']} | {over} | {m['pick_verdict']} | {m.get('fastest_measured', '-')} | "
                     f"{m.get('time_lost_pct', float('nan')):+.1f}% | {m['rounds']} ({m['stopped']}"
                     f"{', ±' + str(m['target_half_width_pct']) + '% target' if 'target_half_width_pct' in m else ''}) |")
    right = sum(p["measured"]["pick_verdict"] == "right" for p in points)
    wrong = [p for p in points if p["measured"]["pick_verdict"] == "wrong"]
    low, high = replication.clopper_pearson(right, len(points))
    worst = max((p["measured"].get("time_lost_pct", 0.0) for p in points), default=0.0)
    disturbed = [p for p in points if p["measured"]["disturbances"]]
    lines += ["", f"Right at {right} of {len(points)} points ({100 * right / len(points):.0f}%, exact 95% interval "
              f"[{100 * low:.0f}%, {100 * high:.0f}%]); wrong at {len(wrong)}; undecided at "
              f"{len(points) - right - len(wrong)}. The largest time lost by the pick against the fastest measured "
              f"path: {worst:+.1f}% (target: never more than {100 * WRONG_BY_MORE_THAN:.0f}%).",
              f"Points whose measuring was disturbed (busy machine, A/A off, over budget): {len(disturbed)}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batches", nargs="+", type=int, default=list(BATCHES))
    parser.add_argument("--models", nargs="+", choices=advise.models(), default=advise.models())
    parser.add_argument("--budget-s", type=float, default=180.0)
    parser.add_argument("--sets", nargs="+", choices=LENGTH_SETS, default=list(LENGTH_SETS))
    parser.add_argument("--append", action="store_true", help="keep <out>/points.json's points, add these")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--render", action="store_true", help="policy.md from <out>/points.json, measuring nothing")
    args = parser.parse_args(argv)
    if args.render:
        points = json.loads((args.out / "points.json").read_text())
        (args.out / "policy.md").write_text(markdown(points))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    points = json.loads((args.out / "points.json").read_text()) if args.append else []
    points = [p for p in points if f"{p['data_set']}@{p['rule']}" not in args.sets]  # measured again
    with tempfile.TemporaryDirectory() as logs:
        for data_set, rule in (name.split("@") for name in args.sets):
            source = ROOT / "perf" / "datasets" / f"{data_set}.csv"
            lengths = advise.read_series_lengths(source, "length", None)
            spec = f"file:{source.relative_to(ROOT)}@{rule}"
            for model in args.models:
                for batch in args.batches:
                    settings = argparse.Namespace(
                        model=model, batch=batch, steps=64, decoder_steps=16, rule=rule, device="cpu",
                        precision="float32", params="{}", measure=True, budget_s=args.budget_s, build=args.build,
                        python=args.python)
                    point = advise.advice(settings, lengths, spec, Path(logs))
                    point["data_set"] = data_set
                    points.append(point)
                    m = point["measured"]
                    print(f"[policy] {data_set}@{rule} {model} B={batch}: pick {point['pick']}, {m['pick_verdict']} "
                          f"({m['elapsed_s']} s)", file=sys.stderr, flush=True)
                    (args.out / "points.json").write_text(json.dumps(points, indent=1) + "\n")
    (args.out / "policy.md").write_text(markdown(points))
    print(markdown(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
