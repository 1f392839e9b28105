"""The gate's verdicts on made-up measurements: what fails, what is only reported.

Usage: gate_verdicts.py  (unittest; needs scipy, as perf/gate.py)"""
import contextlib
import io
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gate  # noqa: E402

# Nine repetitions spread like this machine's: about +-25% around the median.
SPREAD = [0.75, 0.82, 0.9, 0.95, 1.0, 1.05, 1.1, 1.18, 1.25]


def ratios(**medians: float) -> dict[str, list[float]]:
    return {name: [m * s for s in SPREAD] for name, m in medians.items()}


def baseline(**medians: float) -> dict:
    return {"margin_pct": 20.0, "ratios": ratios(**medians)}


def verdicts(rows):
    return {r[0]: r[-1] for r in rows}


class HolmCorrection(unittest.TestCase):
    def test_one_p_below_alpha_among_twenty_is_not_significant(self):
        p = {f"r{i}": 0.5 for i in range(19)} | {"r19": 0.034}
        self.assertEqual(gate.holm_significant(p), set())

    def test_a_clear_difference_stays_significant(self):
        p = {f"r{i}": 0.5 for i in range(19)} | {"r19": 4e-5}
        self.assertEqual(gate.holm_significant(p), {"r19"})

    def test_steps_down_in_order_and_stops_at_the_first_miss(self):
        p = {"a": 0.001, "b": 0.02, "c": 0.03}  # thresholds 0.05/3, 0.05/2, 0.05/1
        self.assertEqual(gate.holm_significant(p), {"a", "b", "c"})
        p = {"a": 0.001, "b": 0.03, "c": 0.04}  # b misses 0.025, so c counts neither, though 0.04 < 0.05
        self.assertEqual(gate.holm_significant(p), {"a"})


class RatioVerdicts(unittest.TestCase):
    def test_an_unchanged_build_passes(self):
        rows = gate.compare_ratios(baseline(x=1.0, y=0.7), ratios(x=1.0, y=0.7))
        self.assertEqual(gate.failing(rows), set())

    def test_a_slower_path_beyond_the_margin_fails(self):
        rows = gate.compare_ratios(baseline(x=1.0, y=0.7), ratios(x=1.0, y=0.35))
        self.assertEqual(verdicts(rows)["y"], "REGRESSION")
        self.assertEqual(gate.failing(rows), {"y"})

    def test_a_significant_change_within_the_margin_passes(self):
        base = baseline(x=1.0)
        base["ratios"]["x"] = [1.0 + i / 1000 for i in range(9)]
        rows = gate.compare_ratios(base, {"x": [0.9 + i / 1000 for i in range(9)]})  # -10%, p tiny
        self.assertEqual(gate.failing(rows), set())

    def test_an_improvement_is_reported_not_failed(self):
        rows = gate.compare_ratios(baseline(x=1.0), ratios(x=2.0))
        self.assertTrue(verdicts(rows)["x"].startswith("improved"))
        self.assertEqual(gate.failing(rows), set())

    def test_a_ratio_without_a_baseline_fails(self):
        rows = gate.compare_ratios(baseline(x=1.0), ratios(x=1.0, new=0.5))
        self.assertEqual(gate.failing(rows), {"new"})


class ConfirmationRounds(unittest.TestCase):
    """gate.check measures again when a ratio is flagged; only a ratio that fails twice fails."""

    def run_check(self, *measurements):
        rounds = iter(measurements)
        base = baseline(x=1.0, y=0.7) | {"commit": "c", "machine": "m"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return gate.check("ratios", base, lambda: next(rounds))

    def test_a_regression_seen_twice_fails(self):
        self.assertEqual(self.run_check(ratios(x=1.0, y=0.3), ratios(x=1.0, y=0.3)), {"y"})

    def test_a_busy_spell_in_one_set_of_rounds_passes(self):
        self.assertEqual(self.run_check(ratios(x=0.4, y=0.3), ratios(x=1.0, y=0.7)), set())

    def test_only_the_flagged_ratios_can_fail_in_the_confirmation(self):
        self.assertEqual(self.run_check(ratios(x=1.0, y=0.3), ratios(x=0.4, y=0.3)), {"y"})

    def test_nothing_flagged_measures_once(self):
        self.assertEqual(self.run_check(ratios(x=1.0, y=0.7)), set())  # a second measure() would raise


class InstructionVerdicts(unittest.TestCase):
    def test_both_directions_beyond_two_percent_fail(self):
        base = {"counts": {"a": 1000, "b": 1000, "c": 1000}, "margins": {}}
        rows = gate.compare_instructions(base, {"a": 1030, "b": 970, "c": 1010})
        self.assertEqual(verdicts(rows), {"a": "REGRESSION", "b": "IMPROVED (update the baseline)", "c": "ok"})
        self.assertEqual(gate.failing(rows), {"a", "b"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
