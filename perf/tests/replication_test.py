"""perf/replication.py on made-up ratio rows: the difference test by hand, agreement and
disagreement, the df column, the matching of older tables, the summary, the Clopper-Pearson bounds
and each refusal of bad input.

Usage: replication_test.py  (unittest; needs scipy)"""
import contextlib
import csv
import io
import math
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import replication  # noqa: E402
from replication import BadInput, Estimate  # noqa: E402

T5, T9, T19 = 2.5705818366147395, 2.2621571627409915, 2.0930240544083096  # t(0.975, df)
COLUMNS = ["row", "kind", "what", "side", "mode", "base_side", "base_mode", "distribution", "batch", "steps",
           "status", "ratio", "ratio_low", "ratio_high", "verdict", "rounds", "precision", "base_precision", "device"]


def row(ratio=1.2, half_log=0.03, rounds=20, **fields) -> dict:
    """A ratio row of a current results.csv: ratio with the interval exp(+-half_log) around it."""
    out = dict(row="ratio", kind="step", what="transformer_lstm", side="cpp", mode="packed", base_side="cpp",
               base_mode="padded", distribution="uniform_half", batch="64", steps="64", status="ok",
               ratio=str(ratio), ratio_low=str(ratio * math.exp(-half_log)),
               ratio_high=str(ratio * math.exp(half_log)), verdict="faster", rounds=str(rounds),
               precision="float32", base_precision="float32", device="cpu")
    out.update(fields)
    return out


def estimate(ratio, se, df) -> Estimate:
    half = se * replication.student_t.ppf(0.975, df)
    return Estimate(ratio, ratio * math.exp(-half), ratio * math.exp(half), df)


class DifferenceTest(unittest.TestCase):
    def test_welch_by_hand(self):
        # A: 1.10, se 0.05 on 5 df; B: 1.00, se 0.03 on 9 df (intervals built with t(0.975, df)).
        a = Estimate(1.10, 1.10 * math.exp(-0.05 * T5), 1.10 * math.exp(0.05 * T5), 5)
        b = Estimate(1.00, math.exp(-0.03 * T9), math.exp(0.03 * T9), 9)
        self.assertAlmostEqual(a.se, 0.05, places=9)
        self.assertAlmostEqual(b.se, 0.03, places=9)
        difference, se, df, p = replication.difference_test(a, b)
        # d = ln 1.1 = 0.0953102; se = sqrt(0.0025 + 0.0009) = 0.0583095; t = 1.634560;
        # df = 0.0034^2 / (0.05^4 / 5 + 0.03^4 / 9) = 1.156e-5 / 1.34e-6 = 8.626866;
        # p = 2 P(T_8.626866 > 1.634560) = I_{df / (df + t^2)}(df / 2, 1 / 2) = 0.13803.
        self.assertAlmostEqual(difference, 0.0953102, places=6)
        self.assertAlmostEqual(se, 0.0583095, places=6)
        self.assertAlmostEqual(df, 8.626866, places=5)
        self.assertAlmostEqual(p, 0.13803, places=5)
        # The same by the incomplete beta function, independently of student_t.
        from scipy.special import betainc
        t = difference / se
        self.assertAlmostEqual(p, betainc(df / 2, 0.5, df / (df + t * t)), places=9)

    def test_symmetric_in_the_two_runs(self):
        a, b = estimate(1.3, 0.02, 7), estimate(1.2, 0.04, 12)
        da, sa, fa, pa = replication.difference_test(a, b)
        db, sb, fb, pb = replication.difference_test(b, a)
        self.assertAlmostEqual(da, -db)
        self.assertAlmostEqual(pa, pb)
        self.assertAlmostEqual(fa, fb)

    def test_equal_estimates_agree_and_distant_ones_disagree(self):
        comparisons, _ = replication.match([row(1.2), row(1.3, mode="stepwise")],
                                           [row(1.2), row(1.45, mode="stepwise")])
        by_mode = {c.key[replication.KEY.index("mode")]: c for c in comparisons}
        self.assertAlmostEqual(by_mode["packed"].p, 1.0)
        self.assertLess(by_mode["stepwise"].p, 1e-4)
        self.assertTrue(by_mode["stepwise"].beyond_both)
        self.assertFalse(by_mode["packed"].beyond_both)

    def test_a_difference_within_the_noise_agrees(self):
        # 3% apart with half-widths of about 3%: each estimate inside the other's interval.
        (c,), _ = replication.match([row(1.00, 0.03)], [row(1.03, 0.03)])
        self.assertGreater(c.p, 0.05)
        self.assertFalse(c.beyond_both)


