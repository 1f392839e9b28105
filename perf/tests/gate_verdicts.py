"""The gate's verdicts on made-up measurements: what fails, what is only reported, when it refuses to
judge, and how its error rates are counted from recorded checks.

Usage: gate_verdicts.py  (unittest; needs scipy, as perf/gate.py)"""
import math
import sys
import tempfile
import types
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import engine  # noqa: E402
import gate  # noqa: E402
import stats  # noqa: E402
from stats import holm_significant  # noqa: E402


def interval(estimate: float, half_width_pct: float, launches: int = 5) -> dict:
    """A head / base interval as the gate records it (symmetric on the log scale)."""
    half = math.log(1 + half_width_pct / 100)
    return {"estimate": estimate, "low": estimate * math.exp(-half), "high": estimate * math.exp(half),
            "df": launches - 1, "launches": launches, "rounds": 2 * launches}


NAME = "step/m/d/16/64"


def point(name=NAME, disturbances=(), **ratios) -> dict:
    return {"point": name, "disturbances": list(disturbances), "treated_rounds": 0, "foreign_cpus": 0.0,
            "ratios": {label.replace("_", " "): i for label, i in ratios.items()}}


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


class FallTest(unittest.TestCase):
    def test_the_p_of_a_fall_by_hand(self):
        # ln 0.9 = -0.10536 with se = ln(1.05) / t(0.975, 4): t = -0.10536 / (0.04879 / 2.77645) = -5.996.
        i = interval(0.9, 5.0)
        se = math.log(1.05) / gate.student_t.ppf(0.975, 4)
        self.assertAlmostEqual(gate.p_of_fall(i), gate.student_t.cdf(math.log(0.9) / se, 4), places=12)
        self.assertLess(gate.p_of_fall(i), 0.005)

    def test_no_change_is_a_half(self):
        self.assertAlmostEqual(gate.p_of_fall(interval(1.0, 5.0)), 0.5, places=12)

    def test_it_agrees_with_the_engine_s_interval(self):
        # The gate reads back what stats.nested_log_interval built: the interval's own t quantile.
        built = stats.nested_log_interval([-0.1, -0.12, -0.05, -0.07, -0.11, -0.09], [1, 1, 2, 2, 3, 3])
        record = gate.interval_record(built)
        means = [-0.11, -0.06, -0.10]
        t = (sum(means) / 3) / (stats.statistics.stdev(means) / math.sqrt(3))
        self.assertAlmostEqual(gate.p_of_fall(record), gate.student_t.cdf(t, 2), places=9)


class Verdicts(unittest.TestCase):
    def test_an_unchanged_build_passes(self):
        verdicts = gate.judge([point(a=interval(1.01, 3.0), b=interval(0.99, 3.0))])
        self.assertEqual(verdicts, {f"{NAME}: a": "ok", f"{NAME}: b": "ok"})

    def test_a_significant_fall_beyond_the_minimum_fails(self):
        verdicts = gate.judge([point(a=interval(0.90, 3.0), b=interval(1.0, 3.0))])
        self.assertEqual(verdicts, {f"{NAME}: a": "REGRESSION", f"{NAME}: b": "ok"})

    def test_a_significant_fall_below_the_minimum_is_not_failed(self):
        verdicts = gate.judge([point(a=interval(0.97, 0.5))])  # -3%, very precise: what two builds differ by
        self.assertEqual(verdicts, {f"{NAME}: a": "ok"})

    def test_a_wide_interval_is_no_evidence(self):
        self.assertEqual(gate.judge([point(a=interval(0.90, 15.0))]), {f"{NAME}: a": "ok"})

    def test_holm_over_the_workloads(self):
        # p about 0.02 alone fails; among six workloads it must beat 0.05 / 6.
        alone = interval(0.94, 5.9)
        self.assertLess(gate.p_of_fall(alone), 0.05)
        self.assertGreater(gate.p_of_fall(alone), 0.05 / 6)
        self.assertEqual(gate.judge([point(a=alone)]), {f"{NAME}: a": "REGRESSION"})
        many = {f"w{i}": interval(1.0, 4.6) for i in range(5)}
        self.assertEqual(gate.judge([point(a=alone, **many)])[f"{NAME}: a"], "ok")

    def test_an_improvement_is_reported_not_failed(self):
        self.assertEqual(gate.judge([point(a=interval(1.2, 3.0))]), {f"{NAME}: a": "improved"})

    def test_the_same_arm_at_two_points_is_two_workloads(self):
        # Both points have "cpp padded / cpp padded @base": a fall at one must not hide behind the other.
        verdicts = gate.judge([point("step/tft/d/16/64", a=interval(0.85, 3.0)), point(a=interval(1.0, 3.0))])
        self.assertEqual(verdicts, {"step/tft/d/16/64: a": "REGRESSION", f"{NAME}: a": "ok"})


