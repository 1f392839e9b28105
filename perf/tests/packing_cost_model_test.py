"""packing_cost_model.py on made-up results: which arms and ratios make a point (padding_free
optional), when padding_free is fitted, the policy's pick and its tie order, how a pick is judged
against the intervals measured against padded, its non-inferiority at 0.95 against every other
measured path, time lost over every measured path, and --check's comparison.

Usage: packing_cost_model_test.py  (unittest; needs numpy, scipy and torch, as perf/packing_cost_model.py)"""
import csv
import json
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


def write(rows, columns=COLUMNS, rounds=None) -> Path:
    """results.csv in a new folder, and rounds.json beside it when `rounds` (its "points") is given."""
    path = Path(tempfile.mkdtemp()) / "results.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    if rounds is not None:
        (path.parent / "rounds.json").write_text(json.dumps({"seed": 1, "points": rounds}))
    return path


NOISE = (1.0, 1.01, 0.99, 1.02, 0.98, 1.0)  # per-round factors shared by the arms of a round


def per_round(it_s: float, noise=NOISE) -> list[float]:
    return [f / it_s for f in noise]


def point(padded, packed, padding_free=None, intervals=None, model="m", distribution="uniform_half", batch=8,
          rounds=None):
    p = {"model": model, "distribution": distribution, "batch": batch, "steps": 64, "x": [1.0] * 6,
         "intervals": {k: stats.Interval(*v, 6) for k, v in (intervals or {}).items()},
         "rounds": rounds or {}, "padded": padded, "packed": packed}
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
        self.assertEqual(p["rounds"], {})  # no rounds.json

    def test_rounds_from_rounds_json_beside_the_csv(self):
        rows = [arm("transformer_lstm", "uniform_half", 32, m, v)
                for m, v in (("padded", 5.0), ("packed", 4.0), ("padding_free", 10.0))]
        arms = {"cpp padded": per_round(5.0), "cpp packed": per_round(4.0), "cpp padding_free": per_round(10.0),
                "cpp padded (A/A)": per_round(5.0), "python padded_compile": per_round(3.0)}
        [p] = pcm.points(write(rows, rounds={"step/transformer_lstm/uniform_half/32/64": {
            "stopped": "target", "arms": arms, "launch": [0, 0, 0, 1, 1, 1]}}))
        self.assertEqual(set(p["rounds"]), {"padded", "packed", "padding_free"})
        self.assertEqual(p["rounds"]["packed"], per_round(4.0))
        self.assertEqual(p["launch"], [0, 0, 0, 1, 1, 1])

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


class NonInferior(unittest.TestCase):
    """The pick's it/s over each other measured path's, non-inferior at stats.NON_INFERIORITY_BOUND."""
    WIDE, NARROW, LOSS = (1.0, 0.8, 1.25), (1.02, 0.97, 1.07), (0.9, 0.85, 0.93)

    def test_a_non_padded_pick_against_padded(self):
        self.assertEqual(pcm.non_inferior(point(1, 1, None, {"packed": self.NARROW}), "packed"), "non-inferior")
        self.assertEqual(pcm.non_inferior(point(1, 1, None, {"packed": self.WIDE}), "packed"), "undecided")
        self.assertEqual(pcm.non_inferior(point(1, 1, None, {"packed": self.LOSS}), "packed"), "inferior")
        self.assertEqual(pcm.judge(point(1, 1, None, {"packed": self.WIDE}), "packed"), "undecidable")

    def test_significantly_slower_but_within_the_bound(self):
        p = point(1, 1, None, {"packed": (0.97, 0.955, 0.985)})
        self.assertEqual((pcm.judge(p, "packed"), pcm.non_inferior(p, "packed")), ("wrong", "non-inferior"))

    def test_a_padded_pick_against_the_inverted_intervals(self):
        # padded / packed = 1 / (packed / padded): [1 / 0.85, 1 / 0.75] non-inferior, [1 / 1.3, 1 / 1.1] inferior
        self.assertEqual(pcm.non_inferior(point(1, 1, None, {"packed": SLOWER}), "padded"), "non-inferior")
        self.assertEqual(pcm.non_inferior(point(1, 1, None, {"packed": (1.2, 1.1, 1.3)}), "padded"), "inferior")
        self.assertEqual(pcm.non_inferior(point(1, 1, None, {"packed": self.WIDE}), "padded"), "undecided")
        # against every other path: non-inferior to packed, undecided against padding_free
        self.assertEqual(pcm.non_inferior(point(1, 1, 1, {"packed": SLOWER, "padding_free": self.WIDE}), "padded"),
                         "undecided")

    def test_packed_against_padding_free_from_the_rounds(self):
        rounds = {"padded": per_round(5.0), "packed": per_round(10.0), "padding_free": per_round(8.0)}
        p = point(0.2, 0.1, 0.125, {"packed": FASTER, "padding_free": FASTER}, rounds=rounds)
        self.assertEqual(pcm.non_inferior(p, "packed"), "non-inferior")  # 1.25x padding_free
        self.assertEqual(pcm.non_inferior(p, "padding_free"), "inferior")  # 0.8x packed
        self.assertEqual(pcm.judge(p, "padding_free"), "right")  # right against padded all the same
        wide = [1.0, 1.3, 0.7, 1.25, 0.75, 1.0]  # noise on padding_free alone: an interval too wide
        rounds = {"padded": per_round(5.0), "packed": per_round(8.0), "padding_free": per_round(8.0, wide)}
        self.assertEqual(pcm.non_inferior(point(0.2, 0.125, 0.125, {"packed": FASTER, "padding_free": FASTER},
                                                rounds=rounds), "packed"), "undecided")

    def test_without_rounds_a_pair_without_an_interval_is_undecided(self):
        p = point(0.2, 0.1, 0.125, {"packed": FASTER, "padding_free": FASTER})
        self.assertEqual(pcm.non_inferior(p, "packed"), "undecided")

    def test_not_judged(self):
        self.assertIsNone(pcm.non_inferior(point(1, 1), "padded"))  # the old schema: no interval, no rounds
        self.assertIsNone(pcm.non_inferior(point(1, 1, None, {"packed": SLOWER}), "padding_free"))  # unmeasured


