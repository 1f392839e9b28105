"""Any two arms of a run's point compared after the fact: their rounds were interleaved, so the ratio
is paired like the ones the run asked for (stats.ratio_interval, from rounds.json, over the run's
launches where it had several).

    python perf/paired_ratio.py REPORT_DIR "NUMERATOR ARM" "DENOMINATOR ARM" [--kind data_parallel]
    e.g. "cpp padded_grouped_global x2" "cpp padded_grouped_per_rank x2"

Prints a line per point holding both arms: the speed ratio numerator / denominator, its 95% interval
and verdict. The run's own stopping rule did not wait for this ratio's precision: its interval is
as wide as the rounds made it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import stats


def paired_ratios(rounds: dict, numerator: str, denominator: str, kind: str = "") -> dict[str, stats.Interval]:
    """Point name -> the interval, for each point (of `kind`, if given) that measured both arms."""
    out = {}
    for name, point in rounds["points"].items():
        arms = point["arms"]
        if name.startswith(kind) and numerator in arms and denominator in arms:
            interval = stats.ratio_interval(arms[numerator], arms[denominator], point.get("launch"))
            if interval:
                out[name] = interval
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path)
    parser.add_argument("numerator")
    parser.add_argument("denominator")
    parser.add_argument("--kind", default="", help="only points of this kind")
    args = parser.parse_args(argv)
    found = paired_ratios(json.loads((args.report / "rounds.json").read_text()), args.numerator, args.denominator,
                          args.kind)
    if not found:
        raise SystemExit(f"no point of {args.report} measured both {args.numerator!r} and {args.denominator!r}")
    for name, i in found.items():
        print(f"{name}: {i.estimate:.2f} [{i.low:.2f}, {i.high:.2f}] {i.verdict} ({i.rounds} rounds"
              + (f" in {i.launches} launches)" if i.launches > 1 else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
