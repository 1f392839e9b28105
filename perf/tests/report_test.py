"""report.py on made-up results: the efficiency table's columns and the padding-free step's targets
(T1 efficiency, T2 against compiled Python, T3 grouping), each verdict from a ratio's interval; the
device header, the original's experiment and peak device memory, results of the old schema, and
the memory section (each path's step peak against its side's padded one).

Usage: report_test.py  (unittest; needs matplotlib and scipy, as perf/report.py)"""
import csv
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import report  # noqa: E402
import run_matrix  # noqa: E402


def arm(kind, what, distribution, batch, side, mode, fill=1.0):
    return {"row": "arm", "kind": kind, "what": what, "side": side, "mode": mode, "distribution": distribution,
            "batch": batch, "steps": 64, "status": "ok", "median_it_s": 5.0, "it_s_low": 4.9, "it_s_high": 5.1,
            "fill_ratio": fill, "rounds": 6, "base_side": "", "base_mode": ""}


def ratio(kind, what, distribution, batch, numerator, denominator, estimate, low, high):
    (side, mode), (base_side, base_mode) = numerator.split(" ", 1), denominator.split(" ", 1)
    return {"row": "ratio", "kind": kind, "what": what, "side": side, "mode": mode, "base_side": base_side,
            "base_mode": base_mode, "distribution": distribution, "batch": batch, "steps": 64, "status": "ok",
            "ratio": estimate, "ratio_low": low, "ratio_high": high, "half_width_pct": 100 * (high / estimate - 1),
            "verdict": "faster" if low > 1 else "slower" if high < 1 else "no difference detected", "rounds": 6}


def step_point(distribution, batch, fill, free_over_padded, free_over_compile=None, what="transformer_lstm"):
    """A step point with the C++ paths (and python padded_compile where a T2 ratio is given)."""
    rows = [arm("step", what, distribution, batch, "cpp", m, fill)
            for m in ("padded", "packed", "segmented", "stepwise", "padding_free")]
    rows.append(ratio("step", what, distribution, batch, "cpp padding_free", "cpp padded", *free_over_padded))
    rows.append(ratio("step", what, distribution, batch, "cpp stepwise", "cpp padded", 1.2, 1.1, 1.3))
    rows.append(ratio("step", what, distribution, batch, "cpp padding_free", "cpp stepwise", 1.1, 1.0, 1.2))
    if free_over_compile:
        rows.append(arm("step", what, distribution, batch, "python", "padded_compile", fill))
        rows.append(ratio("step", what, distribution, batch, "cpp padding_free", "python padded_compile",
                          *free_over_compile))
    return rows


def grouping_point(distribution, grouped_fill, free_grouped_over_padded_grouped, batch=32):
    rows = [arm("grouping", "transformer_lstm", distribution, batch, "cpp", f"{p}_{cut}",
                grouped_fill if cut == "grouped" else 0.5)
            for p in ("padded", "packed", "padding_free") for cut in ("random", "grouped")]
    rows.append(ratio("grouping", "transformer_lstm", distribution, batch, "cpp padding_free_grouped",
                      "cpp padded_grouped", *free_grouped_over_padded_grouped))
    return rows


def checks(rows) -> dict:
    found = report.padding_free_checks(report.Results(rows))
    return {(c.target, c.point.distribution, c.point.batch): c for c in found}