class DegreesOfFreedom(unittest.TestCase):
    def test_rounds_minus_one_without_a_df_column(self):
        e = replication.estimate_of(row(1.2, 0.05, rounds=20))
        self.assertEqual(e.df, 19)
        self.assertAlmostEqual(e.se, 0.05 / T19, places=9)

    def test_the_df_column_where_there_is_one(self):
        e = replication.estimate_of(row(1.2, 0.05, rounds=20, df="5"))
        self.assertEqual(e.df, 5)
        self.assertAlmostEqual(e.se, 0.05 / T5, places=9)
        self.assertEqual(replication.estimate_of(row(1.2, 0.05, rounds=20, df="")).df, 19)

    def test_fewer_df_mean_a_larger_se_and_a_larger_p(self):
        # The same intervals read with launches - 1 = 2 df instead of rounds - 1 = 19: wider se.
        (by_rounds,), _ = replication.match([row(1.0, 0.02)], [row(1.06, 0.02)])
        (by_df,), _ = replication.match([row(1.0, 0.02, df="2")], [row(1.06, 0.02, df="2")])
        self.assertLess(by_rounds.p, 0.05)
        self.assertGreater(by_df.p, by_rounds.p)
        self.assertAlmostEqual(by_df.a.se, 0.02 / replication.student_t.ppf(0.975, 2), places=9)

    def test_rows_without_a_usable_interval_are_left_out(self):
        for bad in (row(rounds=1), row(ratio_high=""), row(1.2, ratio_high="1.2"), dict(row(), ratio="nan")):
            self.assertIsNone(replication.estimate_of(bad))
        comparisons, left_out = replication.match([row(), row(mode="stepwise", rounds=1)],
                                                  [row(), row(mode="stepwise")])
        self.assertEqual(len(comparisons), 1)
        self.assertEqual(left_out["no_interval"], 1)


class Matching(unittest.TestCase):
    def test_only_common_ratios_of_status_ok(self):
        a = [row(), row(mode="stepwise"), row(mode="segmented"), row(batch="32"),
             dict(row(), row="arm", mode="packed")]
        b = [row(), row(mode="stepwise", status="failed"), row(mode="segmented", precision="bfloat16"),
             row(batch="32", device="cuda:0"), row(distribution="bimodal")]
        comparisons, left_out = replication.match(a, b)
        self.assertEqual([c.name for c in comparisons],
                         ["step transformer_lstm uniform_half B=64 T=64: cpp packed / cpp padded"])
        self.assertEqual(left_out, {"only_a": 2, "only_b": 3, "not_ok": 1, "no_interval": 0})

    def test_older_tables_match_newer_ones(self):
        # Before precisions and ranks there were no such columns; before "cpu" the device column
        # held the host's description.
        old = {k: v for k, v in row().items() if k not in ("precision", "base_precision")}
        old["device"] = "Intel(R) Xeon(R) Processor, 2 logical CPUs"
        new = dict(row(), ranks="", base_ranks="")
        comparisons, _ = replication.match([old], [new])
        self.assertEqual(len(comparisons), 1)

    def test_a_control_is_matched_and_marked(self):
        comparisons, _ = replication.match([row(1.0, mode="padded (A/A)"), row()],
                                           [row(1.0, mode="padded (A/A)"), row()])
        self.assertEqual([c.control for c in comparisons], [True, False])
        self.assertIn("cpp padded (A/A) / cpp padded", comparisons[0].name)

    def test_names_say_precision_ranks_and_device(self):
        key = replication.ratio_key(row(kind="data_parallel", mode="padded_random", precision="bfloat16",
                                        ranks="2", base_ranks="1", device="cuda:0"))
        self.assertEqual(replication.readable_name(key),
                         "data_parallel transformer_lstm uniform_half B=64 T=64 on cuda:0: "
                         "cpp padded_random bfloat16 x2 / cpp padded x1")

    def test_a_ratio_twice_in_one_run_is_refused(self):
        with self.assertRaisesRegex(BadInput, "^RUN_B: .* appears twice"):
            replication.match([row()], [row(), row()])