class Score(unittest.TestCase):
    def test_time_lost_over_every_measured_path(self):
        pts = [point(2.0, 3.0, 1.0, {"packed": SLOWER, "padding_free": FASTER}),
               point(2.0, 1.0, None, {"packed": FASTER})]
        s = pcm.score(pts, ["packed", "packed"])
        self.assertEqual((s["right"], s["wrong"], s["judged"], s["unmeasured"]), (1, 1, 2, 0))
        # the first pick: inferior to padded; against padding_free it has no interval (no rounds)
        self.assertEqual(s["non_inferiority"], {"non-inferior": 1, "undecided": 0, "inferior": 1, "judged": 2})
        self.assertAlmostEqual(s["lost_pct"], 100 * 2.0 / 2.0)  # (3 - 1) + (1 - 1) over 1 + 1
        self.assertAlmostEqual(s["worst_pct"], 200.0)

    def test_a_pick_of_an_unmeasured_path(self):
        pts = [point(2.0, 3.0, None, {"packed": SLOWER}), point(2.0, 3.0, 1.0, {"packed": SLOWER})]
        s = pcm.score(pts, ["padding_free", "padding_free"])
        self.assertEqual((s["unmeasured"], s["judged"], s["lost_pct"]), (1, 0, 0.0))
        self.assertEqual(s["picked"], {"padded": 0, "packed": 0, "padding_free": 2})


class Section(unittest.TestCase):
    @staticmethod
    def rows_and_rounds():
        rows, rounds = [], {}
        for batch in (8, 16, 32, 64):
            for dist in ("uniform_half", "heavy_tailed", "equal"):
                speeds = {"padded": 5.0, "packed": 4.0, "padding_free": 8.0}
                rows += [arm("transformer_lstm", dist, batch, m, v) for m, v in speeds.items()]
                rows += [ratio("transformer_lstm", dist, batch, "packed", *SLOWER),
                         ratio("transformer_lstm", dist, batch, "padding_free", *FASTER)]
                rounds[f"step/transformer_lstm/{dist}/{batch}/64"] = {
                    "stopped": "target", "arms": {f"cpp {m}": per_round(v) for m, v in speeds.items()}}
        return rows, rounds

    def test_policies_listed(self):
        rows, rounds = self.rows_and_rounds()
        text = "\n".join(pcm.section(write(rows, rounds=rounds)))
        for name in ("leave-one-out", "in-sample", "the original's rule", "always padded", "always packed",
                     "always padding_free", "no paired interval of packed against padding_free",
                     "| non-inferior at 0.95 |", "low end at 0.95 or above"):
            self.assertIn(name, text)
        self.assertNotIn("not significantly slower", text.lower())
        self.assertIn("| always padding_free | 0/0/12 | 12/12 (100%) | 0/12 (0%) | 0/12 (0%) | 12/12 (100%); "
                      "0 undecided, 0 inferior | 0.0% | 0% |", text)
        self.assertIn("| always padded | 12/0/0 | 0/12 (0%) | 12/12 (100%) | 0/12 (0%) | 0/12 (0%); 0 undecided, "
                      "12 inferior |", text)
        self.assertIn("| calibrated, in-sample (fitted on these points) | 0/0/12 | 12/12 (100%) |", text)

    def test_without_rounds_json_padding_free_against_packed_is_undecided(self):
        rows, _ = self.rows_and_rounds()
        text = "\n".join(pcm.section(write(rows)))
        self.assertIn("| always padding_free | 0/0/12 | 12/12 (100%) | 0/12 (0%) | 0/12 (0%) | 0/12 (0%); "
                      "12 undecided, 0 inferior |", text)

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