class EfficiencyTarget(unittest.TestCase):
    """T1: 1 / (ratio x fill) at most 1.25 (stretch 1.1), TransformerLSTM, B >= 32, varied distributions."""

    def test_verdicts_from_the_inverted_interval(self):
        # fill 0.5: efficiency = 2 / ratio. Ratios [1.7, 1.9] -> [1.05, 1.18]: met, stretch undecided.
        rows = (step_point("triangular", 64, 0.5, (1.8, 1.7, 1.9)) +
                step_point("bimodal", 64, 0.5, (1.5, 1.45, 1.55)) +      # [1.29, 1.38]: not met
                step_point("heavy_tailed", 64, 0.5, (1.65, 1.55, 1.75)) +  # [1.14, 1.29]: undecided
                step_point("uniform_half", 64, 0.5, (1.95, 1.85, 2.0)))    # [1.0, 1.08]: both met
        got = checks(rows)
        self.assertEqual(got["T1", "triangular", 64].verdict, "met")
        self.assertEqual(got["T1 stretch", "triangular", 64].verdict, "undecided")
        self.assertEqual(got["T1", "bimodal", 64].verdict, "not met")
        self.assertEqual(got["T1", "heavy_tailed", 64].verdict, "undecided")
        self.assertEqual(got["T1", "uniform_half", 64].verdict, "met")
        self.assertEqual(got["T1 stretch", "uniform_half", 64].verdict, "met")
        estimate, low, high = got["T1", "triangular", 64].value
        self.assertAlmostEqual(low, 2 / 1.9)
        self.assertAlmostEqual(high, 2 / 1.7)

    def test_only_varied_distributions_from_batch_32_and_the_one_model(self):
        rows = (step_point("equal", 64, 1.0, (0.5, 0.4, 0.6)) +           # efficiency 2: would fail
                step_point("triangular", 8, 0.5, (1.0, 0.9, 1.1)) +       # B = 8: not judged
                step_point("triangular", 32, 0.5, (1.0, 0.9, 1.1)) +      # efficiency ~2: not met
                step_point("triangular", 64, 0.5, (1.0, 0.9, 1.1), what="attention_lstm"))
        got = checks(rows)
        self.assertEqual({key for key in got if key[0] == "T1"}, {("T1", "triangular", 32)})
        self.assertEqual(got["T1", "triangular", 32].verdict, "not met")
        self.assertEqual(report.overall([c.verdict for c in got.values() if c.target == "T1"]), "not met")

    def test_a_run_without_the_padding_free_arm_has_no_targets(self):
        rows = [r for r in step_point("triangular", 64, 0.5, (1.8, 1.7, 1.9)) if "padding_free" not in r["mode"]]
        self.assertEqual(report.padding_free_checks(report.Results(rows)), [])
        self.assertEqual(report.padding_free_targets(report.Results(rows)), [])


class CompiledTarget(unittest.TestCase):
    """T2: cpp padding_free / python padded_compile >= 1.5 at B = 64 on the four varied distributions."""

    def test_verdicts(self):
        rows = (step_point("uniform_half", 64, 0.75, (1.3, 1.2, 1.4), (1.6, 1.5, 1.7)) +  # low = 1.5: met
                step_point("triangular", 64, 0.5, (1.8, 1.7, 1.9), (1.45, 1.4, 1.49)) +   # high < 1.5: not met
                step_point("bimodal", 64, 0.55, (1.6, 1.5, 1.7), (1.5, 1.4, 1.6)) +       # straddles
                step_point("equal", 64, 1.0, (1.0, 0.9, 1.1), (1.0, 0.9, 1.1)))           # not a T2 distribution
        got = checks(rows)
        self.assertEqual({k[1]: c.verdict for k, c in got.items() if k[0] == "T2"},
                         {"uniform_half": "met", "triangular": "not met", "bimodal": "undecided"})

    def test_an_arm_that_failed_is_not_measured(self):
        rows = step_point("heavy_tailed", 64, 0.16, (4.0, 3.8, 4.2), (2.0, 1.9, 2.1))
        for r in rows:
            if r["row"] == "ratio" and r["base_mode"] == "padded_compile":
                r["status"] = "not measured"
        self.assertEqual(checks(rows)["T2", "heavy_tailed", 64].verdict, "not measured")
        self.assertEqual(report.overall(["met", "not measured"]), "undecided")


