"""variance_levels.py on made-up rounds: the one-way analysis by hand, components recovered from
rounds with known launch and run effects, the best rounds per launch, and its refusals.

Usage: variance_levels_test.py  (unittest)"""
import json
import math
import random
import statistics
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import comparisons  # noqa: E402
import variance_levels  # noqa: E402

POINT = next(p for p in comparisons.points(comparisons.load_profile("levels")) if p.kind == "lstm_step")


def record(rng: random.Random, launches: int, rounds: int, launch_sd: float, round_sd: float, shift=0.0) -> dict:
    """A point's rounds.json entry: every arm at 1 s per step but the packed one, whose log speed ratio
    over padded is shift + a launch effect + round noise."""
    arms = {a.label: [] for a in POINT.arms + [POINT.control_twin]}
    launch_of_round = []
    for launch in range(1, launches + 1):
        effect = rng.gauss(0, launch_sd)
        for _ in range(rounds):
            for label in arms:
                arms[label].append(1.0)
            arms["cpp packed"][-1] = math.exp(-(shift + effect + rng.gauss(0, round_sd)))
            launch_of_round.append(launch)
    return {"launch": launch_of_round, "arms": arms, "relaunch_s": 8.0, "round_s": 2.0}


def run(points: dict) -> dict:
    return {"profile": "levels", "rounds": {"points": points}}


class OneWay(unittest.TestCase):
    def test_by_hand(self):
        # groups (0, 2) and (4, 6): means 1 and 5, within variance 2, between mean square 2 * 8 = 16:
        # launch component (16 - 2) / 2 = 7.
        mean, within, between, n = variance_levels.one_way([[0.0, 2.0], [4.0, 6.0]])
        self.assertEqual((mean, within, between, n), (3.0, 2.0, 7.0, 2))

    def test_a_negative_estimate_is_zero(self):
        self.assertEqual(variance_levels.one_way([[0.0, 4.0], [1.0, 3.0]])[2], 0.0)


class Decompose(unittest.TestCase):
    def test_components_are_recovered(self):
        rng = random.Random(1)
        rows = variance_levels.decompose([run({POINT.name: record(rng, 400, 3, 0.04, 0.02)})])
        packed = next(r for r in rows if r["ratio"] == "cpp packed / cpp padded")
        self.assertAlmostEqual(math.sqrt(packed["round_var"]), 0.02, delta=0.002)
        self.assertAlmostEqual(math.sqrt(packed["launch_var"]), 0.04, delta=0.004)
        self.assertNotIn("run_var", packed)
        control = next(r for r in rows if r["control"])
        self.assertEqual((control["round_var"], control["launch_var"]), (0.0, 0.0))

    def test_runs_apart_show_their_own_component(self):
        rng = random.Random(2)
        shifts = (0.0, 0.1, -0.1, 0.05)  # what differs between runs: no interval of one run holds it
        runs = [run({POINT.name: record(rng, 200, 3, 0.0, 0.02, shift)}) for shift in shifts]
        packed = next(r for r in variance_levels.decompose(runs) if r["ratio"] == "cpp packed / cpp padded")
        self.assertAlmostEqual(math.sqrt(packed["run_var"]), statistics.stdev(shifts), delta=0.005)

    def test_the_best_rounds_per_launch(self):
        # launch 8 s, round 2 s, round variance 4x the launch's: sqrt(4 * 4) = 4.
        self.assertEqual(variance_levels.best_rounds_per_launch(8.0, 2.0, 4.0, 1.0), 4)
        self.assertEqual(variance_levels.best_rounds_per_launch(8.0, 2.0, 4.0, 0.0), 10)
        self.assertEqual(variance_levels.best_rounds_per_launch(1.0, 2.0, 0.01, 1.0), 1)


class Plan(unittest.TestCase):
    KIND = {"kind": "step", "sd_round_pct": 2.0, "sd_launch_pct": 1.0, "round_s": 2.0, "relaunch_s": 4.0}

    def test_the_predicted_half_width_by_hand(self):
        # 2 rounds per launch cost 8 s: 60 s hold 7 launches; sd of a launch mean sqrt(1 + 4 / 2) %.
        width = variance_levels.predicted_half_width_pct(self.KIND, 60.0, 2, 3, 5)
        expected = 100 * (math.exp(variance_levels_t(6) * math.sqrt(0.0001 + 0.0004 / 2) / math.sqrt(7)) - 1)
        self.assertAlmostEqual(width, expected, places=9)

    def test_the_minimum_launches_hold_whatever_the_budget(self):
        short = variance_levels.predicted_half_width_pct(self.KIND, 1.0, 2, 3, 5)
        self.assertAlmostEqual(short, 100 * (math.exp(variance_levels_t(2) * math.sqrt(0.0003) / math.sqrt(3)) - 1))

    def test_more_budget_resolves_more(self):
        widths = [variance_levels.predicted_half_width_pct(self.KIND, b, 2, 3, 5) for b in (30, 60, 240)]
        self.assertEqual(widths, sorted(widths, reverse=True))


def variance_levels_t(df):
    from scipy.stats import t
    return t.ppf(0.975, df)


class Refusals(unittest.TestCase):
    def test_a_folder_without_rounds(self):
        with tempfile.TemporaryDirectory() as tmp, self.assertRaises(SystemExit) as caught:
            variance_levels.main([tmp])
        self.assertIn("no rounds.json", str(caught.exception))

    def test_runs_of_two_profiles(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name, profile in (("a", "levels"), ("b", "quick")):
                (Path(tmp) / name).mkdir()
                (Path(tmp) / name / "rounds.json").write_text(json.dumps({"points": {}}))
                (Path(tmp) / name / "machine.json").write_text(json.dumps({"profile": profile}))
            with self.assertRaises(SystemExit) as caught:
                variance_levels.main([str(Path(tmp) / "a"), str(Path(tmp) / "b")])
            self.assertIn("different profiles", str(caught.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