class Summary(unittest.TestCase):
    def test_counts_shares_and_sizes(self):
        # 10 ratios: 8 equal in both runs, 2 far apart (one of them an A/A control).
        a = [row(1.0 + i / 10, mode=f"m{i}") for i in range(8)]
        a += [row(1.0, mode="padded (A/A)"), row(2.0, mode="far")]
        b = [row(1.0 + i / 10, mode=f"m{i}") for i in range(8)]
        b += [row(1.2, mode="padded (A/A)"), row(2.5, mode="far")]
        comparisons, _ = replication.match(a, b)
        s = replication.summarise(comparisons, 0.05)
        self.assertEqual((s.common, s.disagree, s.beyond_both), (10, 2, 2))
        self.assertAlmostEqual(s.share, 0.2)
        self.assertEqual((s.share_low, s.share_high), replication.clopper_pearson(2, 10))
        self.assertAlmostEqual(s.median_pct, 0.0)
        # 100 |ln| sorted: eight 0, then 100 ln 1.2 = 18.23 and 100 ln 1.25 = 22.31; numpy's 90th
        # percentile sits at position 0.9 x 9 = 8.1: 18.23 + 0.1 x (22.31 - 18.23) = 18.64.
        self.assertAlmostEqual(s.p90_pct, 100 * (math.log(1.2) + 0.1 * (math.log(1.25) - math.log(1.2))), places=6)
        groups = replication.summaries(comparisons, 0.05)
        self.assertEqual(list(groups), ["all", "other ratios", "A/A controls"])
        self.assertEqual((groups["other ratios"].common, groups["other ratios"].disagree), (9, 1))
        self.assertEqual((groups["A/A controls"].common, groups["A/A controls"].disagree), (1, 1))
        left_out = {"only_a": 0, "only_b": 0, "not_ok": 0, "no_interval": 0}
        listed = [line for line in replication.report_lines(comparisons, left_out, groups) if line.startswith("| step")]
        self.assertEqual(len(listed), 2)
        self.assertIn("far / cpp padded", listed[0])  # smallest p first
        listed = [line for line in replication.report_lines(comparisons, left_out, groups, "all")
                  if line.startswith("| step")]
        self.assertEqual(len(listed), 10)

    def test_no_groups_without_controls(self):
        comparisons, _ = replication.match([row()], [row()])
        self.assertEqual(list(replication.summaries(comparisons, 0.05)), ["all"])

    def test_the_level_decides(self):
        (c,), _ = replication.match([row(1.0, 0.03)], [row(1.04, 0.03)])
        self.assertEqual(replication.summarise([c], 0.5).disagree, int(c.p < 0.5))
        self.assertEqual(replication.summarise([c], c.p / 2).disagree, 0)
        self.assertEqual(replication.summarise([c], min(0.99, c.p * 2)).disagree, 1)


class ClopperPearson(unittest.TestCase):
    def test_known_bounds(self):
        # Closed forms at the edges: 1 - 0.025^(1/10) and 0.025^(1/10); the others from tables.
        for (k, n), (low, high) in {(0, 10): (0.0, 0.3084971), (10, 10): (0.6915029, 1.0),
                                    (5, 10): (0.1870860, 0.8129140), (1, 10): (0.0025286, 0.4450161),
                                    (0, 1): (0.0, 0.975)}.items():
            got = replication.clopper_pearson(k, n)
            self.assertAlmostEqual(got[0], low, places=6, msg=(k, n))
            self.assertAlmostEqual(got[1], high, places=6, msg=(k, n))


class BadInputs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def run_folder(self, name, rows) -> Path:
        folder = self.root / name
        folder.mkdir()
        with open(folder / "results.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return folder

    def main(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = replication.main([str(a) for a in argv])
        return rc, out.getvalue(), err.getvalue()

    def assertRefused(self, argv, pattern):
        rc, out, err = self.main(*argv)
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "")
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertRegex(err, pattern)

    def test_a_good_pair_prints_and_exits_0(self):
        a = self.run_folder("a", [row(), row(1.5, mode="stepwise")])
        b = self.run_folder("b", [row(), row(1.8, mode="stepwise")])
        rc, out, err = self.main(a, b)
        self.assertEqual(rc, 0, err)
        self.assertIn("- Common ratios: 2;", out)
        self.assertIn("| step transformer_lstm uniform_half B=64 T=64: cpp stepwise / cpp padded |", out)
        self.assertNotIn("cpp packed / cpp padded |", out)
        rc, out, _ = self.main(a, b, "--list", "all", "--alpha", "0.01")
        self.assertEqual(rc, 0)
        self.assertIn("cpp packed / cpp padded |", out)

    def test_a_missing_folder(self):
        b = self.run_folder("b", [row()])
        self.assertRefused([self.root / "nowhere", b], r"RUN_A: .* is not a folder")

    def test_a_folder_without_results(self):
        a = self.run_folder("a", [row()])
        (self.root / "empty").mkdir()
        self.assertRefused([a, self.root / "empty"], r"RUN_B: .* has no results.csv")

    def test_a_table_without_ratio_rows(self):
        a = self.run_folder("a", [dict(row(), row="arm")])
        b = self.run_folder("b", [row()])
        self.assertRefused([a, b], r"RUN_A: .* has no ratio rows")

    def test_no_ratio_in_common(self):
        a = self.run_folder("a", [row()])
        b = self.run_folder("b", [row(distribution="bimodal"), row(status="failed")])
        self.assertRefused([a, b], r"RUN_A RUN_B: the two runs have no ratio row in common")
        with self.assertRaisesRegex(BadInput, "no ratio row in common"):
            replication.summarise([], 0.05)

    def test_alpha_outside_0_1(self):
        a, b = self.run_folder("a", [row()]), self.run_folder("b", [row()])
        for alpha in ("0", "1", "1.5", "-0.1", "nan", "five"):
            self.assertRefused([a, b, "--alpha", alpha], r"--alpha: .* strictly between 0 and 1")
        for alpha in (0.0, 1.0, float("nan")):
            with self.assertRaisesRegex(BadInput, "--alpha"):
                replication.check_alpha(alpha)

    def test_other_arguments(self):
        a = self.run_folder("a", [row()])
        self.assertRefused([a, a, "--list", "some"], r"--list")
        self.assertRefused([a], r"RUN_B")


if __name__ == "__main__":
    unittest.main()
