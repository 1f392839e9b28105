"""The measurement engine and its statistics, against a fake worker (tests/fake_worker.py) whose
times are made up: the rounds, their order, the ratios, the adaptive stop and failing arms.

Usage: engine_test.py  (unittest; needs scipy)"""
import math
import os
import random
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import comparisons  # noqa: E402
import engine  # noqa: E402
import stats  # noqa: E402
from comparisons import Arm, Point, Ratio  # noqa: E402


class Statistics(unittest.TestCase):
    def test_the_t_interval_on_log_ratios_by_hand(self):
        # logs 0, 0.1, 0.2: mean 0.1, sd 0.1, t(0.975, 2) = 4.302653: half-width 0.248414.
        interval = stats.log_interval([0.0, 0.1, 0.2])
        self.assertAlmostEqual(interval.estimate, math.exp(0.1), places=9)
        self.assertAlmostEqual(interval.low, math.exp(0.1 - 0.2484138), places=6)
        self.assertAlmostEqual(interval.high, math.exp(0.1 + 0.2484138), places=6)
        self.assertAlmostEqual(interval.half_width_pct, 100 * (math.exp(0.2484138) - 1), places=4)

    def test_a_ratio_is_of_speeds_numerator_over_denominator(self):
        interval = stats.ratio_interval([1.0, 1.1, 0.9], [2.0, 2.2, 1.8])  # numerator takes half the time
        self.assertAlmostEqual(interval.estimate, 2.0, places=9)
        self.assertEqual(interval.verdict, "faster")
        self.assertEqual(stats.ratio_interval([2.0, 2.2, 1.8], [1.0, 1.1, 0.9]).verdict, "slower")

    def test_an_interval_across_one_is_no_difference(self):
        interval = stats.ratio_interval([1.0, 1.2, 0.9, 1.1], [1.1, 1.0, 1.0, 1.05])
        self.assertTrue(interval.covers(1.0))
        self.assertEqual(interval.verdict, "no difference detected")

    def test_one_round_has_no_interval(self):
        self.assertIsNone(stats.ratio_interval([1.0], [2.0]))