class Refusal(unittest.TestCase):
    def test_a_disturbed_point_is_not_judged(self):
        points = [point("step/a/d/16/64"), point("step/b/d/16/64", ["busy: other work took 0.95 CPUs beside the workers"])]
        why = gate.refusal(points)
        self.assertTrue(why.startswith("gate: not judged: the machine disturbed 1 of 2 points"), why)
        self.assertIn("busy", why)
        self.assertEqual(why.count("\n"), 0)

    def test_an_undisturbed_run_is_judged(self):
        self.assertEqual(gate.refusal([point()]), "")

    def test_the_refusal_is_its_own_exit_status(self):
        self.assertNotIn(gate.REFUSED, (0, 1))


class ErrorRates(unittest.TestCase):
    def entry(self, cpp: float, python: float = 1.0, slowdown: float = 0.0, disturbed=False) -> dict:
        p = point(disturbances=["busy: x"] if disturbed else [])
        p["ratios"] = {"cpp padded / cpp padded @base": interval(cpp, 3.0),
                       "python padded_eager / python padded_eager @base": interval(python, 3.0)}
        return {"slowdown": slowdown, "points": [p]}

    def test_false_alarms_come_from_checks_without_a_slowdown(self):
        entries = [self.entry(1.0), self.entry(0.85), self.entry(1.0, 0.96), self.entry(0.8, disturbed=True),
                   self.entry(0.9, 0.9, slowdown=0.1)]
        out = gate.error_rates(entries)
        self.assertEqual((out["checks"], out["refused"]), (5, 1))
        alarms = out["false_alarms"]
        self.assertEqual((alarms["checks"], alarms["failed"], alarms["comparisons"], alarms["comparisons_failed"]),
                         (3, 1, 6, 1))
        self.assertEqual(alarms["intervals_covering_1"], "4/6")  # 0.85 and 0.96 at ±3% do not
        self.assertAlmostEqual(alarms["comparisons_upper_95"], gate.upper_bound(1, 6))

    def test_power_is_per_path_slowed_alone(self):
        # 0.91 at ±3% over 5 launches: p far below 0.05 / 2, and beyond a 5% fall; 0.96 is significant
        # but within 5%; 1.0 is no fall.
        entries = [self.entry(0.91, 0.96, slowdown=0.1), self.entry(0.91, 1.0, slowdown=0.1),
                   self.entry(1.0, 1.0, slowdown=0.1), self.entry(0.8, 0.8, slowdown=0.2)]
        out = gate.error_rates(entries)
        power = out["power+10%"]
        self.assertEqual((power["checks"], power["failed_all_slowed"], power["caught"], power["comparisons"]),
                         (3, 2, 2, 6))
        self.assertEqual(power["by_workload"], {f"{NAME}: cpp padded / cpp padded @base": "2/3",
                                                f"{NAME}: python padded_eager / python padded_eager @base": "0/3"})
        self.assertEqual((out["power+20%"]["caught"], out["power+20%"]["comparisons"]), (2, 2))
        tables = gate.error_rates_markdown(out)
        self.assertIn("| +10% | 3 | 2 | 2/6 | 33% |", tables)
        self.assertIn(f"| {NAME}: cpp padded / cpp padded @base | 2/3 | 1/1 |", tables)

    def test_checks_recorded_with_slowed_copies_are_refused(self):
        entry = self.entry(1.0)
        entry["points"][0]["slowdowns"] = {"cpp padded+10% @slowed": 0.1}
        with self.assertRaises(SystemExit) as caught:
            gate.error_rates([self.entry(1.0), entry])
        self.assertIn("slowed copies", str(caught.exception))

    def test_a_failed_gate_arm_ends_the_gate_at_once(self):
        good = types.SimpleNamespace(arm=types.SimpleNamespace(label="cpp padded"), status="ok")
        bad = types.SimpleNamespace(arm=types.SimpleNamespace(label="cpp packed @base"), status="error: died")
        m = types.SimpleNamespace(point=types.SimpleNamespace(name=NAME), arms={"a": good, "b": bad})
        with self.assertRaises(SystemExit) as caught:
            gate.stop_on_failure(0, m)
        self.assertIn("cpp packed @base: error: died", str(caught.exception))
        m.arms = {"a": good}
        gate.stop_on_failure(0, m)  # nothing failed: the gate goes on

    def test_the_exact_upper_bound(self):
        self.assertAlmostEqual(gate.upper_bound(0, 60), 1 - 0.025 ** (1 / 60), places=9)
        self.assertLess(gate.upper_bound(0, 72), 0.05)
        self.assertEqual(gate.upper_bound(0, 0), 1.0)

    def test_the_slowdown_is_a_percent(self):
        self.assertEqual(gate.parse_slowdown("10"), 0.1)
        self.assertEqual(gate.parse_slowdown("0"), 0.0)
        for bad in ("x", "-5", "2000"):
            with self.assertRaises(SystemExit):
                gate.parse_slowdown(bad)


