"""The statistics every comparison uses: a ratio's 95% confidence interval from paired rounds, its
verdict, and Holm's correction for the gate.

Interval: a Student t interval on the log-ratios (exponentiated). Why not a bootstrap: a
point stops after as few as 5 rounds, where percentile bootstrap intervals are known to be too
narrow (they cannot be wider than the range of the resamples); the t interval on logs is exact for
log-normal noise, gives A/B and B/A the same interval inverted, and costs nothing inside the
adaptive loop. Times on a loaded machine are right-skewed; logs make them nearly symmetric.

Two levels: a point's rounds are spread over several launches of fresh worker processes (engine.py),
because what a process fixes once (memory layout, allocator state, thread placement, a compiled
graph) is constant across its rounds and invisible to their spread. With rounds grouped by launch,
the interval is the t interval over the launch means (df = launches - 1): under the nested model
(round noise inside a launch effect) the spread of the launch means estimates the variance of their
mean without bias, whatever the share of each level, which no pooled-rounds interval does. With one
launch it is the rounds' interval, and says so (Interval.level).
"""
from __future__ import annotations

import dataclasses
import math
import statistics

from scipy.stats import t as student_t

CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class Interval:
    estimate: float  # geometric mean
    low: float
    high: float
    rounds: int
    launches: int = 1
    df: int = -1  # the t quantile's degrees of freedom; -1: rounds - 1 (intervals built before launches)

    def __post_init__(self):
        if self.df < 0:
            object.__setattr__(self, "df", max(self.rounds - 1, 0))

    @property
    def level(self) -> str:
        """What the interval's spread covers: "launches" (rounds and launches) or "rounds" only."""
        return "launches" if self.launches > 1 else "rounds"

    @property
    def half_width_pct(self) -> float:
        """(high / estimate - 1) in percent: the interval is symmetric in log space."""
        return 100.0 * (self.high / self.estimate - 1.0)

    @property
    def verdict(self) -> str:
        """For a ratio of speeds (numerator it/s / denominator it/s)."""
        if self.low > 1.0:
            return "faster"
        if self.high < 1.0:
            return "slower"
        return "no difference detected"

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


def log_interval(logs: list[float], confidence: float = CONFIDENCE) -> Interval | None:
    """exp of the t interval on the mean of `logs`; None with fewer than 2 values."""
    n = len(logs)
    if n < 2:
        return None
    mean, sd = statistics.fmean(logs), statistics.stdev(logs)
    half = student_t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half), n)


def log_ratios(numerator_seconds: list[float], denominator_seconds: list[float]) -> list[float]:
    """ln of the speed ratio numerator / denominator in each round, from per-round seconds per step
    of each, paired by round (round i of one with round i of the other)."""
    return [math.log(b / a) for a, b in zip(numerator_seconds, denominator_seconds) if a > 0 and b > 0]


def nested_log_interval(logs: list[float], launch_of_round: list[int],
                        confidence: float = CONFIDENCE) -> Interval | None:
    """exp of the t interval over the launch means of `logs` (round i ran in launch launch_of_round[i]);
    each launch weighs the same. With a single launch: the rounds' interval (log_interval)."""
    by_launch: dict[int, list[float]] = {}
    for value, launch in zip(logs, launch_of_round):
        by_launch.setdefault(launch, []).append(value)
    if len(by_launch) < 2:
        return log_interval(logs, confidence)
    means = [statistics.fmean(v) for v in by_launch.values()]
    inner = log_interval(means, confidence)
    return Interval(inner.estimate, inner.low, inner.high, len(logs), len(means), len(means) - 1)


def ratio_interval(numerator_seconds: list[float], denominator_seconds: list[float],
                   launch_of_round: list[int] | None = None) -> Interval | None:
    """The speed ratio numerator / denominator, paired by round; over launches when their indices are
    given (rounds.json's "launch")."""
    if launch_of_round is None:
        return log_interval(log_ratios(numerator_seconds, denominator_seconds))
    kept = [(math.log(b / a), launch) for a, b, launch in zip(numerator_seconds, denominator_seconds, launch_of_round)
            if a > 0 and b > 0]
    return nested_log_interval([k[0] for k in kept], [k[1] for k in kept])


def rate_interval(seconds: list[float]) -> Interval | None:
    """it/s of one arm across its rounds (geometric mean, with the drift of the machine in it)."""
    return log_interval([-math.log(s) for s in seconds if s > 0])


def mean_interval(values: list[float], confidence: float = CONFIDENCE) -> Interval | None:
    """The t interval on the mean of `values` themselves (shares, which can be 0: no logs); None
    with fewer than 2."""
    n = len(values)
    if n < 2:
        return None
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = student_t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def holm_significant(p_values: dict[str, float], alpha: float) -> set[str]:
    """The names whose p-value stays below alpha under Holm's step-down correction, which keeps the
    chance of any false alarm among all of them at alpha."""
    significant = set()
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    for rank, (name, p) in enumerate(ordered):
        if p >= alpha / (len(ordered) - rank):
            break
        significant.add(name)
    return significant


# A "no loss" claim is a non-inferiority test, not the absence of a significant loss: an interval
# too wide to exclude 1 is no evidence of no loss. The bound is a 5% loss because that is the
# smallest the suite's typical ±5% target half-width can resolve.
NON_INFERIORITY_BOUND = 0.95


def non_inferiority(interval: Interval, bound: float = NON_INFERIORITY_BOUND) -> str:
    """For a speed ratio (candidate it/s / reference it/s): "non-inferior" when the interval's low end
    is at or above `bound`, "inferior" when its high end is below it, "undecided" when it straddles."""
    if interval.low >= bound:
        return "non-inferior"
    if interval.high < bound:
        return "inferior"
    return "undecided"