class Engine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.log = Path(self.tmp.name) / "runs.log"
        env = dict(os.environ, FAKE_WORKER_LOG=str(self.log))
        self.workers = engine.Workers(Path("unused"), sys.executable, Path(self.tmp.name), "quick")
        self.workers.workers = {side: engine.Worker(side, [sys.executable, str(HERE / "fake_worker.py")], HERE, env,
                                                    Path(self.tmp.name) / f"{side}.log") for side in ("cpp", "python")}

    def tearDown(self):
        self.workers.close()
        self.tmp.cleanup()

    def point(self, modes, budget_s=60.0):
        arms = [Arm("cpp", m) for m in modes] + [Arm("python", "slow")]
        ratios = [Ratio(a, Arm("cpp", "padded")) for a in arms if a != Arm("cpp", "padded")]
        return Point("step", "m", "d", 8, 64, 16, arms, ratios, Arm("cpp", "padded"), budget_s, 0.05)

    def measure(self, point, **settings):
        settings = engine.EngineSettings(**{"min_rounds": 5, "max_rounds": 30, **settings})
        return engine.measure(point, self.workers, settings, random.Random(0), say=lambda text: None)

    def test_ratios_come_out_as_made(self):
        result = self.measure(self.point(["padded", "packed"]))
        packed = result.ratios["cpp packed / cpp padded"]
        self.assertTrue(packed.covers(2.0), packed)  # packed takes half the time
        self.assertTrue(result.ratios["python slow / cpp padded"].covers(0.5))
        self.assertTrue(result.control.covers(1.0))

    def test_rounds_stop_at_the_target_width(self):
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=3.0)
        self.assertEqual(result.stopped, "target")
        self.assertGreaterEqual(result.rounds, 5)
        widest = max(result.ratios[r.label].half_width_pct for r in result.point.ratios)
        self.assertLessEqual(widest, 3.0)

    def test_an_unreachable_target_stops_at_max_rounds(self):
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=7)
        self.assertEqual((result.stopped, result.rounds), ("max rounds", 7))

    def test_every_round_runs_every_arm_once_in_changing_orders(self):
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=8)
        runs = self.log.read_text().splitlines()
        built, arms = len(result.point.arms), len(result.arms)  # the A/A twin runs the control's instance
        calibration = runs[:built]
        rounds = [runs[i:i + arms] for i in range(built, len(runs), arms)]
        control = next(r for r in calibration if r.endswith("|cpp padded"))
        self.assertEqual(len(rounds), 8)
        self.assertTrue(all(sorted(r) == sorted(calibration + [control]) for r in rounds))
        self.assertGreater(len({tuple(r) for r in rounds}), 1)  # shuffled, not a fixed order

    def test_a_sample_is_calibrated_units_not_one(self):
        result = self.measure(self.point(["padded", "packed"]))
        units = result.arms["cpp packed"].units  # 0.05 s of a 0.005 s unit, as one timed unit says
        self.assertTrue(9 <= units <= 11, units)

    def test_a_failing_arm_is_reported_and_its_ratios_left_out(self):
        result = self.measure(self.point(["padded", "packed", "broken"]))
        self.assertTrue(result.arms["cpp broken"].status.startswith("error: arm mode: broken"))
        self.assertNotIn("cpp broken / cpp padded", result.ratios)
        self.assertTrue(result.ratios["cpp packed / cpp padded"].covers(2.0))

    def test_a_worker_that_dies_fails_its_arm_not_the_run(self):
        result = self.measure(self.point(["padded", "packed", "dies"]))
        self.assertIn("died", result.arms["cpp dies"].status)
        # The restarted worker builds the side's other arms again; their ratios are whole.
        self.assertEqual(result.arms["cpp packed"].status, "ok")
        self.assertAlmostEqual(result.ratios["cpp packed / cpp padded"].estimate, 2.0, delta=0.1)
        self.assertAlmostEqual(result.control.estimate, 1.0, delta=0.05)
        self.assertEqual(len(result.arms["cpp packed"].seconds_per_step), result.rounds)

    def test_a_failed_control_stops_the_rounds(self):
        point = self.point(["broken", "packed"])
        point.control = Arm("cpp", "broken")
        point.ratios = [Ratio(Arm("cpp", "packed"), Arm("cpp", "broken"))]
        result = self.measure(point)
        self.assertEqual(result.stopped, "no ratios")


