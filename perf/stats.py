"""The statistics every comparison uses: a ratio's 95% confidence interval from paired rounds, its
verdict, and Holm's correction for the gate.

Interval: a Student t interval on the per-round log-ratios (exponentiated). Why not a bootstrap: a
point stops after as few as 5 rounds, where percentile bootstrap intervals are known to be too
narrow (they cannot be wider than the range of the resamples); the t interval on logs is exact for
log-normal noise, gives A/B and B/A the same interval inverted, and costs nothing inside the
adaptive loop. Times on a loaded machine are right-skewed; logs make them nearly symmetric.
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


def ratio_interval(numerator_seconds: list[float], denominator_seconds: list[float]) -> Interval | None:
    """The speed ratio numerator / denominator, paired by round."""
    return log_interval(log_ratios(numerator_seconds, denominator_seconds))


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
