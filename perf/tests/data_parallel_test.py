"""The data-parallel arms' bookkeeping, on made-up times: the shares (data_parallel.metrics) by hand,
the reading of torchrun's failure report, the arms and ratios a profile asks for, the results.csv
columns, the report's section, and paired_ratio.py's ratios after the fact.

Usage: data_parallel_test.py  (unittest; needs matplotlib and scipy, as perf/report.py)"""
import csv
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import comparisons  # noqa: E402
import data_parallel  # noqa: E402
import engine  # noqa: E402
import paired_ratio  # noqa: E402
import report  # noqa: E402
import run_matrix  # noqa: E402
from comparisons import Arm  # noqa: E402


class Shares(unittest.TestCase):
    def test_by_hand(self):
        # Step 1: rank 0 computes 3, rank 1 computes 1 (waits 2 for rank 0); step 2: both 2.
        timings = [{"compute": [3.0, 2.0], "wait": [0.5, 0.5], "step": [4.0, 3.0]},
                   {"compute": [1.0, 2.0], "wait": [2.5, 0.5], "step": [4.0, 3.0]}]
        shares = data_parallel.metrics(timings)
        self.assertAlmostEqual(shares["straggler_waste"], 2.0 / 14.0)
        self.assertAlmostEqual(shares["wait_share"], 4.0 / 14.0)
        self.assertAlmostEqual(shares["compute_share"], 8.0 / 14.0)

    def test_one_rank_wastes_nothing(self):
        shares = data_parallel.metrics([{"compute": [1.0, 2.0], "wait": [0.1, 0.1], "step": [1.2, 2.2]}])
        self.assertEqual(shares["straggler_waste"], 0.0)

    def test_ranks_timing_different_steps_are_refused(self):
        with self.assertRaisesRegex(ValueError, "rank_timings: every rank must time the same steps"):
            data_parallel.metrics([{"compute": [1.0], "wait": [0.0], "step": [1.0]},
                                   {"compute": [1.0, 1.0], "wait": [0.0, 0.0], "step": [1.0, 1.0]}])