class GroupingTarget(unittest.TestCase):
    """T3: padding_free_grouped / padded_grouped: no loss (non-inferior at 0.95) everywhere varied;
    faster where the grouped fill is below 0.8."""

    def test_verdicts(self):
        rows = (grouping_point("heavy_tailed", 0.6, (1.3, 1.2, 1.4)) +   # low fill, faster: both met
                grouping_point("bimodal", 0.7, (1.02, 0.98, 1.06)) +     # low fill, covers 1: faster undecided
                grouping_point("triangular", 0.9, (0.88, 0.84, 0.92)) +  # a loss beyond 5%: not met
                grouping_point("uniform_half", 0.95, (1.0, 0.95, 1.05)) +  # high fill: only "no loss", met
                grouping_point("equal", 1.0, (0.8, 0.7, 0.9)))           # not varied: not judged
        got = {(k[0], k[1]): c.verdict for k, c in checks(rows).items()}
        self.assertEqual(got, {("T3 no loss", "heavy_tailed"): "met", ("T3 faster", "heavy_tailed"): "met",
                               ("T3 no loss", "bimodal"): "met", ("T3 faster", "bimodal"): "undecided",
                               ("T3 no loss", "triangular"): "not met",
                               ("T3 no loss", "uniform_half"): "met"})

    def test_no_loss_is_non_inferiority_at_0_95_not_an_interval_reaching_1(self):
        rows = (grouping_point("uniform_half", 0.96, (0.96, 0.76, 1.22), 32) +   # wide, covers 1: undecided
                grouping_point("uniform_half", 0.96, (0.94, 0.88, 1.01), 64) +   # covers 1, low < 0.95: undecided
                grouping_point("triangular", 0.9, (1.01, 0.97, 1.05), 32) +      # narrow, low >= 0.95: met
                grouping_point("triangular", 0.9, (0.97, 0.955, 0.985), 64) +    # slower than 1, not by 5%: met
                grouping_point("bimodal", 0.9, (0.9, 0.85, 0.95), 32) +          # high = the bound: undecided
                grouping_point("bimodal", 0.9, (0.9, 0.87, 0.93), 64))           # high < 0.95: not met
        got = {(k[1], k[2]): c.verdict for k, c in checks(rows).items() if k[0] == "T3 no loss"}
        self.assertEqual(got, {("uniform_half", 32): "undecided", ("uniform_half", 64): "undecided",
                               ("triangular", 32): "met", ("triangular", 64): "met",
                               ("bimodal", 32): "undecided", ("bimodal", 64): "not met"})
        self.assertEqual(report.overall([got["uniform_half", 32], got["triangular", 32]]), "undecided")
        self.assertIn("low end >= 0.95", report.PF_TARGETS["T3 no loss"])


