"""packing_cost_model.py on made-up results: which arms and ratios make a point (padding_free
optional), when padding_free is fitted, the policy's pick and its tie order, how a pick is judged
against the intervals measured against padded, time lost over every measured path, and --check's
comparison.

Usage: packing_cost_model_test.py  (unittest; needs numpy, scipy and torch, as perf/packing_cost_model.py)"""
import csv
import math
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import packing_cost_model as pcm  # noqa: E402
import stats  # noqa: E402

COLUMNS = ["row", "kind", "what", "side", "mode", "base_side", "base_mode", "distribution", "batch", "steps",
           "status", "median_it_s", "ratio", "ratio_low", "ratio_high", "rounds", "device"]


def arm(what, distribution, batch, mode, it_s, side="cpp", kind="step"):
    return {"row": "arm", "kind": kind, "what": what, "side": side, "mode": mode, "base_side": "", "base_mode": "",
            "distribution": distribution, "batch": batch, "steps": 64, "status": "ok", "median_it_s": it_s,
            "rounds": 6, "device": "test cpu"}


def ratio(what, distribution, batch, mode, estimate, low, high, base_mode="padded"):
    return {"row": "ratio", "kind": "step", "what": what, "side": "cpp", "mode": mode, "base_side": "cpp",
            "base_mode": base_mode, "distribution": distribution, "batch": batch, "steps": 64, "status": "ok",
            "median_it_s": "", "ratio": estimate, "ratio_low": low, "ratio_high": high, "rounds": 6,
            "device": "test cpu"}


def write(rows, columns=COLUMNS) -> Path:
    path = Path(tempfile.mkdtemp()) / "results.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def point(padded, packed, padding_free=None, intervals=None, model="m", distribution="uniform_half", batch=8):
    p = {"model": model, "distribution": distribution, "batch": batch, "steps": 64, "x": [1.0] * 6,
         "intervals": {k: stats.Interval(*v, 6) for k, v in (intervals or {}).items()},
         "padded": padded, "packed": packed}
    if padding_free is not None:
        p["padding_free"] = padding_free
    return p


FASTER, SLOWER, SAME = (1.3, 1.2, 1.4), (0.7, 0.6, 0.8), (1.0, 0.9, 1.1)


class Points(unittest.TestCase):
    def test_three_paths_and_both_intervals(self):
        rows = [arm("transformer_lstm", "uniform_half", 32, m, v)
                for m, v in (("padded", 5.0), ("packed", 4.0), ("padding_free", 10.0), ("stepwise", 3.0),
                             ("padded (A/A)", 5.0))]
        rows += [ratio("transformer_lstm", "uniform_half", 32, "packed", *SLOWER),
                 ratio("transformer_lstm", "uniform_half", 32, "padding_free", *FASTER),
                 ratio("transformer_lstm", "uniform_half", 32, "padding_free", 3.3, 3.2, 3.4, base_mode="stepwise"),
                 ratio("transformer_lstm", "uniform_half", 32, "stepwise", *SAME)]
        [p] = pcm.points(write(rows))
        self.assertEqual((p["padded"], p["packed"], p["padding_free"]), (0.2, 0.25, 0.1))
        self.assertEqual(set(p["intervals"]), {"packed", "padding_free"})
        self.assertEqual(p["intervals"]["padding_free"].estimate, 1.3)  # against padded, not stepwise
        self.assertNotIn("stepwise", p)

    def test_padding_free_optional_padded_and_packed_required(self):
        rows = [arm("attention_lstm", "equal", 8, "padded", 5.0), arm("attention_lstm", "equal", 8, "packed", 4.0),
                arm("attention_lstm", "triangular", 8, "padded", 5.0),
                arm("attention_lstm", "triangular", 8, "padding_free", 6.0)]
        [p] = pcm.points(write(rows))
        self.assertEqual((p["distribution"], p["intervals"]), ("equal", {}))
        self.assertNotIn("padding_free", p)

    def test_old_schema_without_row_column(self):
        rows = [arm("attention_lstm", "equal", 8, m, 5.0) for m in ("padded", "packed")]
        [p] = pcm.points(write(rows, [c for c in COLUMNS if c != "row"]))
        self.assertEqual(p["intervals"], {})


class Fit(unittest.TestCase):
    def pts(self, with_free):
        return [dict(point(0.2 * b, 0.3 * b, 0.1 * b if free else None, batch=b),
                     x=[1.0, math.log(b), 0.0, 0.0, 0.0, 0.0])
                for b, free in zip((8, 16, 32), with_free)]

    def test_padding_free_only_when_every_point_has_it(self):
        self.assertEqual(list(pcm.fit(self.pts([True] * 3))["m"]), ["padded", "packed", "padding_free"])
        self.assertEqual(list(pcm.fit(self.pts([True, False, True]))["m"]), ["padded", "packed"])

    def test_fitted_coefficients_predict_the_points(self):
        fitted = pcm.fit(self.pts([True] * 3))["m"]
        for b in (8, 16, 32):
            self.assertAlmostEqual(fitted["padding_free"][0] + fitted["padding_free"][1] * math.log(b),
                                   math.log(0.1 * b))

    def test_pick_fastest_ties_to_the_earlier_path(self):
        x = [1.0] * 6
        row = lambda c: [c] + [0.0] * 5  # noqa: E731
        self.assertEqual(pcm.pick({"padded": row(1), "packed": row(2), "padding_free": row(0)}, x), "padding_free")
        self.assertEqual(pcm.pick({"padded": row(1), "packed": row(0)}, x), "packed")
        self.assertEqual(pcm.pick({"padded": row(1), "packed": row(1), "padding_free": row(1)}, x), "padded")
        self.assertEqual(pcm.pick({"padded": row(2), "packed": row(1), "padding_free": row(1)}, x), "packed")


