"""The measurement engine and its statistics, against a fake worker (tests/fake_worker.py) whose
times are made up: the rounds, their order, the ratios, the adaptive stop and failing arms.

Usage: engine_test.py  (unittest; needs scipy)"""
import dataclasses
import io
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
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

    def test_over_launches_the_interval_is_the_t_interval_of_their_means(self):
        # launch means 0.1, 0.2, 0.3 (two rounds each): mean 0.2, sd 0.1, t(0.975, 2) = 4.302653.
        logs, launches = [0.05, 0.15, 0.1, 0.3, 0.3, 0.3], [1, 1, 2, 2, 3, 3]
        interval = stats.nested_log_interval(logs, launches)
        self.assertAlmostEqual(interval.estimate, math.exp(0.2), places=9)
        self.assertAlmostEqual(interval.high, math.exp(0.2 + 0.2484138), places=6)
        self.assertEqual((interval.rounds, interval.launches, interval.df, interval.level), (6, 3, 2, "launches"))
        one = stats.nested_log_interval(logs, [1] * 6)  # one launch: the rounds' interval, named so
        self.assertEqual((one.df, one.level), (5, "rounds"))
        self.assertEqual(one, stats.log_interval(logs))

    def test_launch_means_cover_what_a_process_fixes_and_pooled_rounds_do_not(self):
        # Made-up rounds: a launch effect of sd 0.05 (what a process fixes), round noise of sd 0.02,
        # 4 launches of 3 rounds. The interval over launch means keeps its 95%; one over the pooled
        # rounds, as if they were independent, covers the truth far less often.
        rng = random.Random(7)
        trials, nested, pooled = 2000, 0, 0
        for _ in range(trials):
            logs, launches = [], []
            for launch in range(4):
                effect = rng.gauss(0, 0.05)
                for _ in range(3):
                    logs.append(effect + rng.gauss(0, 0.02))
                    launches.append(launch)
            nested += stats.nested_log_interval(logs, launches).covers(1.0)
            pooled += stats.log_interval(logs).covers(1.0)
        self.assertGreaterEqual(nested / trials, 0.93)
        self.assertLessEqual(nested / trials, 0.97)
        self.assertLess(pooled / trials, 0.80)

    def test_non_inferiority_needs_the_low_end_at_the_bound_not_an_interval_reaching_1(self):
        judge = lambda low, high: stats.non_inferiority(stats.Interval(1.0, low, high, 6))  # noqa: E731
        self.assertEqual(stats.NON_INFERIORITY_BOUND, 0.95)
        self.assertEqual(judge(0.76, 1.22), "undecided")  # covers 1, too wide to show no loss
        self.assertEqual(judge(0.97, 1.03), "non-inferior")
        self.assertEqual(judge(0.95, 0.99), "non-inferior")  # significantly slower, yet by under 5%
        self.assertEqual(judge(0.90, 0.95), "undecided")  # the high end at the bound is not below it
        self.assertEqual(judge(0.85, 0.94), "inferior")
        self.assertEqual(stats.non_inferiority(stats.Interval(1.0, 0.85, 0.94, 6), bound=0.8), "non-inferior")