class GroupFailure(unittest.TestCase):
    def test_torchruns_root_cause_in_one_line(self):
        report_text = ("Failures:\n[1]:\n  rank      : 0 (local_rank: 0)\n  exitcode  : -15 (pid: 7)\n"
                       "Root Cause (first observed failure):\n[0]:\n  time      : now\n"
                       "  rank      : 1 (local_rank: 1)\n  exitcode  : 3 (pid: 8)\n")
        with tempfile.NamedTemporaryFile("w", suffix=".log") as log:
            log.write(report_text)
            log.flush()
            self.assertEqual(data_parallel.why_the_group_stopped(Path(log.name)),
                             "rank 1 exited with status 3, and torchrun stopped the others")
        self.assertEqual(data_parallel.why_the_group_stopped(Path("/nonexistent.log")), "")

    def test_a_group_is_started_by_torchrun(self):
        argv, _ = data_parallel.launcher("cpp", 2, Path("build"), "py")
        self.assertEqual(argv[:6], ["py", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"])
        self.assertEqual(argv[6:], ["--no-python", str(Path("build").resolve() / "perf" / "ddp_worker")])
        with self.assertRaisesRegex(ValueError, "no data-parallel worker for side 'rust'"):
            data_parallel.launcher("rust", 2, Path("build"), "py")

    def test_workers_start_one_group_per_side_and_rank_count(self):
        with tempfile.TemporaryDirectory() as tmp:
            workers = engine.Workers(Path("build"), "py", Path(tmp), "quick")
            group = workers[Arm("python", "padded_eager_random", 2).worker]
            self.assertTrue(group.group)
            self.assertIn("seqpack_reference.perf.ddp_worker", group.argv)
            self.assertIs(group, workers["python x2"])
            self.assertFalse(workers["cpp"].group)


class Matrix(unittest.TestCase):
    def test_arms_and_ratios(self):
        arms, ratios = comparisons.data_parallel_comparison([1, 2], ("random", "grouped_per_rank", "grouped_global"),
                                                            ("padded_eager",))
        labels = {a.label for a in arms}
        self.assertIn("cpp padding_free_grouped_global x2", labels)
        self.assertIn("python padded_eager_random x1", labels)
        self.assertNotIn("cpp padded_grouped_global x1", labels)  # fewer ranks: the scaling's random batches only
        wanted = {r.label for r in ratios}
        self.assertIn("cpp packed_grouped_global x2 / cpp packed_random x2", wanted)
        self.assertIn("cpp padded_random x2 / cpp padded_random x1", wanted)
        self.assertIn("cpp padded_grouped_global x2 / cpp padded_grouped_per_rank x2", wanted)
        self.assertIn("cpp padding_free_random x2 / python padded_eager_random x2", wanted)
        self.assertTrue(all(r.numerator in arms and r.denominator in arms for r in ratios))

    def test_full_profile_measures_two_ranks(self):
        points = [p for p in comparisons.points(comparisons.load_profile("full")) if p.kind == "data_parallel"]
        self.assertTrue(points)
        self.assertEqual({a.ranks for a in points[0].arms}, {1, 2})
        self.assertEqual(points[0].control, Arm("cpp", "padded_random", 2))


def made_up_results(folder: Path):
    point = comparisons.Point("data_parallel", "transformer_lstm", "heavy_tailed", 16, 64, 16, [], [],
                              Arm("cpp", "padded_random", 2), 10, 0.1)
    rows = []
    for mode, ranks, waste in (("padded_random", 2, [0.20, 0.22, 0.21]), ("padded_grouped_global", 2, [0.02, 0.03, 0.02]),
                               ("padded_random", 1, [0.0, 0.0, 0.0])):
        arm = Arm("cpp", mode, ranks)
        result = engine.ArmResult(arm, seconds_per_step=[0.1, 0.11, 0.1], fill_ratio=0.5, samples=16 * ranks * 8,
                                  steps_per_unit=8, rank_fill_ratio=[0.5, 0.6][:ranks],
                                  metrics={"straggler_waste": waste, "wait_share": [0.3, 0.3, 0.31],
                                           "compute_share": [0.6, 0.6, 0.6]})
        rows.append(run_matrix.arm_row("data_parallel", "transformer_lstm", "heavy_tailed", 16, 64, arm, result))
    scaling = comparisons.Ratio(Arm("cpp", "padded_random", 2), Arm("cpp", "padded_random", 1))
    rows.append(run_matrix.ratio_row(*[point.kind, point.what, point.distribution, point.batch, 64], scaling,
                                     engine.stats.ratio_interval([0.12, 0.13, 0.12], [0.1, 0.11, 0.1])))
    with open(folder / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=run_matrix.FIELDS)
        writer.writeheader()
        writer.writerows(rows)


class PairedAfterTheFact(unittest.TestCase):
    def test_any_two_arms_of_a_point_by_round(self):
        rounds = {"points": {"data_parallel/m/d/16/64": {"arms": {"a x2": [1.0, 1.1, 1.0], "b x2": [2.0, 2.2, 2.0]}},
                             "step/m/d/16/64": {"arms": {"a x2": [1.0, 1.0]}}}}
        found = paired_ratio.paired_ratios(rounds, "a x2", "b x2", "data_parallel")
        self.assertEqual(list(found), ["data_parallel/m/d/16/64"])
        self.assertAlmostEqual(found["data_parallel/m/d/16/64"].estimate, 2.0)  # a takes half b's time
        self.assertEqual(paired_ratio.paired_ratios(rounds, "a x2", "c x2"), {})


class Report(unittest.TestCase):
    def test_section_shows_shares_with_intervals_and_scaling_as_samples(self):
        with tempfile.TemporaryDirectory() as tmp:
            made_up_results(Path(tmp))
            res = report.load(Path(tmp) / "results.csv")
            text = "\n".join(report.data_parallel_section(res))
        self.assertIn("## Data parallel: transformer_lstm, 2 ranks", text)
        self.assertIn("| C++ padded_grouped_global | ", text)
        self.assertIn("21.0% [", text)  # the random sampler's straggler waste, mean of its rounds
        self.assertIn("0.5000 0.6000", text)  # each rank's fill
        self.assertEqual(text.count("| C++ padded_random |"), 1)  # the arm table is the most ranks'
        # 2 ranks' steps are 0.838x as fast (geometric mean); a step holds twice the samples: 1.68x the samples/s.
        self.assertIn("| cpp padded_random x2 / cpp padded_random x1 | 1.68 [", text)


if __name__ == "__main__":
    unittest.main()
