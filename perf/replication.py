"""Do two runs agree? For every ratio both runs measured, tests whether their two estimates differ.

    python perf/replication.py RUN_A RUN_B [--alpha 0.05] [--list all|disagree]

A ratio is the same in both runs when its kind, what, sides, modes, distribution, batch, steps,
ranks, precisions and device are (rows of status ok in both; the A/A controls are ratios too, and
are counted apart as well). Each run's estimate is a t interval on a mean log-ratio (perf/stats.py),
so its standard error is recovered from the interval, se = ln(high / estimate) / t(0.975, df), with
df from results.csv's `df` column where there is one and rounds - 1 otherwise. The two estimates
are compared by Welch's t on ln(A) - ln(B) (Welch-Satterthwaite df), two-sided at level alpha.

Prints the two runs, how many ratios they share, how many disagree (with a 95% Clopper-Pearson
interval on that share), the median and 90th percentile of |ln(A / B)| in percent, and a table of
the disagreeing ratios (--list all: every common ratio). Exit 2, with one line, on bad input.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy
from scipy.stats import beta as beta_dist
from scipy.stats import t as student_t

import stats
from comparisons import AA_SUFFIX, DEFAULT_PRECISION, precision_suffix

# What makes two ratio rows the same ratio. Columns a run's results.csv lacks (older engines) take
# the value that run measured implicitly: see ratio_key.
KEY = ("kind", "what", "side", "mode", "base_side", "base_mode", "distribution", "batch", "steps", "ranks",
       "base_ranks", "precision", "base_precision", "device")
QUANTILE = 0.5 + stats.CONFIDENCE / 2  # the runs' intervals are stats.CONFIDENCE (95%) t intervals


class BadInput(ValueError):
    """Input this command refuses; its message is the one line printed (argument, then rule)."""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """One run's ratio: its estimate and interval, and the interval's degrees of freedom."""
    ratio: float
    low: float
    high: float
    df: float

    @property
    def log(self) -> float:
        return math.log(self.ratio)

    @property
    def se(self) -> float:
        """The standard error of the mean log-ratio the interval was built from."""
        return math.log(self.high / self.ratio) / student_t.ppf(QUANTILE, self.df)

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclasses.dataclass(frozen=True)
class Comparison:
    key: tuple
    a: Estimate
    b: Estimate
    difference: float  # ln(A) - ln(B)
    se: float
    df: float
    p: float

    @property
    def control(self) -> bool:
        return self.key[KEY.index("mode")].endswith(AA_SUFFIX)

    @property
    def beyond_both(self) -> bool:
        """Each estimate lies outside the other's interval (the looser reading of "they differ")."""
        return not self.a.covers(self.b.ratio) and not self.b.covers(self.a.ratio)

    @property
    def name(self) -> str:
        return readable_name(self.key)


@dataclasses.dataclass(frozen=True)
class Summary:
    alpha: float
    common: int
    disagree: int
    share: float
    share_low: float
    share_high: float
    beyond_both: int
    median_pct: float  # of 100 |ln(A / B)|
    p90_pct: float


def ratio_key(row: dict) -> tuple:
    """The row's identity across runs. Before precisions every arm was float32; before ranks there
    were no data-parallel arms (empty, as a single-process row has now); before the device column
    held "cpu" or "cuda:N" it held the host's description and the runs were on the CPU."""
    values = {k: (row.get(k) or "").strip() for k in KEY}
    for k in ("precision", "base_precision"):
        values[k] = values[k] or DEFAULT_PRECISION
    if not (values["device"] == "cpu" or values["device"].startswith("cuda")):
        values["device"] = "cpu"
    for k in ("batch", "steps"):
        values[k] = str(int(float(values[k]))) if values[k] else ""
    return tuple(values[k] for k in KEY)


def estimate_of(row: dict) -> Estimate | None:
    """The row's estimate, or None where its interval cannot give a standard error (no bounds,
    fewer than 2 rounds, a zero-width interval)."""
    try:
        ratio, low, high = (float(row[k]) for k in ("ratio", "ratio_low", "ratio_high"))
        df = float(row["df"]) if (row.get("df") or "").strip() else float(row["rounds"]) - 1
    except (KeyError, TypeError, ValueError):
        return None
    if not (0 < low <= ratio < high) or not df >= 1:
        return None
    return Estimate(ratio, low, high, df)