class Sections(unittest.TestCase):
    def test_the_efficiency_table_has_a_padding_free_column_for_steps_only(self):
        rows = step_point("triangular", 64, 0.5, (1.8, 1.7, 1.9))
        rows += [arm("lstm_step", "lstm", "triangular", 64, "cpp", m, 0.5) for m in report.comparisons.STEP_PATHS]
        rows.append(ratio("lstm_step", "lstm", "triangular", 64, "cpp stepwise", "cpp padded", 1.8, 1.7, 1.9))
        res = report.Results(rows)
        step_header = report.efficiency_section(res, "step")[4]
        lstm_header = report.efficiency_section(res, "lstm_step")[4]
        self.assertIn("| padding_free |", step_header)
        self.assertNotIn("padding_free", lstm_header)
        self.assertIn("stepwise", lstm_header)

    def test_a_whole_report_states_the_targets(self):
        rows = (step_point("triangular", 64, 0.5, (1.8, 1.7, 1.9), (1.6, 1.55, 1.65)) +
                grouping_point("heavy_tailed", 0.6, (1.3, 1.2, 1.4)))
        with tempfile.TemporaryDirectory() as tmp:
            with open(Path(tmp) / "results.csv", "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=run_matrix.FIELDS, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
            self.assertEqual(report.main(tmp), 0)
            text = (Path(tmp) / "report.md").read_text()
        section = text[text.index("## Padding-free targets"):]
        self.assertIn("| T1 | ", section)
        self.assertIn("| T2 | ", section)
        self.assertIn("met (met at 1 of 1 points)", section)
        self.assertIn("| T3 faster | grouping | heavy_tailed | 32 | 0.60 | 1.300 [1.200, 1.400] | met |", section)


class MemorySection(unittest.TestCase):
    def test_each_path_against_its_sides_padded_peak_beside_the_fill(self):
        rows = step_point("heavy_tailed", 64, 0.25, (1.8, 1.7, 1.9))
        peaks = {"padded": 200.0, "packed": 120.0, "padding_free": 40.0}
        for r in rows:
            if r["row"] == "arm" and r["mode"] in peaks:
                r.update(unit_peak_mib=peaks[r["mode"]], held_mib=10.0)
        with tempfile.TemporaryDirectory() as tmp:
            write_results(Path(tmp), rows, run_matrix.FIELDS)
            self.assertEqual(report.main(tmp), 0)
            text = (Path(tmp) / "report.md").read_text()
        section = text[text.index("## Memory per arm"):]
        self.assertIn("| C++ padding_free | 0.250 | 40.0 | 0.200 | 10.0 |", section)
        self.assertIn("| C++ packed | 0.250 | 120.0 | 0.600 | 10.0 |", section)
        self.assertNotIn("stepwise", section.split("\n\n## ")[0])  # no peak measured: no row

    def test_old_results_name_the_resident_size_peak_memory_mib(self):
        rows = [{**r, "peak_memory_mib": 900.0} for r in step_point("triangular", 64, 0.5, (1.8, 1.7, 1.9))]
        with tempfile.TemporaryDirectory() as tmp:
            write_results(Path(tmp), rows, [f if f != "peak_rss_mib" else "peak_memory_mib" for f in run_matrix.FIELDS])
            res = report.load(Path(tmp) / "results.csv")
        self.assertEqual(res.arm_rows[0]["peak_rss_mib"], 900.0)
        self.assertEqual(report.memory_section(res), [])


def write_results(folder: Path, rows: list[dict], fields: list[str]) -> None:
    with open(folder / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def original_point(device: str, precision: str = "float32") -> list[dict]:
    """The original's experiment (profile gpu): the five PyTorch modes and C++ padded / packed."""
    rows = [{**arm("step", "transformer_lstm", "uniform_half", 64, side, mode), "device": device,
             "precision": precision, "peak_device_memory_mib": 1234.0 if device != "cpu" else 0.0}
            for side, mode in [("python", m) for m in ("padded_eager", "packed_eager", "padded_compile",
                                                         "packed_compile", "packed_compile_disable")] +
            [("cpp", "padded"), ("cpp", "packed")]]
    rows.append({**ratio("step", "transformer_lstm", "uniform_half", 64, "python packed_eager",
                         "python padded_compile", 0.7, 0.65, 0.75), "precision": precision,
                 "base_precision": precision})
    rows.append({**ratio("step", "transformer_lstm", "uniform_half", 64, "python packed_compile_disable",
                         "python padded_compile", 0.8, 0.78, 0.82), "precision": precision,
                 "base_precision": precision})
    return rows


class GpuSection(unittest.TestCase):
    """The device in the header, the original's experiment beside its figures, peak device memory on CUDA;
    results from before the device and precision columns still read."""

    def test_a_cuda_run_names_its_gpu_and_the_originals_figures(self):
        rows = original_point("cuda:0") + original_point("cuda:0", "bfloat16")
        accelerator = {"device": "cuda:0", "name": "NVIDIA H200", "memory_mib": 143771, "driver": "570.1",
                       "cuda": "13.0", "cudnn": "91000", "capability": "9.0"}
        with tempfile.TemporaryDirectory() as tmp:
            write_results(Path(tmp), rows, run_matrix.FIELDS)
            (Path(tmp) / "machine.json").write_text(json.dumps({"device": "some CPU", "accelerator": accelerator}))
            self.assertEqual(report.main(tmp), 0)
            text = (Path(tmp) / "report.md").read_text()
        self.assertIn("Device: cuda:0, NVIDIA H200, 143771 MiB, capability 9.0, driver 570.1, CUDA 13.0, cuDNN 91000",
                      text)
        section = text[text.index("## The original's experiment"):text.index("## Peak device memory")]
        self.assertIn("measured on cuda:0, as the original's (one GPU)", section)
        self.assertIn("| Python packed + compiler.disable | 5.00 [4.90, 5.10] | 2.78 |", section)
        self.assertIn("| python packed_eager / python padded_compile | 0.70 [0.65, 0.75] slower | 0.66 | interval covers it |",
                      section)
        self.assertIn("| python packed_compile_disable / python padded_compile | 0.80 [0.78, 0.82] slower | 0.92 "
                      "| below it |", section)
        # the bfloat16 arms are read apart from the float32 ones, their ratios labelled with the precision
        self.assertIn("uniform_half, T = 64, bfloat16", section)
        self.assertIn("| python packed_eager bfloat16 / python padded_compile bfloat16 |", section)
        memory = text[text.index("## Peak device memory"):]
        self.assertIn("| step/transformer_lstm/uniform_half/64/64 | python packed_eager bfloat16 | 1234 |", memory)

    def test_a_cpu_run_says_the_originals_figures_are_from_a_gpu(self):
        with tempfile.TemporaryDirectory() as tmp:
            write_results(Path(tmp), original_point("cpu"), run_matrix.FIELDS)
            self.assertEqual(report.main(tmp), 0)
            text = (Path(tmp) / "report.md").read_text()
        self.assertIn("Device: cpu (every arm ran on the CPU)", text)
        self.assertIn("measured on the CPU: the original's figures are from one GPU", text)
        self.assertNotIn("## Peak device memory", text)

    def test_old_results_without_device_or_precision_columns_still_read(self):
        old_fields = [f for f in run_matrix.FIELDS
                      if f not in ("precision", "base_precision", "peak_device_memory_mib", "machine")]
        rows = [{k: v for k, v in r.items() if k not in ("precision", "base_precision", "peak_device_memory_mib")}
                for r in original_point("Some CPU, 2 logical CPUs, Linux")]
        with tempfile.TemporaryDirectory() as tmp:
            write_results(Path(tmp), rows, old_fields)
            self.assertEqual(report.main(tmp), 0)
            text = (Path(tmp) / "report.md").read_text()
        self.assertIn("Device: cpu (every arm ran on the CPU)", text)
        self.assertIn("| python packed_eager / python padded_compile | 0.70 [0.65, 0.75] slower | 0.66 | interval covers it |",
                      text)


class Conclusions(unittest.TestCase):
    def test_a_lower_precision_ratio_is_concluded_apart_from_its_float32_twin(self):
        rows = [{**ratio("step", "tft", "uniform_half", 64, "cpp padded", "python padded_eager", 1.1, 1.05, 1.15),
                 "precision": "float32", "base_precision": "float32"},
                {**ratio("step", "tft", "uniform_half", 64, "cpp padded", "python padded_eager", 1.02, 0.99, 1.05),
                 "precision": "bfloat16", "base_precision": "bfloat16"},
                {**ratio("step", "tft", "uniform_half", 64, "cpp padded", "cpp padded", 0.75, 0.7, 0.8),
                 "precision": "bfloat16", "base_precision": "float32"}]
        lines = report.conclusions(report.Results(rows))
        self.assertIn("- step tft: C++ padded against Python padded eager: B = 64: faster at 1 of 1 distributions "
                      "(1.10x).", lines)
        self.assertIn("- step tft: C++ padded bfloat16 against Python padded eager bfloat16: B = 64: no difference "
                      "detected at any of the 1 distributions.", lines)
        self.assertIn("- step tft: C++ padded bfloat16 against C++ padded: B = 64: slower at 1 of 1 distributions "
                      "(0.75x).", lines)
        self.assertFalse(any("data-parallel section" in line for line in lines))  # one rank count throughout


if __name__ == "__main__":
    unittest.main(verbosity=2)
