"""advise.py without measuring: a column of lengths and one row per observation give the same series,
the batches' fills and the policy's pick follow from the lengths, the pick agrees with the cost
model's rule per batch; each bad lengths file is refused with one line naming it and the rule (exit
3) and writes nothing; bad options are usage errors (exit 2).

Usage: advise_test.py  (unittest)"""
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

PERF = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PERF))
import advise  # noqa: E402
from seqpack_reference import packing_policy  # noqa: E402


def run(*args, cwd=None):
    return subprocess.run([sys.executable, str(PERF / "advise.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def run_here(*args):
    """advise.main in this process (no interpreter start per case): (exit status, stderr)."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = advise.main([str(a) for a in args])
        except SystemExit as exit_:
            status = exit_.code
    return status, stderr.getvalue()


class Advise(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())

    def write(self, name, text):
        (self.tmp / name).write_text(text)
        return self.tmp / name

    def test_a_column_and_series_ids_give_the_same_advice(self):
        lengths = [3 + (i * 7) % 61 for i in range(200)]
        column = self.write("lengths.csv", "series,length\n" + "".join(f"s{i},{n}\n" for i, n in enumerate(lengths)))
        rows = self.write("long.csv", "id,value\n" + "".join(f"s{i},0.5\n" for i, n in enumerate(lengths) for _ in range(n)))
        outs = []
        for source, extra in ((column, []), (rows, ["--series-id", "id"])):
            out = self.tmp / source.stem
            result = run(source, "--model", "attention_lstm", "--batch", 32, "--out", out, *extra)
            self.assertEqual(result.returncode, 0, result.stderr)
            outs.append(json.loads((out / "advice.json").read_text()))
            self.assertTrue((out / "advice.png").stat().st_size > 0)
            self.assertEqual((out / "lengths.csv").read_text().split()[1:], [str(n) for n in lengths])
        self.assertEqual(outs[0]["samplers"], outs[1]["samplers"])
        advice = outs[0]
        self.assertEqual(advice["series"], 200)
        self.assertEqual(advice["samplers"]["random"]["batches"], 7)  # 200 / 32, the last one short
        # clip onto 64 steps keeps every length (all below 64): the window fill is the lengths' mean / 64
        fills = advice["samplers"]["random"]["window_fill"]
        self.assertAlmostEqual(sum(f * 64 * b for f, b in zip(fills, [32] * 6 + [8])), sum(lengths), places=6)
        # grouping raises the fill of each batch's longest row
        grouped, random = (sorted(advice["samplers"][s]["longest_fill"]) for s in ("grouped", "random"))
        self.assertGreater(grouped[len(grouped) // 2], random[len(random) // 2])
        cost_model = packing_policy.load()
        lengths_64 = advise.distributions.batch_lengths(
            advise.distributions.read_lengths_file(f"file:{self.tmp / 'lengths' / 'lengths.csv'}", PERF.parent),
            32, 64, 1)
        self.assertEqual(advice["pick"], packing_policy.fastest_path(cost_model, "attention_lstm", 32, 64, lengths_64))
        self.assertEqual(sum(advice["samplers"]["random"]["picks"].values()), 7)

    def test_scale_fills_the_window_with_the_longest(self):
        source = self.write("lengths.csv", "length\n" + "".join(f"{n}\n" for n in (100, 200, 400, 800) * 20))
        status, stderr = run_here(source, "--model", "transformer_lstm", "--batch", 8, "--rule", "scale",
                                  "--out", self.tmp / "o")
        self.assertEqual(status, 0, stderr)
        advice = json.loads((self.tmp / "o" / "advice.json").read_text())
        self.assertAlmostEqual(advice["representative_fill"], (8 + 16 + 32 + 64) / 4 / 64)

    def test_an_uncalibrated_precision_predicts_nothing(self):
        source = self.write("lengths.csv", "length\n5\n9\n")
        status, stderr = run_here(source, "--model", "transformer_lstm", "--batch", 2, "--precision", "bfloat16",
                                  "--out", self.tmp / "o")
        self.assertEqual(status, 0, stderr)
        self.assertIn("no prediction", (self.tmp / "o" / "advice.md").read_text())

    def test_bad_lengths_files_are_refused_in_one_line(self):
        cases = {
            "absent.csv": (None, "is not a readable file"),
            "no_column.csv": ("size\n3\n", 'has no column "length" (columns: size)'),
            "empty.csv": ("", "cannot be read as CSV: the header is missing"),
            "header_only.csv": ("length\n", "has no lengths (a header and at least one row are needed)"),
            "word.csv": ("length\n3\nten\n", 'row 3: length "ten" is not an integer'),
            "zero.csv": ("length\n0\n", "row 2: length 0 is outside [1, 1000000000]"),
            "negative.csv": ("length\n-2\n", "row 2: length -2 is outside [1, 1000000000]"),
            "missing_value.csv": ("series,length\na,4\nb,\n", 'row 3: length "" is not an integer'),
            "short_row.csv": ("series,length\na,4\nb\n", "cannot be read as CSV: line 3: the header has 2 fields, this line 1"),
        }
        for name, (text, rule) in cases.items():
            with self.subTest(name):
                source = self.tmp / name if text is None else self.write(name, text)
                out = self.tmp / f"out_{name}"
                status, stderr = run_here(source, "--model", "transformer_lstm", "--out", out)
                self.assertEqual((status, stderr.strip()), (3, f"advise.py: {source}: {rule}"))
                self.assertFalse(out.exists())
        ids = self.write("ids.csv", "id,value\na,1\n")
        status, stderr = run_here(ids, "--model", "transformer_lstm", "--series-id", "series", "--out", self.tmp / "o")
        self.assertEqual((status, stderr.strip()), (3, f'advise.py: {ids}: has no column "series" (columns: id, value)'))

    def test_bad_options_are_usage_errors(self):
        source = self.write("lengths.csv", "length\n5\n")
        for args in (["--model", "tft"], ["--model", "transformer_lstm", "--batch", "0"],
                     ["--model", "transformer_lstm", "--rule", "stretch"],
                     ["--model", "transformer_lstm", "--params", "[1"],
                     ["--model", "transformer_lstm", "--params", "[1]"]):
            with self.subTest(args):
                status, stderr = run_here(source, *args, "--out", self.tmp / "o")
                self.assertEqual(status, 2, stderr)
                self.assertFalse((self.tmp / "o").exists())


if __name__ == "__main__":
    unittest.main()