class Engine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.log = Path(self.tmp.name) / "runs.log"
        self.start_workers()

    def start_workers(self, **fake_env):
        env = dict(os.environ, FAKE_WORKER_LOG=str(self.log), **fake_env)
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
        runs = [r for r in self.log.read_text().splitlines() if r != "start"]
        built, arms = len(result.point.arms), len(result.arms)  # the A/A twin is calibrated as its control
        calibration = runs[:built]
        rounds = [runs[i:i + arms] for i in range(built, len(runs), arms)]
        self.assertEqual(len(rounds), 8)
        twin = f"{result.point.name}|cpp padded (A/A)"  # an instance of its own
        self.assertTrue(all(sorted(r) == sorted(calibration + [twin]) for r in rounds))
        self.assertGreater(len({tuple(r) for r in rounds}), 1)  # shuffled, not a fixed order

    def test_rounds_come_in_launches_of_fresh_workers(self):
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=9,
                              rounds_per_launch={"step": 3})
        self.assertEqual(result.launch_of_round, [1, 1, 1, 2, 2, 2, 3, 3, 3])
        self.assertEqual(self.log.read_text().splitlines().count("start"), 2 * 3)  # both sides, each launch
        packed = result.ratios["cpp packed / cpp padded"]
        self.assertEqual((packed.launches, packed.df, packed.rounds), (3, 2, 9))
        self.assertTrue(packed.covers(2.0), packed)

    def test_launches_stop_at_the_target_only_when_whole_and_at_least_min_launches(self):
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=50.0, max_rounds=30,
                              rounds_per_launch={"step": 2}, min_launches=3)
        self.assertEqual((result.stopped, result.rounds, result.launches), ("target", 6, 3))

    def test_a_stalled_round_is_measured_again_and_counted(self):
        self.workers.close()
        self.start_workers(FAKE_WORKER_STALL_AT="8")  # a round's run on each side, after calibration
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=8)
        self.assertEqual(result.treated_rounds, 2)
        self.assertEqual(result.rounds, 8)
        for arm in result.arms.values():
            self.assertLess(max(arm.seconds_per_step), 1.5 * min(arm.seconds_per_step), arm.arm.label)
        self.assertTrue(result.ratios["cpp packed / cpp padded"].covers(2.0))
        self.assertTrue(result.control.covers(1.0))

    def test_a_round_slowed_as_a_whole_is_no_stall(self):
        m = engine.PointMeasurement(self.point(["padded", "packed"]), self.workers,
                                    engine.EngineSettings(), random.Random(0))
        for label, seconds in (("cpp padded", 0.010), ("cpp packed", 0.005), ("python slow", 0.020),
                               ("cpp padded (A/A)", 0.010)):
            m.unit_s[m.arm_id(m.arms[label].arm)] = seconds
            m.arms[label].seconds_per_step = [seconds] * 4
        drift = {"cpp padded": 0.018, "cpp packed": 0.009, "python slow": 0.034, "cpp padded (A/A)": 0.017}
        self.assertFalse(m.stalled(drift))  # every arm 1.7-1.8x: the machine, not a stall
        burst = {"cpp padded": 0.010, "cpp packed": 0.009, "python slow": 0.020, "cpp padded (A/A)": 0.010}
        self.assertTrue(m.stalled(burst))  # one arm 1.8x while the others ran as before

    def test_untreated_a_stall_would_fake_a_difference(self):
        self.workers.close()
        self.start_workers(FAKE_WORKER_STALL_AT="8")
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=8,
                              stall_factor=1e9)
        self.assertEqual(result.treated_rounds, 0)
        slowest = max(max(a.seconds_per_step) / min(a.seconds_per_step) for a in result.arms.values())
        self.assertGreater(slowest, 10)

    def test_other_work_on_the_machine_is_named(self):
        # A process outside this tree (its parent gone) burns a CPU for as long as the point is measured.
        flag = Path(self.tmp.name) / "busy"
        flag.touch()
        busy = f"import os, time\nend = time.time() + 60\nwhile os.path.exists('{flag}') and time.time() < end: pass"
        subprocess.run(["sh", "-c", f"{sys.executable} -c \"{busy}\" >/dev/null 2>&1 &"], check=True)
        time.sleep(0.5)
        try:
            result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=60)
        finally:
            flag.unlink()
        self.assertGreater(result.foreign_cpus, 0.5)
        self.assertTrue(any(d.startswith("busy:") for d in result.disturbances), result.disturbances)

    def test_instances_that_differ_show_in_the_a_a_control(self):
        self.workers.close()
        self.start_workers(FAKE_WORKER_INSTANCE_SD="0.2", FAKE_WORKER_SEED="3")
        result = self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=10)
        self.assertTrue(any(d.startswith("A/A") for d in result.disturbances), (result.control, result.disturbances))

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

    def test_the_arms_of_each_ratio_run_together_in_a_round(self):
        # The gate's shape: each arm against its own other build, no ratio between the pairs.
        arms = [Arm("cpp", "padded"), Arm("cpp", "packed"), Arm("cpp", "padded", build="base"),
                Arm("cpp", "packed", build="base")]
        point = Point("step", "m", "d", 8, 64, 16, arms, [Ratio(arms[0], arms[2]), Ratio(arms[1], arms[3])],
                      arms[0], 60.0, 0.05)
        m = engine.PointMeasurement(point, self.workers, engine.EngineSettings(), random.Random(0))
        orders = set()
        for _ in range(40):
            order = [a.label for a in m.round_order()]
            packed = sorted(order.index(a.label) for a in (arms[1], arms[3]))
            self.assertEqual(packed[1] - packed[0], 1, order)  # packed beside its base
            padded = sorted(order.index(a.label) for a in (arms[0], arms[2]))
            self.assertEqual(padded[1] - padded[0], 1, order)  # padded beside its base
            self.assertEqual(sorted(order), sorted(a.label for a in arms + [point.control_twin]))
            orders.add(tuple(order))
        self.assertGreater(len(orders), 4)  # the groups and the arms within them in changing orders
        # The A/A twin is a group of its own (a sample after one of its own process runs warm): it
        # lands anywhere, not only beside its control.
        twin_at = {order.index(point.control_twin.label) for order in orders}
        self.assertEqual(twin_at, {0, 2, 4})

    def test_each_start_pads_the_environment_anew(self):
        env = {"A": "1"}
        pads = {len(engine.layout_env(env)[engine.LAYOUT_PAD]) for _ in range(50)}
        self.assertGreater(len(pads), 40)
        self.assertTrue(all(0 <= n < 4096 for n in pads))
        self.assertEqual(engine.layout_env(env)["A"], "1")
        self.assertEqual(env, {"A": "1"})  # the workers' own environment is left as it was

    def test_the_workers_of_every_launch_start_with_a_pad_of_their_own(self):
        self.workers.close()
        pads = Path(self.tmp.name) / "pads"
        self.start_workers(FAKE_WORKER_PADS=str(pads))
        self.measure(self.point(["padded", "packed"]), target_half_width_pct=0.01, max_rounds=12,
                     rounds_per_launch={"step": 2})
        lengths = [int(n) for n in pads.read_text().split()]
        self.assertEqual(len(lengths), 2 * 6)  # both sides, each of 6 launches
        self.assertGreater(len(set(lengths)), 6)

    def test_a_point_whose_every_arm_fails_stops_as_such(self):
        point = self.point(["broken"])
        point.arms = [Arm("cpp", "broken")]
        point.control = Arm("cpp", "broken")
        point.ratios = [Ratio(Arm("cpp", "broken"), Arm("cpp", "broken"))]
        result = self.measure(point)
        self.assertEqual((result.stopped, result.rounds), ("no arms", 0))

    def test_an_interrupted_run_still_hands_over_what_it_measured(self):
        settings = engine.EngineSettings(min_rounds=4, max_rounds=6, target_half_width_pct=0.01,
                                         rounds_per_launch={"step": 2}, min_launches=3)
        points = [self.point(["padded", "packed"]), self.point(["padded", "packed"])]
        points[1].batch = 16
        measurements = [engine.PointMeasurement(p, self.workers, settings, random.Random(0), say=lambda text: None)
                        for p in points]
        heard = {}

        def interrupt(index, m):
            if sum(x.launch for x in measurements) == 3:
                raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            engine.measure_in_passes(measurements, random.Random(1), engine.Progress(points, io.StringIO()),
                                     finished=lambda index, result: heard.update({index: result}),
                                     after_launch=interrupt)
        self.assertEqual(sorted(heard), [0, 1])
        self.assertEqual({r.stopped for r in heard.values()}, {"interrupted"})
        self.assertEqual(sorted(r.rounds for r in heard.values()), [2, 4])

    def test_a_run_of_passes_spreads_each_points_launches_over_the_run(self):
        settings = engine.EngineSettings(min_rounds=4, max_rounds=6, target_half_width_pct=0.01,
                                         rounds_per_launch={"step": 2}, min_launches=3)
        points = [self.point(["padded", "packed"]), self.point(["padded", "packed"])]
        points[1].batch = 16  # another point
        measurements = [engine.PointMeasurement(p, self.workers, settings, random.Random(0), say=lambda text: None)
                        for p in points]
        heard = []
        results = engine.measure_in_passes(measurements, random.Random(1), engine.Progress(points, io.StringIO()),
                                           finished=lambda index, result: heard.append(index))
        self.assertEqual([r.point.name for r in results], [p.name for p in points])
        self.assertEqual(sorted(heard), [0, 1])
        for result in results:
            self.assertEqual((result.stopped, result.launch_of_round), ("max rounds", [1, 1, 2, 2, 3, 3]))
            self.assertAlmostEqual(result.ratios["cpp packed / cpp padded"].estimate, 2.0, delta=0.1)
        # Which point each run belonged to, in order: back to back would be two blocks; in passes each
        # point's three launches take turns with the other's.
        owners = [line.split("|")[0] for line in self.log.read_text().splitlines() if line != "start"]
        blocks = [owner for i, owner in enumerate(owners) if i == 0 or owner != owners[i - 1]]
        self.assertEqual(len(blocks), 6, blocks)

    def test_a_point_that_reached_its_target_leaves_the_passes(self):
        settings = engine.EngineSettings(min_rounds=2, max_rounds=30, target_half_width_pct=50.0,
                                         rounds_per_launch={"step": 2}, min_launches=2)
        easy, hard = self.point(["padded", "packed"]), self.point(["padded", "packed"], budget_s=600.0)
        hard.batch = 16
        measurements = [engine.PointMeasurement(easy, self.workers, settings, random.Random(0), say=lambda text: None),
                        engine.PointMeasurement(hard, self.workers, dataclasses.replace(
                            settings, target_half_width_pct=0.01, max_rounds=10), random.Random(0),
                            say=lambda text: None)]
        results = engine.measure_in_passes(measurements, random.Random(1), engine.Progress([easy, hard], io.StringIO()))
        self.assertEqual((results[0].stopped, results[0].launches), ("target", 2))
        self.assertEqual((results[1].stopped, results[1].launches), ("max rounds", 5))

    def test_a_run_budget_stops_launching_after_each_points_minimum(self):
        # An unreachable target and a budget of no time: each point gets its minimum launches, no more.
        settings = engine.EngineSettings(min_rounds=4, max_rounds=30, target_half_width_pct=0.01,
                                         rounds_per_launch={"step": 2}, min_launches=3, run_budget_s=1e-6)
        points = [self.point(["padded", "packed"], budget_s=600.0), self.point(["padded", "packed"], budget_s=600.0)]
        points[1].batch = 16
        measurements = [engine.PointMeasurement(p, self.workers, settings, random.Random(0), say=lambda text: None)
                        for p in points]
        results = engine.measure_in_passes(measurements, random.Random(1), engine.Progress(points, io.StringIO()))
        self.assertEqual([(r.stopped, r.launches, r.rounds) for r in results], [("run budget", 3, 6)] * 2)
        # Without one, the same points go on to their rounds' limit.
        settings = dataclasses.replace(settings, run_budget_s=0.0, max_rounds=10)
        measurements = [engine.PointMeasurement(p, self.workers, settings, random.Random(0), say=lambda text: None)
                        for p in points]
        results = engine.measure_in_passes(measurements, random.Random(1), engine.Progress(points, io.StringIO()))
        self.assertEqual([(r.stopped, r.launches) for r in results], [("max rounds", 5)] * 2)

    def test_a_failed_control_stops_the_rounds(self):
        point = self.point(["broken", "packed"])
        point.control = Arm("cpp", "broken")
        point.ratios = [Ratio(Arm("cpp", "packed"), Arm("cpp", "broken"))]
        result = self.measure(point)
        self.assertEqual(result.stopped, "no ratios")