class Judge(unittest.TestCase):
    def test_non_padded_pick_against_its_own_interval(self):
        p = point(1, 1, 1, {"packed": SLOWER, "padding_free": FASTER})
        self.assertEqual(pcm.judge(p, "padding_free"), "right")
        self.assertEqual(pcm.judge(p, "packed"), "wrong")
        self.assertEqual(pcm.judge(point(1, 1, 1, {"packed": SAME, "padding_free": SAME}), "packed"), "undecidable")

    def test_padded_pick_against_every_measured_path(self):
        self.assertEqual(pcm.judge(point(1, 1, 1, {"packed": SLOWER, "padding_free": SLOWER}), "padded"), "right")
        self.assertEqual(pcm.judge(point(1, 1, 1, {"packed": SLOWER, "padding_free": FASTER}), "padded"), "wrong")
        self.assertEqual(pcm.judge(point(1, 1, 1, {"packed": SLOWER, "padding_free": SAME}), "padded"),
                         "undecidable")
        self.assertEqual(pcm.judge(point(1, 1, None, {"packed": SLOWER}), "padded"), "right")

    def test_no_interval(self):
        self.assertIsNone(pcm.judge(point(1, 1), "padded"))
        self.assertIsNone(pcm.judge(point(1, 1, 1, {"packed": SLOWER}), "padding_free"))


class Score(unittest.TestCase):
    def test_time_lost_over_every_measured_path(self):
        pts = [point(2.0, 3.0, 1.0, {"packed": SLOWER, "padding_free": FASTER}),
               point(2.0, 1.0, None, {"packed": FASTER})]
        s = pcm.score(pts, ["packed", "packed"])
        self.assertEqual((s["right"], s["wrong"], s["judged"], s["unmeasured"]), (1, 1, 2, 0))
        self.assertAlmostEqual(s["lost_pct"], 100 * 2.0 / 2.0)  # (3 - 1) + (1 - 1) over 1 + 1
        self.assertAlmostEqual(s["worst_pct"], 200.0)

    def test_a_pick_of_an_unmeasured_path(self):
        pts = [point(2.0, 3.0, None, {"packed": SLOWER}), point(2.0, 3.0, 1.0, {"packed": SLOWER})]
        s = pcm.score(pts, ["padding_free", "padding_free"])
        self.assertEqual((s["unmeasured"], s["judged"], s["lost_pct"]), (1, 0, 0.0))
        self.assertEqual(s["picked"], {"padded": 0, "packed": 0, "padding_free": 2})


class Section(unittest.TestCase):
    def test_policies_listed(self):
        rows = []
        for batch in (8, 16, 32, 64):
            for dist in ("uniform_half", "heavy_tailed", "equal"):
                rows += [arm("transformer_lstm", dist, batch, m, v)
                         for m, v in (("padded", 5.0), ("packed", 4.0), ("padding_free", 8.0))]
                rows += [ratio("transformer_lstm", dist, batch, "packed", *SLOWER),
                         ratio("transformer_lstm", dist, batch, "padding_free", *FASTER)]
        text = "\n".join(pcm.section(write(rows)))
        for name in ("leave-one-out", "in-sample", "the original's rule", "always padded", "always packed",
                     "always padding_free", "no paired interval of packed against padding_free"):
            self.assertIn(name, text)
        self.assertIn("| always padding_free | 0/0/12 | 12/12 (100%) | 0/12 (0%) | 0/12 (0%) | 12/12 (100%) "
                      "| 0.0% | 0% |", text)
        self.assertIn("| calibrated, in-sample (fitted on these points) | 0/0/12 | 12/12 (100%) |", text)

    def test_without_padding_free_no_always_padding_free(self):
        rows = [arm("transformer_lstm", "equal", 8, m, 5.0) for m in ("padded", "packed")]
        text = "\n".join(pcm.section(write(rows)))
        self.assertNotIn("always padding_free", text)


class Check(unittest.TestCase):
    def model(self, **paths):
        return {"source": "x", "models": {"m": paths}}

    def test_every_path_compared(self):
        a = self.model(padded=[1.0], packed=[2.0], padding_free=[3.0])
        self.assertTrue(pcm.same_cost_model(a, self.model(padded=[1.0], packed=[2.0], padding_free=[3.0])))
        self.assertFalse(pcm.same_cost_model(a, self.model(padded=[1.0], packed=[2.0], padding_free=[3.1])))
        self.assertFalse(pcm.same_cost_model(a, self.model(padded=[1.0], packed=[2.0])))
        self.assertFalse(pcm.same_cost_model(self.model(padded=[1.0], packed=[2.0]), a))


if __name__ == "__main__":
    unittest.main()