class BaseWorkers(unittest.TestCase):
    def test_a_power_check_slows_the_head_arms_in_place(self):
        import comparisons
        point = comparisons.gate_points(gate.gate_settings())[0]
        arms = list(point.arms)
        slowed = gate.head_slowdowns(point, 0.1)
        self.assertEqual(point.arms, arms)  # no arm added: the real gate's design
        self.assertEqual(set(slowed), {r.numerator.label for r in point.ratios} | {point.control_twin.label})
        self.assertEqual(set(slowed.values()), {0.1})
        self.assertEqual(gate.head_slowdowns(point, 0.0), {})

    def test_the_base_s_workers_hold_what_the_head_s_do(self):
        import comparisons
        for point in comparisons.gate_points(gate.gate_settings()):
            head = sorted(a.label for a in point.arms + [point.control_twin] if not a.build)
            base = sorted(a.label.removesuffix(" @base") for a in point.arms if a.build == "base")
            self.assertEqual(head, base, point.name)

    def test_the_base_build_s_workers_run_from_its_own_tree(self):
        with tempfile.TemporaryDirectory() as tmp:
            root, build = Path(tmp) / "src", Path(tmp) / "src" / "build" / "release"
            workers = engine.Workers(Path("head"), "py", Path(tmp), "gate", other_builds={"base": (root, build)})
            cpp, python = workers["cpp@base"], workers["python@base"]
            self.assertEqual((cpp.argv, cpp.cwd), ([str(build / "perf" / "perf_worker")], root))
            self.assertEqual((python.argv[0], python.cwd), ("py", root / "reference"))
            self.assertIsNone(cpp.process)  # started on first use

    def test_an_unknown_base_is_one_line(self):
        with self.assertRaises(SystemExit) as caught:
            gate.resolve("no-such-ref-anywhere")
        self.assertIn("--base", str(caught.exception))


class InstructionVerdicts(unittest.TestCase):
    def test_both_directions_beyond_two_percent_fail(self):
        base = {"counts": {"a": 1000, "b": 1000, "c": 1000}, "margins": {}}
        rows = gate.compare_instructions(base, {"a": 1030, "b": 970, "c": 1010})
        self.assertEqual({r[0]: r[-1] for r in rows},
                         {"a": "REGRESSION", "b": "IMPROVED (update the baseline)", "c": "ok"})
        self.assertEqual(gate.failing(rows), {"a", "b"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
