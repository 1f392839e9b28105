"""variance_levels.py on made-up rounds: the one-way analysis by hand, components recovered from
rounds with known launch and run effects, the best rounds per launch, what a profile should resolve
(its plan line), and its refusals.

Usage: variance_levels_test.py  (unittest)"""
import dataclasses
import json
import math
import random
import statistics
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

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


def measured(round_sd: float, launch_sd: float) -> dict:
    """A made-up variance_levels.json: POINT's ratios at these components, 2 s a round, 8 s a relaunch."""
    rows = [{"point": POINT.name, "kind": POINT.kind, "ratio": r.label, "control": False, "round_var": round_sd ** 2,
             "launch_var": launch_sd ** 2, "round_s": 2.0, "relaunch_s": 8.0} for r in POINT.ratios]
    return {"runs": [{"profile": "levels", "commit": "test"}], "ratios": rows}


class WhatAProfileResolves(unittest.TestCase):
    ENGINE = {"target_half_width_pct": 5.0, "rounds_per_launch": {"lstm_step": 2}, "min_launches": 3, "min_rounds": 5}

    def plan(self, data: dict, points: list, engine: dict) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "variance_levels.json"
            path.write_text(json.dumps(data))
            with mock.patch.object(variance_levels, "MEASURED", path):
                return variance_levels.plan(points, {"engine": engine})

    def resolved(self, line: str) -> int:
        return int(line.split("about ")[1].split(" of ")[0])

    def test_its_own_point_costs_and_noise(self):
        # POINT itself, 2 rounds a launch: 12 s a launch; the minimum 3 launches at sd 1% resolve, at 30% not.
        point = dataclasses.replace(POINT, budget_s=36.0)
        self.assertEqual(self.resolved(self.plan(measured(0.01, 0.0), [point], self.ENGINE)), len(POINT.ratios))
        self.assertEqual(self.resolved(self.plan(measured(0.30, 0.10), [point], self.ENGINE)), 0)

    def test_a_run_budget_is_shared_equally(self):
        # Two such points, noisy enough to need about 10 launches each: a run budget for 20 resolves
        # both, one for 10 neither (each gets 5).
        points = [dataclasses.replace(POINT, budget_s=10_000.0), dataclasses.replace(POINT, budget_s=10_000.0,
                                                                                   batch=POINT.batch + 1)]
        data = measured(0.05, 0.02)
        enough = self.plan(data, points, {**self.ENGINE, "run_budget_s": 20 * 12.0})
        short = self.plan(data, points, {**self.ENGINE, "run_budget_s": 10 * 12.0})
        self.assertEqual(self.resolved(enough), 2 * len(POINT.ratios))
        self.assertEqual(self.resolved(short), 0)
        self.assertIn("equal share each of the run's 4 minutes", enough)

    def test_kinds_not_measured_are_named(self):
        step = next(p for p in comparisons.points(comparisons.load_profile("levels")) if p.kind == "step")
        line = self.plan(measured(0.01, 0.0), [step], self.ENGINE)
        self.assertIn(f"({len(step.ratios)} of kinds not measured)", line)


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
