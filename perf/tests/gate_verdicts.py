"""The gate's verdicts on made-up measurements: what fails, what is only reported, and the
characterisation's counting.

Usage: gate_verdicts.py  (unittest; needs scipy, as perf/gate.py)"""
import math
import random
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gate  # noqa: E402
from stats import holm_significant  # noqa: E402

ROUNDS = 12


def log_ratios(seed: int, **medians: float) -> dict[str, list[float]]:
    """ROUNDS log-ratios per name around log(median), with this machine's paired noise (sd 0.05)."""
    rng = random.Random(seed)
    return {name: [math.log(m) + rng.gauss(0, 0.05) for _ in range(ROUNDS)] for name, m in medians.items()}


def verdicts(rows):
    return {r[0]: r[-1] for r in rows}


class HolmCorrection(unittest.TestCase):
    def test_one_p_below_alpha_among_twenty_is_not_significant(self):
        p = {f"r{i}": 0.5 for i in range(19)} | {"r19": 0.034}
        self.assertEqual(holm_significant(p, 0.05), set())

    def test_a_clear_difference_stays_significant(self):
        p = {f"r{i}": 0.5 for i in range(19)} | {"r19": 4e-5}
        self.assertEqual(holm_significant(p, 0.05), {"r19"})

    def test_steps_down_in_order_and_stops_at_the_first_miss(self):
        p = {"a": 0.001, "b": 0.02, "c": 0.03}  # thresholds 0.05/3, 0.05/2, 0.05/1
        self.assertEqual(holm_significant(p, 0.05), {"a", "b", "c"})
        p = {"a": 0.001, "b": 0.03, "c": 0.04}  # b misses 0.025, so c counts neither, though 0.04 < 0.05
        self.assertEqual(holm_significant(p, 0.05), {"a"})


class RatioTest(unittest.TestCase):
    def test_the_change_and_its_interval(self):
        base, now = [0.0, 0.1, -0.1], [-0.2, -0.1, -0.3]  # means 0 and -0.2: a fall of 18.1%
        change, low, high, p = gate.ratio_test(base, now, 10.0)
        self.assertAlmostEqual(change, -18.127, places=2)
        self.assertLess(low, change)
        self.assertGreater(high, change)
        # Welch's t against a fall of exactly 10%: (d - ln 0.9) / se with se = sqrt(0.01/3 * 2).
        self.assertAlmostEqual(p, gate.student_t.cdf((-0.2 - gate.math.log(0.9)) / (0.02 / 3) ** 0.5, 4), places=6)

    def test_a_fall_within_the_margin_is_not_evidence(self):
        *_, p = gate.ratio_test([0.0] * 5 + [0.001], [-0.05] * 5 + [-0.049], 10.0)  # -5%, very precise
        self.assertGreater(p, 0.5)


class RatioVerdicts(unittest.TestCase):
    def test_an_unchanged_build_passes(self):
        rows = gate.compare_ratios({"log_ratios": log_ratios(1, x=1.0, y=0.7)}, log_ratios(2, x=1.0, y=0.7), 10.0)
        self.assertEqual(gate.failing(rows), set())

    def test_a_slower_path_beyond_the_margin_fails(self):
        rows = gate.compare_ratios({"log_ratios": log_ratios(1, x=1.0, y=0.7)}, log_ratios(2, x=1.0, y=0.5), 10.0)
        self.assertEqual(verdicts(rows)["y"], "REGRESSION")
        self.assertEqual(gate.failing(rows), {"y"})

    def test_an_improvement_is_reported_not_failed(self):
        rows = gate.compare_ratios({"log_ratios": log_ratios(1, x=1.0)}, log_ratios(2, x=2.0), 10.0)
        self.assertTrue(verdicts(rows)["x"].startswith("improved"))
        self.assertEqual(gate.failing(rows), set())

    def test_a_ratio_without_a_baseline_fails(self):
        rows = gate.compare_ratios({"log_ratios": log_ratios(1, x=1.0)}, log_ratios(2, x=1.0, new=0.5), 10.0)
        self.assertEqual(gate.failing(rows), {"new"})


class Characterise(unittest.TestCase):
    """Simulated gate runs from recordings: a block as baseline, a later block as the check."""

    def recording(self, seed: int, blocks: int) -> dict:
        rng = random.Random(seed)
        names = {"packed/padded d": 0.7, "stepwise/padded d": 1.0, "packed+10%/padded d": 0.7 / 1.1,
                 "packed+20%/padded d": 0.7 / 1.2, "packed+50%/padded d": 0.7 / 1.5}
        return {"log_ratios": {n: [math.log(m) + rng.gauss(0, 0.03) for _ in range(ROUNDS * blocks)]
                               for n, m in names.items()}}

    def test_counts_runs_false_alarms_and_catches(self):
        out = gate.characterise([self.recording(1, 3), self.recording(2, 2)], ROUNDS, 10.0)
        self.assertEqual((out["blocks"], out["runs"]), (5, 20))  # 5 blocks, every ordered pair
        self.assertEqual(out["false_alarms"], 0)
        self.assertEqual(out["caught+50%"], 20)  # a 33% fall with 3% noise: every run
        self.assertEqual(out["caught+20%"], 20)  # a 17% fall against a 10% margin, 3% noise
        self.assertLess(out["caught+10%"], 20)   # a 9% fall is inside the margin


class InstructionVerdicts(unittest.TestCase):
    def test_both_directions_beyond_two_percent_fail(self):
        base = {"counts": {"a": 1000, "b": 1000, "c": 1000}, "margins": {}}
        rows = gate.compare_instructions(base, {"a": 1030, "b": 970, "c": 1010})
        self.assertEqual(verdicts(rows), {"a": "REGRESSION", "b": "IMPROVED (update the baseline)", "c": "ok"})
        self.assertEqual(gate.failing(rows), {"a", "b"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