class Declarations(unittest.TestCase):
    def test_every_profiles_engine_settings_load(self):
        profiles = json.loads((comparisons.PERF_DIR / "profiles.json").read_text())
        for name in set(profiles) - set(comparisons.NOT_PROFILES):
            engine.EngineSettings.from_profile(comparisons.load_profile(name))  # a misspelt key raises

    def test_every_point_asks_for_ratios_of_its_own_arms(self):
        for profile in ("quick", "full", "padding_free"):
            for point in comparisons.points(comparisons.load_profile(profile)):
                for ratio in point.ratios:
                    self.assertIn(ratio.numerator, point.arms, point.name)
                    self.assertIn(ratio.denominator, point.arms, point.name)

    def test_a_profile_may_name_a_lengths_file_where_a_distribution_goes(self):
        spec = "file:perf/datasets/plaid.csv@scale"
        settings = comparisons.load_profile("quick")
        settings["distributions_by_model"] = {"transformer_lstm": [spec], "ops": [spec]}
        points = [p for p in comparisons.points(settings) if (p.kind, p.what) in
                  (("step", "transformer_lstm"), ("primitive", "ops"))]
        self.assertTrue(points)
        self.assertEqual({p.distribution for p in points}, {spec})
        self.assertEqual({p.arm_spec(a)["distribution"] for p in points for a in p.arms}, {spec})

    def test_the_padding_free_profile_times_pytorchs_own_padding_free_step(self):
        points = [p for p in comparisons.points(comparisons.load_profile("padding_free"))
                  if (p.kind, p.what, p.batch) == ("step", "transformer_lstm", 64)]
        self.assertTrue(points)
        for point in points:
            for mode in comparisons.PYTHON_JAGGED:
                self.assertIn(Ratio(Arm("cpp", "padding_free"), Arm("python", mode)), point.ratios, point.name)
            self.assertIn(Ratio(Arm("python", "jagged_compile"), Arm("python", "padded_compile")), point.ratios)

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
            points = [p for p in comparisons.points(comparisons.load_profile("full"), device)
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

    def test_the_gate_times_every_path_and_both_families_against_the_base_build(self):
        points = comparisons.gate_points(comparisons.load_profile("gate"))
        head = [a for p in points for a in p.arms if not a.build]
        self.assertTrue(set(comparisons.MODEL_STEP_PATHS) <= {a.mode for a in head if a.side == "cpp"})
        self.assertEqual({comparisons.model_family(p.what) for p in points}, {"lstm", "tft"})
        self.assertTrue(any(a.side == "python" for a in head))
        for point in points:  # each arm of this checkout over the same arm of the base's, and nothing else
            self.assertEqual([(r.numerator, r.denominator) for r in point.ratios],
                             [(a, Arm(a.side, a.mode, build="base")) for a in point.arms if not a.build])
            self.assertEqual(len(point.arms), 2 * len(point.ratios) + 1)  # and the base's A/A twin
        base = Arm("cpp", "padded", build="base")
        self.assertEqual((base.label, base.worker), ("cpp padded @base", "cpp@base"))

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
            self.assertEqual(python_arms, set(comparisons.PYTHON_COMPILED + comparisons.PYTHON_JAGGED) if compiled
                             else set(), p.name)
            self.assertEqual([a.mode for a in p.arms if a.side == "cpp"], list(comparisons.MODEL_STEP_PATHS))
            for r in p.ratios:  # no ratio asks for an eager arm that is not there
                for mode in comparisons.PYTHON_EAGER:
                    self.assertNotIn(mode, r.label, p.name)
        grouping = [p for p in points if p.kind == "grouping"]
        self.assertEqual({(p.what, p.batch) for p in grouping}, {("transformer_lstm", 32), ("transformer_lstm", 64)})
        self.assertEqual(len(grouping[0].arms), 6)


if __name__ == "__main__":
    unittest.main(verbosity=2)