class Declarations(unittest.TestCase):
    def test_every_point_asks_for_ratios_of_its_own_arms(self):
        for profile in ("quick", "full", "padding_free"):
            for point in comparisons.points(comparisons.load_profile(profile)):
                for ratio in point.ratios:
                    self.assertIn(ratio.numerator, point.arms, point.name)
                    self.assertIn(ratio.denominator, point.arms, point.name)

    def test_model_steps_measure_padding_free_and_the_lstm_alone_does_not(self):
        pf = Arm("cpp", "padding_free")
        for profile in ("quick", "full"):
            points = comparisons.points(comparisons.load_profile(profile))
            for point in points:
                if point.kind == "step" and comparisons.model_family(point.what) == "lstm":
                    self.assertIn(Ratio(pf, Arm("cpp", "padded")), point.ratios, point.name)
                    self.assertIn(Ratio(pf, Arm("cpp", "stepwise")), point.ratios, point.name)
                    self.assertIn(Arm("python", "padded_eager"), point.arms, point.name)  # the default: eager arms
                    if Arm("python", "padded_compile") in point.arms:
                        self.assertIn(Ratio(pf, Arm("python", "padded_compile")), point.ratios, point.name)
                if point.kind == "lstm_step":
                    self.assertEqual(point.arms, [Arm("cpp", m) for m in comparisons.STEP_PATHS], point.name)
                if point.kind == "grouping":
                    self.assertIn(Ratio(Arm("cpp", "padding_free_grouped"), Arm("cpp", "padded_grouped")), point.ratios)
                    self.assertIn(Ratio(Arm("cpp", "packed_grouped"), Arm("cpp", "padded_grouped")), point.ratios)

    def test_the_tft_family_runs_padded_only_beside_pytorch(self):
        points = [p for p in comparisons.points(comparisons.load_profile("full")) if p.what in ("tft", "pftft", "xtft")]
        self.assertEqual({p.what for p in points}, {"tft", "pftft", "xtft"})
        self.assertEqual({p.kind for p in points}, {"step", "forward"})
        for point in points:
            modes = {a.mode for a in point.arms}
            self.assertFalse({"packed", "packed_eager", "segmented", "stepwise", "padding_free"} & modes, point.name)
            self.assertIn(Ratio(Arm("cpp", "padded"), Arm("python", "padded_eager")), point.ratios, point.name)
            self.assertEqual(point.model_params["d_model"], 32, point.name)  # the original's sample config

    def test_each_lower_precision_arm_is_paired_with_its_float32_twin(self):
        for device, lower in (("cpu", {"bfloat16"}), ("cuda:0", {"bfloat16", "float16"})):
            points = [p for p in comparisons.points(comparisons.load_profile("quick"), device)
                      if p.kind in ("step", "forward")]
            for point in points:
                self.assertEqual(point.device, device)
                arms = [a for a in point.arms if a.precision != "float32"]
                can_float16 = comparisons.model_spec(point.what).float16_autocast
                self.assertEqual({a.precision for a in arms}, lower - (set() if can_float16 else {"float16"}),
                                 point.name)
                for arm in arms:
                    twin = Arm(arm.side, arm.mode)
                    self.assertIn(Ratio(arm, twin), point.ratios, point.name)
                    self.assertEqual(point.arm_spec(arm)["precision"], arm.precision)
                    self.assertEqual(point.arm_spec(arm)["device"], device)
                    self.assertTrue(arm.label.endswith(" " + arm.precision), arm.label)

    def test_float16_is_asked_only_of_models_that_can_run_it(self):
        points = comparisons.points(comparisons.load_profile("full"), "cuda:0")
        float16 = {p.what for p in points if any(a.precision == "float16" for a in p.arms)}
        self.assertEqual(float16, {"encoder_decoder_lstm"})

    def test_the_gate_points_are_unchanged(self):
        # Its baselines hold these ratios: a new arm or ratio there would make them stale.
        for point in comparisons.gate_points(comparisons.load_profile("gate")):
            self.assertEqual([a.label for a in point.arms], ["cpp padded", "cpp packed", "cpp segmented",
                                                             "cpp stepwise", "python padded_eager"])
            self.assertEqual([r.label for r in point.ratios],
                             ["cpp packed / cpp padded", "cpp segmented / cpp padded", "cpp stepwise / cpp padded",
                              "cpp padded / python padded_eager"])

    def test_the_padding_free_profile(self):
        points = comparisons.points(comparisons.load_profile("padding_free"))
        self.assertEqual({p.kind for p in points}, {"step", "grouping"})
        steps = [p for p in points if p.kind == "step"]
        self.assertEqual({(p.what, p.batch) for p in steps},
                         {(m, b) for m in ("attention_lstm", "encoder_decoder_lstm", "transformer_lstm")
                          for b in (8, 32, 64, 128)})
        for p in steps:
            python_arms = {a.mode for a in p.arms if a.side == "python"}
            compiled = (p.what, p.batch) == ("transformer_lstm", 64)
            self.assertEqual(python_arms, set(comparisons.PYTHON_COMPILED) if compiled else set(), p.name)
            self.assertEqual([a.mode for a in p.arms if a.side == "cpp"], list(comparisons.MODEL_STEP_PATHS))
            for r in p.ratios:  # no ratio asks for an eager arm that is not there
                self.assertNotIn("eager", r.label, p.name)
        grouping = [p for p in points if p.kind == "grouping"]
        self.assertEqual({(p.what, p.batch) for p in grouping}, {("transformer_lstm", 32), ("transformer_lstm", 64)})
        self.assertEqual(len(grouping[0].arms), 6)


if __name__ == "__main__":
    unittest.main(verbosity=2)
