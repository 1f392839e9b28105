"""Exact (Clopper-Pearson) confidence interval of a binomial proportion, without scipy.

The score of a sample estimates the score of every generated mutant; the interval says how far a
sample of this size can be off. Found by bisection on the binomial tails (math.comb is exact).
"""
import math


def _upper_tail(k, n, p):  # P(X >= k)
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))


def _lower_tail(k, n, p):  # P(X <= k)
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(0, k + 1))


def _bisect(predicate, lo=0.0, hi=1.0, steps=60):
    """The boundary p in [lo, hi] where `predicate` (true below it, false above) changes."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if predicate(mid) else (lo, mid)
    return (lo + hi) / 2


def clopper_pearson(k, n, confidence=0.95):
    """(lower, upper) for k successes out of n; (None, None) when n is 0."""
    if n == 0:
        return None, None
    alpha = 1 - confidence
    # lower: the p where P(X >= k) = alpha/2; upper: the p where P(X <= k) = alpha/2.
    lower = 0.0 if k == 0 else _bisect(lambda p: _upper_tail(k, n, p) < alpha / 2)
    upper = 1.0 if k == n else _bisect(lambda p: _lower_tail(k, n, p) > alpha / 2)
    return lower, upper