def ratio_rows(rows: list[dict], where: str) -> dict[tuple, dict]:
    """The run's ratio rows by key; `where` names the run in a refusal."""
    out = {}
    for row in rows:
        if row.get("row") != "ratio":
            continue
        key = ratio_key(row)
        if key in out:
            raise BadInput(f"{where}: the ratio {readable_name(key)} appears twice (a ratio may appear once per run)")
        out[key] = row
    return out


def difference_test(a: Estimate, b: Estimate) -> tuple[float, float, float, float]:
    """Welch's t on ln(A) - ln(B): (difference, its se, Welch-Satterthwaite df, two-sided p)."""
    difference = a.log - b.log
    va, vb = a.se ** 2, b.se ** 2
    se = math.sqrt(va + vb)
    df = float((va + vb) ** 2 / (va ** 2 / a.df + vb ** 2 / b.df))
    p = 2 * student_t.sf(abs(difference) / se, df)
    return difference, se, df, float(p)


def match(rows_a: list[dict], rows_b: list[dict]) -> tuple[list[Comparison], dict[str, int]]:
    """The ratios both runs measured with status ok and a usable interval, in A's order, each
    tested; and counts of what was left out ("only_a", "only_b", "not_ok", "no_interval")."""
    by_a, by_b = ratio_rows(rows_a, "RUN_A"), ratio_rows(rows_b, "RUN_B")
    left_out = {"only_a": len(by_a.keys() - by_b.keys()), "only_b": len(by_b.keys() - by_a.keys()),
                "not_ok": 0, "no_interval": 0}
    out = []
    for key, row_a in by_a.items():
        row_b = by_b.get(key)
        if row_b is None:
            continue
        if row_a.get("status") != "ok" or row_b.get("status") != "ok":
            left_out["not_ok"] += 1
            continue
        a, b = estimate_of(row_a), estimate_of(row_b)
        if a is None or b is None:
            left_out["no_interval"] += 1
            continue
        out.append(Comparison(key, a, b, *difference_test(a, b)))
    return out, left_out


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval on a binomial share k / n."""
    tail = (1 - confidence) / 2
    low = 0.0 if k == 0 else float(beta_dist.ppf(tail, k, n - k + 1))
    high = 1.0 if k == n else float(beta_dist.ppf(1 - tail, k + 1, n - k))
    return low, high


def check_alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise BadInput(f"--alpha: {alpha:g} must lie strictly between 0 and 1")
    return alpha


def summarise(comparisons: list[Comparison], alpha: float) -> Summary:
    check_alpha(alpha)
    if not comparisons:
        raise BadInput("RUN_A RUN_B: the two runs have no ratio row in common (same kind, what, arms, point, "
                       "precisions, device; status ok in both)")
    n = len(comparisons)
    disagree = sum(c.p < alpha for c in comparisons)
    size = 100 * numpy.abs([c.difference for c in comparisons])
    return Summary(alpha, n, disagree, disagree / n, *clopper_pearson(disagree, n),
                   sum(c.beyond_both for c in comparisons), float(numpy.median(size)),
                   float(numpy.percentile(size, 90)))


def summaries(comparisons: list[Comparison], alpha: float) -> dict[str, Summary]:
    """The summary of all common ratios, then of the ratios proper and of the A/A controls apart
    (where there are any): a control's twins may be separate instances in older runs, and their
    ratio says how well the intervals hold, not what the code does."""
    out = {"all": summarise(comparisons, alpha)}
    for name, group in (("other ratios", [c for c in comparisons if not c.control]),
                        ("A/A controls", [c for c in comparisons if c.control])):
        if group and len(group) < len(comparisons):
            out[name] = summarise(group, alpha)
    return out


def readable_name(key: tuple) -> str:
    """"step transformer_lstm uniform_half B=64 T=64: cpp packed / cpp padded" (precisions other than
    float32, ranks and a device other than the CPU named where they are)."""
    k = dict(zip(KEY, key))

    def arm(side, mode, precision, ranks):
        return f"{k[side]} {k[mode]}{precision_suffix(k[precision])}{f' x{k[ranks]}' if k[ranks] else ''}"

    device = "" if k["device"] == "cpu" else f" on {k['device']}"
    return (f"{k['kind']} {k['what']} {k['distribution']} B={k['batch']} T={k['steps']}{device}: "
            f"{arm('side', 'mode', 'precision', 'ranks')} / "
            f"{arm('base_side', 'base_mode', 'base_precision', 'base_ranks')}")


def interval_text(e: Estimate) -> str:
    return f"{e.ratio:.3f} [{e.low:.3f}, {e.high:.3f}]"


def describe_run(label: str, path: Path, machine: dict) -> str:
    details = [f"{name} {value}" for name, value in (("commit", machine.get("commit")),
                                                     ("profile", machine.get("profile")),
                                                     ("started", (machine.get("before") or {}).get("time")))
               if value]
    return f"- {label}: {path}" + (f" ({', '.join(details)})" if details else "")


def report_lines(comparisons: list[Comparison], left_out: dict[str, int], groups: dict[str, Summary],
                 listing: str = "disagree") -> list[str]:
    alpha = groups["all"].alpha
    lines = [
        f"- Common ratios: {groups['all'].common}; only in A: {left_out['only_a']}, only in B: {left_out['only_b']}; "
        f"common but left out: {left_out['not_ok']} not ok in one run, {left_out['no_interval']} without a usable "
        "interval.",
        f"- disagree: Welch's t on ln(A) - ln(B), two-sided, p < {alpha:g} (about {100 * alpha:g}% of the ratios would "
        "if both runs measured the same ratios and their intervals were exact); outside: each estimate lies outside "
        "the other's interval; abs ln(A/B): 100 x |ln(A / B)|, in percent.",
        "",
        "| ratios | common | disagree | share [95% Clopper-Pearson] | outside | median abs ln(A/B) | 90th percentile |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {name} | {s.common} | {s.disagree} | {100 * s.share:.1f}% [{100 * s.share_low:.1f}%, "
              f"{100 * s.share_high:.1f}%] | {s.beyond_both} ({100 * s.beyond_both / s.common:.1f}%) | "
              f"{s.median_pct:.2f}% | {s.p90_pct:.2f}% |" for name, s in groups.items()]
    lines.append("")
    if listing == "all":
        shown, title = comparisons, "Every common ratio, in A's order"
    else:
        shown = sorted((c for c in comparisons if c.p < alpha), key=lambda c: c.p)
        title = f"The {len(shown)} disagreeing ratios, smallest p first"
    lines += [f"{title} (A/B - 1 = exp(ln(A) - ln(B)) - 1):", ""]
    if shown:
        lines += ["| ratio | A | B | A/B - 1 | p |", "|---|---|---|---|---|"]
        lines += [f"| {c.name} | {interval_text(c.a)} | {interval_text(c.b)} | {100 * math.expm1(c.difference):+.1f}% "
                  f"| {c.p:.2g} |" for c in shown]
    else:
        lines.append("(none)")
    return lines


def read_run(label: str, path: Path) -> tuple[list[dict], dict]:
    """results.csv's rows and machine.json ({} where absent)."""
    if not path.is_dir():
        raise BadInput(f"{label}: {path} is not a folder (a run folder holding results.csv)")
    results = path / "results.csv"
    if not results.is_file():
        raise BadInput(f"{label}: {path} has no results.csv (a run folder holds one)")
    with open(results, newline="") as f:
        rows = list(csv.DictReader(f))
    if not any(r.get("row") == "ratio" for r in rows):
        raise BadInput(f"{label}: {results} has no ratio rows (row = ratio; tables before the paired engine have none)")
    machine_path = path / "machine.json"
    machine = json.loads(machine_path.read_text()) if machine_path.is_file() else {}
    return rows, machine


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        raise BadInput(message)


def parse_args(argv):
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_a", type=Path, metavar="RUN_A")
    parser.add_argument("run_b", type=Path, metavar="RUN_B")
    parser.add_argument("--alpha", default="0.05", help="the test's level, in (0, 1) (default 0.05)")
    parser.add_argument("--list", dest="listing", choices=("all", "disagree"), default="disagree",
                        help="which ratios the table lists (default: those that disagree)")
    args = parser.parse_args(argv)
    try:
        alpha = float(args.alpha)
    except ValueError:
        raise BadInput(f"--alpha: {args.alpha!r} must be a number strictly between 0 and 1") from None
    args.alpha = check_alpha(alpha)
    return args


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
        rows_a, machine_a = read_run("RUN_A", args.run_a)
        rows_b, machine_b = read_run("RUN_B", args.run_b)
        comparisons, left_out = match(rows_a, rows_b)
        groups = summaries(comparisons, args.alpha)
    except BadInput as e:
        print(f"replication.py: {e}", file=sys.stderr)
        return 2
    print("\n".join([describe_run("A", args.run_a, machine_a), describe_run("B", args.run_b, machine_b),
                     *report_lines(comparisons, left_out, groups, args.listing)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
