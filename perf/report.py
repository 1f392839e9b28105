"""Writes a run's performance report from what perf/run_matrix.py wrote in REPORT_DIR: results.csv
(arm rows and ratio rows), machine.json and rounds.json.

    python perf/report.py REPORT_DIR        # writes REPORT_DIR/report.md and a ratios_<model>.png per model

Every comparison in the report is a ratio row: a 95% interval from paired, interleaved rounds and its
verdict. An arm's own it/s carries the machine's drift across the run, so the report shows it for
scale and never compares two arms' it/s (except the primitives' share of a step, marked as such).
A section whose kind of point the run did not measure is left out.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import statistics
import sys
from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullLocator  # noqa: E402

import packing_cost_model  # noqa: E402  (perf/ is on sys.path: this file runs as a script)
import comparisons  # noqa: E402
import data_parallel  # noqa: E402
import engine  # noqa: E402
import stats  # noqa: E402
from comparisons import AA_SUFFIX, DEFAULT_PRECISION, Ratio, cpp, precision_suffix, python  # noqa: E402

KINDS = comparisons.KINDS
NUMBERS = ("median_it_s", "it_s_low", "it_s_high", "ratio", "ratio_low", "ratio_high", "half_width_pct", "fill_ratio",
           "peak_rss_mib", "unit_peak_mib", "held_mib", "peak_device_memory_mib", "warmup_s", "samples_per_s",
           *[f"{m}{end}" for m in data_parallel.METRICS for end in ("", "_low", "_high")])
# The original's write-up (one GPU, TransformerLSTM, batch 64): its it/s and their ratios, with their source.
ORIGINAL_FIGURES = json.loads((Path(__file__).resolve().parent / "original_figures.json").read_text())
ORIGINAL_HEADLINE = ORIGINAL_FIGURES["it_s"]
HEADLINE_ARMS = [python("padded_compile"), python("packed_eager"), python("packed_compile_disable"), cpp("padded"),
                 cpp("packed")]
HEADLINE_RATIOS = [Ratio(cpp("padded"), python("padded_compile")).label, Ratio(cpp("packed"), cpp("padded")).label,
                   Ratio(python("packed_compile_disable"), python("packed_eager")).label,
                   Ratio(python("packed_eager"), python("padded_compile")).label,
                   Ratio(python("packed_compile_disable"), python("padded_compile")).label]
FORWARD_ARMS = [cpp("padded"), cpp("packed"), cpp("compiled"), python("padded_eager"), python("padded_compile")]
OWN_RUNS = comparisons.MODEL_STEP_PATHS[1:]  # the packed runs and padding_free, each against padded
LSTM_GOAL, LSTM_GOAL_BATCH = 1.1, 32  # the LSTM step's efficiency goal, from this batch size up
# The padding-free step's targets (padding_free_targets), each judged at every point
# from a ratio's 95% interval. "Varied" distributions: every one but UNVARIED (all lengths equal).
UNVARIED = "equal"
PF_MODEL = "transformer_lstm"
# T1: step efficiency 1 / (ratio(padding_free / padded) x fill) at most this, B >= PF_EFFICIENCY_BATCH.
PF_EFFICIENCY_GOAL, PF_EFFICIENCY_STRETCH, PF_EFFICIENCY_BATCH = 1.25, 1.1, 32
# T2: cpp padding_free / python padded_compile at least this, at B = PF_COMPILE_BATCH on these.
PF_COMPILE_GOAL, PF_COMPILE_BATCH = 1.5, 64
PF_COMPILE_DISTRIBUTIONS = ("uniform_half", "triangular", "bimodal", "heavy_tailed")
# T3: padding_free_grouped / padded_grouped: no loss, as non-inferiority at stats.NON_INFERIORITY_BOUND
# (the interval's low end at or above it), at every varied grouping point, and significantly faster
# where the grouped batches' fill is below PF_GROUPING_FILL.
PF_GROUPING_FILL = 0.8
NAMES = {"cpp": "C++", "python": "Python", "padded_compile": "padded + compile", "packed_compile": "packed + compile",
         "packed_compile_disable": "packed + compiler.disable", "padded_eager": "padded eager",
         "packed_eager": "packed eager"}


class Point(NamedTuple):
    kind: str
    what: str
    distribution: str
    batch: int
    steps: int

    @property
    def name(self) -> str:
        """As rounds.json names it (comparisons.Point.name)."""
        return "/".join(map(str, self))


def point_of(row: dict) -> Point:
    return Point(row["kind"], row["what"], row["distribution"], row["batch"], row["steps"])


def ranks_suffix(ranks) -> str:
    """A data-parallel arm's rank count as comparisons.Arm.label writes it ("" for any other arm)."""
    return f" x{ranks}" if ranks else ""


def label_of(row: dict) -> str:
    """As comparisons.Ratio.label writes it; results from before precisions (no column) are float32."""
    return (f"{row['side']} {row['mode']}{precision_suffix(row.get('precision'))}{ranks_suffix(row.get('ranks'))} / "
            f"{row['base_side']} {row['base_mode']}{precision_suffix(row.get('base_precision'))}"
            f"{ranks_suffix(row.get('base_ranks'))}")


def precision_of(row: dict) -> str:
    return row.get("precision") or DEFAULT_PRECISION


def is_control(row: dict) -> bool:
    return row["mode"].endswith(AA_SUFFIX)


class Results:
    """results.csv, indexed: arms by (point, side, mode), ratios by (point, label)."""

    def __init__(self, rows: list[dict]):
        self.arm_rows = [r for r in rows if r["row"] == "arm"]
        self.ratio_rows = [r for r in rows if r["row"] == "ratio"]
        self._arms = {(point_of(r), r["side"], r["mode"], r.get("ranks") or "", precision_of(r)): r
                      for r in self.arm_rows}
        self._ratios = {(point_of(r), label_of(r)): r for r in self.ratio_rows}
        order = list(dict.fromkeys(r["distribution"] for r in rows))
        # Tables read distribution by distribution, then by B.
        self._points = sorted(dict.fromkeys(map(point_of, rows)), key=lambda p: (
            KINDS.index(p.kind), p.what, order.index(p.distribution), p.batch, p.steps))

    def arm(self, point: Point, arm) -> dict | None:
        return self._arms.get((point, arm.side, arm.mode, str(arm.ranks or ""),
                               getattr(arm, "precision", DEFAULT_PRECISION)))

    @property
    def device(self) -> str:
        """"cpu" or "cuda:N"; results from before the device column held the host there, on the CPU."""
        devices = {r.get("device") or "cpu" for r in self.arm_rows}
        return next((d for d in sorted(devices) if d.startswith("cuda")), "cpu")

    @property
    def precisions(self) -> list[str]:
        return list(dict.fromkeys(precision_of(r) for r in self.arm_rows)) or [DEFAULT_PRECISION]

    def ratio(self, point: Point, label: str) -> dict | None:
        return self._ratios.get((point, label))

    def points(self, kind: str, what: str | None = None, batch: int | None = None) -> list[Point]:
        return [p for p in self._points if p.kind == kind and what in (None, p.what) and batch in (None, p.batch)]

    def whats(self, kind: str) -> list[str]:
        return list(dict.fromkeys(p.what for p in self.points(kind)))

    def labels(self, points: list[Point], control: bool = True) -> list[str]:
        """The ratio labels measured at these points, in the run's order, the A/A control's last."""
        wanted = set(points)
        rows = [r for r in self.ratio_rows if point_of(r) in wanted and (control or not is_control(r))]
        return sorted(dict.fromkeys(map(label_of, rows)), key=lambda label: AA_SUFFIX in label)


def load(path: Path) -> Results:
    reader = csv.DictReader(open(path))
    if "row" not in (reader.fieldnames or []):
        raise SystemExit(f"{path} has no `row` column: a results table of the old schema (before run_matrix.py's "
                         "arm and ratio rows), which this report cannot read")
    rows = list(reader)
    for r in rows:
        if "peak_memory_mib" in r:  # results.csv before the column said it is the resident size
            r.setdefault("peak_rss_mib", r.pop("peak_memory_mib"))
        for key in NUMBERS:
            r[key] = float(r[key]) if r.get(key) else None
        r["batch"], r["steps"], r["rounds"] = int(r["batch"]), int(r["steps"]), int(r["rounds"] or 0)
    return Results(rows)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


# ---------------------------------------------------------------- cells and tables

def bound(value: float) -> str:
    """2 decimals; 3 where 2 would show a bound that excludes 1 as 1.00 (and the verdict would look wrong)."""
    text = f"{value:.2f}"
    return f"{value:.3f}" if text == "1.00" and value != 1.0 else text


def interval(estimate: float, low: float, high: float) -> str:
    return f"{estimate:.2f} [{bound(low)}, {bound(high)}]"


def ratio_cell(row: dict | None, verdict: bool = True) -> str:
    """`1.23 [1.18, 1.29] faster`; "—" when the run has no such ratio, "not measured" when an arm failed."""
    if row is None:
        return "—"
    if row["status"] != "ok":
        return "not measured"
    text = interval(row["ratio"], row["ratio_low"], row["ratio_high"])
    return f"{text} {row['verdict']}" if verdict else text


def rate_cell(row: dict | None) -> str:
    """An arm's median it/s, for scale only."""
    if row is None:
        return "—"
    if row["status"] != "ok":
        return "failed"
    return f"{row['median_it_s']:.2f}" if row["median_it_s"] < 100 else f"{row['median_it_s']:.0f}"


def fill(res: Results, point: Point, arm=cpp("padded")) -> float | None:
    row = res.arm(point, arm)
    return row["fill_ratio"] if row and row["fill_ratio"] else None


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(header: list[str], body: list[list[str]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] +
            ["| " + " | ".join(cells) + " |" for cells in body] + [""])


WHERE = [("distribution", lambda p: p.distribution), ("B", lambda p: str(p.batch))]
MODEL = [("model", lambda p: p.what)]


def point_table(points: list[Point], columns: list[tuple[str, callable]]) -> list[str]:
    """A row per point, a cell per column: (header, point -> text)."""
    return table([h for h, _ in columns], [[cell(p) for _, cell in columns] for p in points])


def ratio_columns(res: Results, labels: list[str]) -> list[tuple[str, callable]]:
    return [(label, lambda p, label=label: ratio_cell(res.ratio(p, label))) for label in labels]


def arm_columns(res: Results, arms: list) -> list[tuple[str, callable]]:
    return [(f"{arm.label} (it/s)", lambda p, arm=arm: rate_cell(res.arm(p, arm))) for arm in arms]


def arm_name(side: str, mode: str) -> str:
    """"Python padded eager", "C++ padded bfloat16": the mode's name, then what follows it (a precision)."""
    path, _, rest = mode.partition(" ")
    return f"{NAMES.get(side, side)} {NAMES.get(path, path)}" + (f" {rest}" if rest else "")


# ---------------------------------------------------------------- sections

def disturbed(rounds: dict) -> list[str]:
    """The report's first warning: points whose figures may not hold (engine.disturbances: other work on
    the machine, an A/A off 1, rounds over budget), and how many stalled rounds were measured again."""
    points = rounds.get("points", {})
    hit = {name: p["disturbances"] for name, p in points.items() if p.get("disturbances")}
    treated = sum(p.get("treated_rounds", 0) for p in points.values())
    lines = []
    if hit:
        lines += [f"**Warning: {len(hit)} of {len(points)} points were disturbed**; their figures may not hold "
                  "(measure them again on an idle machine):", ""]
        lines += [f"- {name}: {'; '.join(reasons)}" for name, reasons in hit.items()] + [""]
    if treated:
        lines += [f"Stalls: {treated} rounds in which one arm took {STALL_FACTOR:g} times its median or more were "
                  "measured again (engine.py); the rounds kept are the re-measured ones.", ""]
    return lines


STALL_FACTOR = engine.EngineSettings().stall_factor


def header(name: str, machine: dict, res: Results, rounds: dict | None = None) -> list[str]:
    threads = ", ".join(f"{side} {n}" for side, n in machine.get("threads", {}).items()) or "?"
    if res.points("data_parallel"):  # recorded since the first data-parallel run; that run's profile said 1
        per_rank = machine.get("data_parallel_threads_per_rank",
                               comparisons.load_profile(machine.get("profile", "quick")).get(
                                   "data_parallel_threads_per_rank", 1))
        threads += f", {per_rank} per data-parallel rank"
    steps = sorted({p.steps for kind in KINDS if kind != "primitive" for p in res.points(kind)})
    lines = [f"# seqpack performance report: {name}", "",
             f"Machine: {machine.get('device', '?')}, governor {machine.get('governor', '?')}. torch "
             f"{machine.get('torch', '?')}, commit {machine.get('commit', '?')}, "
             f"profile {machine.get('profile', '?')}, threads {threads}.", "",
             f"Device: {device_text(res.device, machine.get('accelerator', {}))}.", "",
             *disturbed(rounds or {}),
             "Training step = forward, the model's default loss through calc_loss, backward, Adam. Models at the "
             f"original's default sizes (unless the profile sets others), {', '.join(res.precisions)}, "
             f"{res.device}, encoder T = {', '.join(map(str, steps)) or '—'}.", "",
             "How to read it: every ratio is a 95% interval from paired, interleaved rounds (t interval on per-round "
             "log ratios; where a point's rounds ran in several launches of fresh workers, on the launches' mean log "
             "ratios, so that what differs from process to process is inside it); verdicts only where the interval excludes 1; it/s of single arms include the machine's "
             "drift and are not compared across arms. A ratio is numerator it/s / denominator it/s: above 1, the "
             "numerator is faster. Cells read `estimate [low, high] verdict`.", ""]
    if machine.get("warnings"):
        lines += ["**Warning: the machine was shared** during this run: " + "; ".join(machine["warnings"]) +
                  ". The paired rounds cancel much of other work from the ratios (their intervals widen instead), "
                  "but not from the it/s.", ""]
    return lines


def device_text(device: str, accelerator: dict) -> str:
    """The device the arms ran on; on CUDA the GPU, its memory and the driver, CUDA and cuDNN versions."""
    if not device.startswith("cuda"):
        return f"{device} (every arm ran on the CPU)"
    a = accelerator
    return (f"{device}, {a.get('name', 'unknown GPU')}, {a.get('memory_mib', '?')} MiB, capability "
            f"{a.get('capability', '?')}, driver {a.get('driver', '?')}, CUDA {a.get('cuda', '?')}, "
            f"cuDNN {a.get('cudnn', '?')}; timed with CUDA events after synchronising")


def noise_floor(res: Results) -> list[str]:
    """The A/A control (one arm measured as if it were two) shows how often an interval misses a true
    ratio of 1, and how small a difference the run could resolve."""
    controls = [r for r in res.ratio_rows if is_control(r) and r["status"] == "ok"]
    if not controls:
        return []
    misses = [r for r in controls if not r["ratio_low"] <= 1.0 <= r["ratio_high"]]
    covered = len(controls) - len(misses)
    widest = max(controls, key=lambda r: r["half_width_pct"])
    median = statistics.median(r["half_width_pct"] for r in controls)
    lines = ["## Noise floor: the A/A control", "",
             "At each point one arm is measured twice, as if it were two arms. Its interval covered 1.0 at "
             f"{covered} of {len(controls)} points ({100 * covered / len(controls):.0f}%; about 95% is expected, so 1 miss in 20 "
             "is chance, many more mean rounds that are not independent). A/A half-width: median "
             f"±{median:.1f}%, widest ±{widest['half_width_pct']:.1f}% "
             f"({point_of(widest).name}): differences smaller than these are below what the run resolves.", ""]
    if misses:
        lines += ["Points where the A/A interval did not cover 1:", ""]
        lines += table(["point", "A/A ratio"], [[point_of(r).name, ratio_cell(r)] for r in misses])
    return lines


STOPPED = {"budget": "budget spent", "run budget": "the run's time spent", "max rounds": "max rounds reached", "target": "target met at the stop",
           "no arms": "every arm failed", "no ratios": "every requested ratio lost an arm",
           "interrupted": "the run was interrupted"}


def short_reason(row: dict, rounds: dict) -> str:
    if row["status"] != "ok":
        return "not measured (an arm failed)"
    stopped = rounds.get("points", {}).get(point_of(row).name, {}).get("stopped")
    return STOPPED.get(stopped, stopped or "not recorded")


def precision(res: Results, machine: dict, rounds: dict) -> list[str]:
    """Which requested ratios (the A/A control aside) reached the target half-width, and why others did not."""
    target = machine.get("engine", {}).get("target_half_width_pct", 5.0)
    requested = [r for r in res.ratio_rows if not is_control(r)]
    if not requested:
        return []
    short = [r for r in requested if r["status"] != "ok" or r["half_width_pct"] > target]
    short.sort(key=lambda r: -(r["half_width_pct"] or float("inf")))
    reached = len(requested) - len(short)
    lines = ["## Precision", "",
             f"{reached} of {len(requested)} requested ratios ({100 * reached / len(requested):.0f}%) reached a "
             f"half-width of ±{target:g}% or less. A point's rounds go on until its widest ratio does, or its time "
             "budget (or the run's) is spent; a wide interval still supports its verdict, it only resolves less.", ""]
    if short:
        lines += table(["point", "ratio", "half-width", "rounds", "why it stopped"],
                       [[point_of(r).name, label_of(r),
                         f"±{r['half_width_pct']:.1f}%" if r["status"] == "ok" else "—", str(r["rounds"] or "—"),
                         short_reason(r, rounds)] for r in short])
    return lines


def headline(res: Results) -> list[str]:
    """The original's three figures beside ours, then the ratios that decide between its options."""
    points = res.points("step", "transformer_lstm", 64)
    if not points:
        return []
    original = ["the original (one GPU, its write-up)", "64"] + [
        str(ORIGINAL_HEADLINE.get(arm.mode, "—")) if arm.side == "python" else "—" for arm in HEADLINE_ARMS]
    arms = point_table(points, WHERE + arm_columns(res, HEADLINE_ARMS))
    return (["## Headline: TransformerLSTM, batch 64", "",
             "Median it/s over the rounds, for scale only: they carry the machine's drift, and the original's are "
             "from one GPU. The comparisons are the ratios below.", ""] +
            arms[:2] + ["| " + " | ".join(original) + " |"] + arms[2:] +  # the original's row under the header
            point_table(points, WHERE + ratio_columns(res, [label for label in HEADLINE_RATIOS
                                                    if any(res.ratio(p, label) for p in points)])))


ORIGINAL_ARMS = [python(m) for m in comparisons.PYTHON_EAGER + comparisons.PYTHON_COMPILED] + [
    cpp("padded"), cpp("packed"), cpp("segmented")]


def original_experiment(res: Results) -> list[str]:
    """The original's experiment again (TransformerLSTM, batch 64, its PyTorch modes; profile gpu): our
    it/s with intervals beside its figures, and the two paired ratios its figures imply."""
    setting = ORIGINAL_FIGURES["setting"]
    points = res.points(setting["kind"], setting["model"], setting["batch"])
    if not points:
        return []
    where = ("on the CPU: the original's figures are from one GPU, so only the ratios, not the it/s, are comparable"
             if not res.device.startswith("cuda") else f"on {res.device}, as the original's (one GPU)")
    lines = ["## The original's experiment", "",
             f"TransformerLSTM, batch 64, a training step, measured {where}. The original's figures: "
             f"{ORIGINAL_FIGURES['source']}", ""]
    for precision in res.precisions:
        for p in points:
            arms = [dataclasses.replace(a, precision=precision) for a in ORIGINAL_ARMS]
            body = [[arm_name(a.side, a.mode), rate_interval_cell(res.arm(p, a)),
                     str(ORIGINAL_HEADLINE[a.mode]) if a.side == "python" and a.mode in ORIGINAL_HEADLINE else "—"]
                    for a in arms if res.arm(p, a)]
            if not body:
                continue
            lines += [f"{p.distribution}, T = {p.steps}, {precision}: it/s (95% interval of the rounds' geometric "
                      "mean) beside the original's", ""]
            lines += table(["arm", "it/s", "the original's it/s"], body)
            ratios = []
            for r in ORIGINAL_FIGURES["ratios"]:
                label = Ratio(dataclasses.replace(python(r["numerator"]), precision=precision),
                              dataclasses.replace(python(r["denominator"]), precision=precision)).label
                row = res.ratio(p, label)
                value = round(ORIGINAL_HEADLINE[r["numerator"]] / ORIGINAL_HEADLINE[r["denominator"]], 2)
                if row:
                    ratios.append([label, ratio_cell(row), f"{value:g}", original_verdict(row, value)])
            if ratios:
                lines += table(["paired ratio", "measured", "the original's", "against the original's"], ratios)
    return lines


def original_verdict(row: dict, value: float) -> str:
    if row["status"] != "ok":
        return "not measured"
    if row["ratio_low"] <= value <= row["ratio_high"]:
        return "interval covers it"
    return "above it" if row["ratio_low"] > value else "below it"


def device_memory(res: Results) -> list[str]:
    """Peak device memory per arm (the caching allocator's peak allocated bytes over a run's units)."""
    if not res.device.startswith("cuda"):
        return []
    rows = [r for r in res.arm_rows if r.get("peak_device_memory_mib") is not None and not is_control(r)
            and r.get("device", "cpu") != "cpu"]  # primitives and data parallel stay on the CPU
    if not rows:
        return []
    return (["## Peak device memory", "",
             f"The most memory any run of an arm allocated on {res.device} (PyTorch's caching allocator, peak "
             "allocated bytes since the run's start), MiB.", ""] +
            table(["point", "arm", "peak MiB"],
                  [[point_of(r).name, f"{r['side']} {r['mode']}{precision_suffix(r.get('precision'))}"
                    f"{ranks_suffix(r.get('ranks'))}", f"{r['peak_device_memory_mib']:.0f}"] for r in rows]))


MEMORY_TEXT = (
    "Measured once per arm when it is first built, by counting LibTorch's CPU allocator as a step runs "
    "(both workers count the same allocation reports, perf/lib/allocation_probe.h): **step peak** is the "
    "most one unit holds above what was live before it (activations, temporaries and the gradients, which "
    "are freed and made again every step); **held** is what the arm keeps between units, alike on every "
    "path (the parameters and Adam's two moments). Each path's ratio to its side's padded step peak stands "
    "beside the fill ratio (real steps / padded steps), what a path that stored no padding would reach. "
    "MiB. Not the process's resident size (results.csv's peak_rss_mib), which every arm of a worker shares.")


def memory_section(res: Results) -> list[str]:
    """Each step point's per-arm step peak and its ratio to the same side's padded arm, beside the fill."""
    points = [p for p in res.points("step") if any(r.get("unit_peak_mib") is not None for r in res.arm_rows
                                                     if point_of(r) == p)]
    if not points:
        return []
    body = []
    for p in points:
        rows = [r for r in res.arm_rows if point_of(r) == p and r.get("unit_peak_mib") is not None
                and not is_control(r)]
        padded = {r["side"]: r["unit_peak_mib"] for r in rows
                  if r["mode"].split(" ")[0] in ("padded", "padded_eager") and not r.get("ranks")}
        for r in rows:
            base = padded.get(r["side"])
            body.append([p.name, arm_name(r["side"], r["mode"]) + precision_suffix(r.get("precision")),
                         f"{r['fill_ratio']:.3f}" if r.get("fill_ratio") else "—", f"{r['unit_peak_mib']:.1f}",
                         f"{r['unit_peak_mib'] / base:.3f}" if base else "—",
                         f"{r['held_mib']:.1f}" if r.get("held_mib") is not None else "—"])
    return ["## Memory per arm", "", MEMORY_TEXT, ""] + table(
        ["point", "arm", "fill", "step peak MiB", "/ padded", "held MiB"], body)


def plot_ratios(res: Results, out: Path, model: str, points: list[Point], labels: list[str]) -> str:
    """Each ratio against B with its 95% interval, one panel per distribution (ratios, not it/s: an
    arm's it/s carries the machine's drift, a paired ratio does not)."""
    distributions = list(dict.fromkeys(p.distribution for p in points))
    batches = sorted({p.batch for p in points})
    fig, axes = plt.subplots(1, len(distributions), figsize=(max(8.0, 3.3 * len(distributions)), 4.2), sharey=True,
                             squeeze=False)
    handles = {}
    for ax, d in zip(axes[0], distributions):
        for i, label in enumerate(labels):
            rows = [r for p in points if p.distribution == d and (r := res.ratio(p, label)) and r["status"] == "ok"]
            if not rows:
                continue
            shift = 2 ** (0.04 * (i - len(labels) / 2))  # side by side, so the bars do not hide each other
            ys = [r["ratio"] for r in rows]
            handles[label] = ax.errorbar([r["batch"] * shift for r in rows], ys, capsize=2, lw=1, marker="o", ms=3,
                                         yerr=[[y - r["ratio_low"] for y, r in zip(ys, rows)],
                                               [r["ratio_high"] - y for y, r in zip(ys, rows)]],
                                         color=plt.cm.tab20(i % 20))
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)  # a ratio and its inverse lie equally far from 1
        ax.set_xticks(batches, [str(b) for b in batches])
        ax.set_xlim(batches[0] / 1.6, batches[-1] * 1.6)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 1.25, 1.5, 2, 3, 4, 5, 6, 7, 8)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_title(d, fontsize=10)
        ax.set_xlabel("batch size")
    axes[0][0].set_ylabel("ratio of it/s, 95% interval")
    rows_of_legend = (len(handles) + 2) // 3
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.suptitle(f"{model}: training-step ratios against batch size (above 1: numerator faster)", fontsize=10)
    fig.tight_layout(rect=(0, 0.045 * rows_of_legend, 1, 1))
    name = f"ratios_{model}.png"
    fig.savefig(out / name, dpi=90)
    plt.close(fig)
    return name


def per_model(res: Results, out: Path) -> list[str]:
    """Every ratio of every training-step point, per model, and a plot of the requested ones."""
    lines = []
    for model in res.whats("step"):
        points = res.points("step", model)
        plot = plot_ratios(res, out, model, points, res.labels(points, control=False))
        lines += [f"## {model}: training step", "", f"![ratios against batch size]({plot})", "",
                  "Fill = the encoder's real steps / padded steps. The last column is the A/A control.", ""]
        lines += point_table(points, WHERE + [("fill", lambda p: number(fill(res, p)))] +
                             ratio_columns(res, res.labels(points)))
    return lines


def efficiency(row: dict | None, fill_ratio: float | None) -> tuple[float, float, float] | None:
    """packed time / (fill x padded time) = 1 / (ratio x fill): (estimate, low, high). The fill is
    exact (the lengths are drawn, not measured), so the ratio's interval carries over, inverted."""
    if row is None or row["status"] != "ok" or not fill_ratio:
        return None
    return 1 / (row["ratio"] * fill_ratio), 1 / (row["ratio_high"] * fill_ratio), 1 / (row["ratio_low"] * fill_ratio)


def goal(value: tuple[float, float, float] | None, limit: float = LSTM_GOAL) -> str:
    """At most `limit`: met = the interval lies at or below it, not met = entirely above, undecided = it
    straddles; "—" without a value."""
    if value is None:
        return "—"
    _, low, high = value
    return "met" if high <= limit else "not met" if low > limit else "undecided"


def goal_at_least(value: tuple[float, float, float] | None, limit: float) -> str:
    """At least `limit`: met = the interval's low end is at or above it, not met = its high end below."""
    if value is None:
        return "—"
    _, low, high = value
    return "met" if low >= limit else "not met" if high < limit else "undecided"


EFFICIENCY_TEXT = {
    "step": ("## Packed step efficiency",
             "Whole training step of each model (forward, loss, backward, Adam), C++: packed step time / (fill ratio "
             "x padded step time); 1.0 means the packed step costs exactly the real steps' share of the padded one. "
             "On the packed paths only the LSTMs run packed: attention, gating, heads and loss run padded, so their "
             "step time cannot fall to the fill ratio's share (the efficiency stays above 1). Packed = PyTorch's "
             "packed LSTM (the original's way); segmented = seqpack's segmented LSTM (one fused LSTM call per run of "
             "steps with the same live rows); stepwise = seqpack's stepwise LSTM (its own time loop and backward "
             "over the pack's shrinking slices). padding_free = every layer on the real timesteps only (`packing = "
             "padding_free`: the LSTMs by the stepwise run, attention per bucket of samples, pointwise layers and "
             "the loss on the real steps' rows), so its step can approach the fill ratio's share; it also skips "
             "the decoder's padding, which the encoder's fill does not count, so it could come out below 1. Fill = "
             "the encoder's real steps / padded steps. Each cell is 1 / (ratio x fill) from the paired ratio `cpp "
             "<path> / cpp padded`, with its 95% interval."),
    "lstm_step": ("## LSTM training step efficiency",
                  "The LSTM alone (the family's 2-layer, hidden 128 LSTM at the encoder's T: forward, a loss over the "
                  "valid steps, backward), C++: packed time / (fill ratio x padded time), as above. This is where "
                  f"packing saves work. Goal for B >= {LSTM_GOAL_BATCH}: at most {LSTM_GOAL}; per path, met = the "
                  f"interval lies entirely at or below {LSTM_GOAL}, not met = entirely above, undecided = it "
                  "straddles."),
}


def efficiency_section(res: Results, kind: str) -> list[str]:
    points = res.points(kind)
    if not points:
        return []
    values = {(p, run): efficiency(res.ratio(p, Ratio(cpp(run), cpp("padded")).label), fill(res, p))
              for p in points for run in OWN_RUNS}
    runs = [run for run in OWN_RUNS if any(res.arm(p, cpp(run)) for p in points)]  # lstm_step: no padding_free
    columns = MODEL + WHERE + [("fill", lambda p: number(fill(res, p)))]
    columns += [(run, lambda p, run=run: interval(*values[p, run]) if values[p, run] else "—") for run in runs]
    if kind == "lstm_step":
        columns.append((f"goal <= {LSTM_GOAL}", lambda p: "; ".join(
            f"{run} {goal(values[p, run])}" for run in runs) if p.batch >= LSTM_GOAL_BATCH else "—"))
    title, text = EFFICIENCY_TEXT[kind]
    return [title, "", text, ""] + point_table(points, columns)


class TargetCheck(NamedTuple):
    target: str  # T1, T1 stretch, T2, T3 no loss, T3 faster
    point: Point
    value: tuple[float, float, float] | None  # (estimate, low, high): an efficiency or a ratio; None: not measured
    verdict: str  # met | not met | undecided | not measured
    fill: float | None


def ratio_value(row: dict | None) -> tuple[float, float, float] | None:
    if row is None or row["status"] != "ok":
        return None
    return row["ratio"], row["ratio_low"], row["ratio_high"]


def verdict_of(value, judge) -> str:
    return "not measured" if value is None else judge(value)


NO_LOSS_VERDICTS = {"non-inferior": "met", "inferior": "not met", "undecided": "undecided"}


def no_loss(value: tuple[float, float, float]) -> str:
    """No loss, as a non-inferiority test (stats.non_inferiority): met = the interval's low end at or
    above stats.NON_INFERIORITY_BOUND, not met = its high end below it, undecided = it straddles the
    bound. An interval that merely reaches 1 may be too wide to show no loss, so that is not enough."""
    estimate, low, high = value
    return NO_LOSS_VERDICTS[stats.non_inferiority(stats.Interval(estimate, low, high, 0))]


def padding_free_checks(res: Results) -> list[TargetCheck]:
    """The padding-free step's targets at every point of the run they apply to (the rules: the PF_ constants)."""
    checks = []
    for p in res.points("step", PF_MODEL):
        if p.distribution == UNVARIED or p.batch < PF_EFFICIENCY_BATCH:
            continue
        value = efficiency(res.ratio(p, Ratio(cpp("padding_free"), cpp("padded")).label), fill(res, p))
        if value is None and res.arm(p, cpp("padding_free")) is None:
            continue  # a run without the padding-free arm
        for target, limit in (("T1", PF_EFFICIENCY_GOAL), ("T1 stretch", PF_EFFICIENCY_STRETCH)):
            checks.append(TargetCheck(target, p, value, verdict_of(value, lambda v: goal(v, limit)), fill(res, p)))
    for p in res.points("step", PF_MODEL, PF_COMPILE_BATCH):
        if p.distribution not in PF_COMPILE_DISTRIBUTIONS or res.arm(p, python("padded_compile")) is None:
            continue
        value = ratio_value(res.ratio(p, Ratio(cpp("padding_free"), python("padded_compile")).label))
        checks.append(TargetCheck("T2", p, value, verdict_of(value, lambda v: goal_at_least(v, PF_COMPILE_GOAL)),
                                  fill(res, p)))
    for p in res.points("grouping"):
        if p.distribution == UNVARIED or res.arm(p, cpp("padding_free_grouped")) is None:
            continue
        value = ratio_value(res.ratio(p, Ratio(cpp("padding_free_grouped"), cpp("padded_grouped")).label))
        grouped_fill = fill(res, p, cpp("padded_grouped"))
        checks.append(TargetCheck("T3 no loss", p, value, verdict_of(value, no_loss), grouped_fill))
        if grouped_fill is not None and grouped_fill < PF_GROUPING_FILL:
            checks.append(TargetCheck("T3 faster", p, value, verdict_of(
                value, lambda v: "met" if v[1] > 1.0 else "not met" if v[2] < 1.0 else "undecided"), grouped_fill))
    return checks


def overall(verdicts: list[str]) -> str:
    """A target over its points: met where met at every one, not met where not met at any, else undecided."""
    if not verdicts:
        return "no points"
    if "not met" in verdicts:
        return "not met"
    return "met" if all(v == "met" for v in verdicts) else "undecided"


PF_TARGETS = {
    "T1": f"padding-free {PF_MODEL} step efficiency 1 / (ratio(`cpp padding_free / cpp padded`) x fill) at most "
          f"{PF_EFFICIENCY_GOAL} for B >= {PF_EFFICIENCY_BATCH} at every varied distribution (all but `{UNVARIED}`): "
          "met = the interval's high end <= the goal, not met = its low end above, undecided = it straddles",
    "T1 stretch": f"the same at most {PF_EFFICIENCY_STRETCH}",
    "T2": f"`cpp padding_free / python padded_compile` at least {PF_COMPILE_GOAL} at B = {PF_COMPILE_BATCH} on "
          f"{', '.join(PF_COMPILE_DISTRIBUTIONS)}: met = the interval's low end >= the goal, not met = its high end "
          "below, undecided = it straddles",
    "T3 no loss": "length grouping: `cpp padding_free_grouped / cpp padded_grouped` shows no loss, as "
                  f"non-inferiority at {stats.NON_INFERIORITY_BOUND}, at every varied point: met = the interval's "
                  f"low end >= {stats.NON_INFERIORITY_BOUND}, not met = its high end below "
                  f"{stats.NON_INFERIORITY_BOUND}, undecided = it straddles {stats.NON_INFERIORITY_BOUND} (too wide "
                  "to show no loss)",
    "T3 faster": f"and is faster where the grouped fill is below {PF_GROUPING_FILL}: met = the interval's low end "
                 "above 1, not met = its high end below 1, undecided = it covers 1",
}


def padding_free_targets(res: Results) -> list[str]:
    checks = padding_free_checks(res)
    if not checks:
        return []
    lines = ["## Padding-free targets", "",
             "Each target judged at every point it applies to from the 95% interval of its ratio (T1 from the "
             "efficiency's interval, the ratio's inverted, the fill being exact); a target is met over its points "
             "when met at every one, not met when not met at any, undecided otherwise.", ""]
    summary = []
    for target, rule in PF_TARGETS.items():
        mine = [c for c in checks if c.target == target]
        if not mine:
            continue
        verdicts = [c.verdict for c in mine]
        counts = ", ".join(f"{v} at {verdicts.count(v)}" for v in ("met", "not met", "undecided", "not measured")
                           if v in verdicts)
        summary.append([target, rule, f"{overall(verdicts)} ({counts} of {len(mine)} points)"])
    lines += table(["target", "rule", "verdict"], summary)
    # 3 decimals: a bound that rounds to a goal (1.25, 1.5) would not show which side of it it lies on.
    body = [[c.target, c.point.kind, c.point.distribution, str(c.point.batch), number(c.fill),
             "{:.3f} [{:.3f}, {:.3f}]".format(*c.value) if c.value else "—", c.verdict] for c in checks]
    lines += table(["target", "kind", "distribution", "B", "fill", "efficiency or ratio [95%]", "verdict"], body)
    return lines


def model_sections(res: Results, kind: str, heading: str, text: str, tables) -> list[str]:
    """A section per model measured at points of `kind`: heading, text, then each of tables(points)."""
    lines = []
    for model in res.whats(kind):
        points = res.points(kind, model)
        lines += [heading.format(model=model), "", text, ""]
        for columns in tables(points):
            lines += point_table(points, columns)
    return lines


FORWARD_TEXT = ("One forward pass (eval, no gradient), at the profile's model sizes; an arm named with a "
                "precision runs under autocast in it, the others in float32. C++ compiled (the LSTM family) = the "
                "padded forward exported with torch.export (batch dimension dynamic) and compiled by AOTInductor "
                "into a .pt2 package (`seqpack_reference.compiled.export --perf`), run in C++ by "
                "AOTIModelPackageLoader; the eager C++ models load the same weights. Ratios first, then each arm's "
                "median forwards/s for scale.")
GROUPING_TEXT = ("One epoch over a data set of windows (lengths drawn from each distribution), cut into random "
                 "batches or into length-grouped ones (buckets of batches sorted by encoder length), each batch "
                 "collated to its own longest lengths; C++ training steps, padded, packed (PyTorch's packed LSTM) "
                 "or padding_free (every layer on the real timesteps) where the run measured it. Fill = real "
                 "encoder steps / padded encoder steps over the epoch.")


def forward(res: Results) -> list[str]:
    """Inference forward: eager C++ padded and packed, the AOTInductor package in C++, Python eager and compiled."""
    return model_sections(res, "forward", "## Inference forward: {model}", FORWARD_TEXT,
                     lambda points: [WHERE + ratio_columns(res, res.labels(points)),
                                     WHERE + arm_columns(res, [a for a in FORWARD_ARMS
                                                               if any(res.arm(p, a) for p in points)])])


def grouping(res: Results) -> list[str]:
    """What length-grouped batches do to padding and to the step."""
    fills = [("fill random", lambda p: number(fill(res, p, cpp("padded_random")))),
             ("fill grouped", lambda p: number(fill(res, p, cpp("padded_grouped"))))]
    return model_sections(res, "grouping", "## Length-grouped batches: {model}", GROUPING_TEXT,
                     lambda points: [WHERE + fills + ratio_columns(res, res.labels(points))])


DATA_PARALLEL_TEXT = (
    "A unit is one epoch: the profile's data_parallel_steps steps of {batch} windows per rank (lengths drawn from the distribution), "
    "cut by each sampler across ranks (docs/data-parallel.md): random, length-grouped within each rank "
    "(grouped_per_rank), length-grouped across ranks (grouped_global: a sorted bucket dealt to the ranks). Each "
    "rank is one process started by torchrun, one thread each; gradients averaged by gloo (C++: c10d "
    "ProcessGroupGloo, DDP's buckets, after backward; Python: DistributedDataParallel). it/s = epochs' steps per "
    "second (a step is the slowest rank's); straggler waste = the share of rank-time spent waiting for a slower "
    "rank's compute; all-reduce share = the share spent in the all-reduce (that wait and the transfer); both "
    "with their 95% intervals over the rounds. Fill = real encoder steps / padded ones, per rank.")


def share_cell(row: dict | None, name: str) -> str:
    if row is None or row["status"] != "ok" or row.get(name) is None:
        return "—"
    return f"{100 * row[name]:.1f}% [{100 * row[name + '_low']:.1f}, {100 * row[name + '_high']:.1f}]"


def rate_interval_cell(row: dict | None) -> str:
    if row is None or row["status"] != "ok" or row["it_s_low"] is None:
        return "—"
    return f"{row['median_it_s']:.2f} [{row['it_s_low']:.2f}, {row['it_s_high']:.2f}]"


def scaling_cell(row: dict | None, ranks: int) -> str:
    """A step-speed ratio of `ranks` ranks over one as samples/s scaling (each rank's batch is the same
    size, so a step of `ranks` ranks holds `ranks` times the samples)."""
    if row is None or row["status"] != "ok":
        return "—"
    return f"{interval(ranks * row['ratio'], ranks * row['ratio_low'], ranks * row['ratio_high'])}"


def data_parallel_section(res: Results) -> list[str]:
    """Per model and point: each arm of the most ranks (it/s, straggler waste, all-reduce share,
    fills), then every ratio, with the rank scaling as samples/s."""
    lines = []
    for model in res.whats("data_parallel"):
        points = res.points("data_parallel", model)
        arms = [r for r in res.arm_rows if point_of(r) in set(points) and r.get("ranks") and not is_control(r)]
        top = max(int(r["ranks"]) for r in arms)
        lines += [f"## Data parallel: {model}, {top} ranks", "",
                  DATA_PARALLEL_TEXT.format(batch=points[0].batch), ""]
        for point in points:
            rows = [r for r in arms if point_of(r) == point and int(r["ranks"]) == top]
            lines += [f"**{point.distribution}, {point.batch} per rank**", ""]
            lines += table(["arm", "it/s [95%]", "samples/s", "straggler waste", "all-reduce share", "fill per rank"],
                           [[f"{arm_name(r['side'], r['mode'])}", rate_interval_cell(r),
                             f"{r['samples_per_s']:.0f}" if r["samples_per_s"] else "—",
                             share_cell(r, "straggler_waste"), share_cell(r, "wait_share"),
                             r.get("rank_fill_ratio") or "—"] for r in rows])
            ratio_rows = [r for r in res.ratio_rows if point_of(r) == point and not is_control(r)]
            body = []
            for r in ratio_rows:
                scaled = r.get("base_ranks") and r.get("ranks") != r.get("base_ranks")
                body.append([label_of(r), scaling_cell(r, int(r["ranks"]) // int(r["base_ranks"])) + " samples/s"
                             if scaled else ratio_cell(r)])
            lines += table(["ratio", "numerator / denominator [95%]"], body)
    return lines


PRIMITIVE_TEXT = ("Every primitive of both sides is an arm of its point, measured in the same rounds as any other "
                  "point. `cpp align_auto / python align_auto`: "
                  "seqpack's one gather against the original's row-by-row alignment loop; `cpp collate / python "
                  "collate`: seqpack's collate against the original's (default_collate, then its row-by-row "
                  "alignment); `cpp align_pack_fused / cpp align_then_pack`: a right-aligned encoder packed for an "
                  "LSTM in one gather against aligning it and then packing it (two gathers and a copy; goal: at least "
                  "1.5x); `cpp collate / cpp collate_auto`: the explicit source against the original's guess.")


def primitives(res: Results) -> list[str]:
    rows = [r for r in res.ratio_rows if r["kind"] == "primitive"]
    if not rows:
        return []
    order = res.points("primitive")
    rows.sort(key=lambda r: (label_of(r), order.index(point_of(r))))
    return (["## Primitives", "", PRIMITIVE_TEXT, ""] +
            table(["ratio", "distribution", "B", "T", "ratio [95% interval]", "verdict"],
                  [[label_of(r), r["distribution"], str(r["batch"]), str(r["steps"]), ratio_cell(r, verdict=False),
                    r["verdict"] if r["status"] == "ok" else "not measured"] for r in rows]) +
            primitive_share(res))


def primitive_share(res: Results) -> list[str]:
    """Each C++ primitive's cost as a share of one C++ TransformerLSTM padded step, at uniform_half and
    the largest B <= 64 where both were measured. From medians of arms measured apart (not paired)."""
    body = []
    for what in sorted({r["mode"] for r in res.arm_rows if r["kind"] == "primitive" and r["side"] == "cpp"
                        and not is_control(r)}):
        for step in reversed([p for p in res.points("step", "transformer_lstm") if p.distribution == "uniform_half"
                              and p.batch <= 64]):
            prim = res.arm(step._replace(kind="primitive", what="ops"), cpp(what))
            padded = res.arm(step, cpp("padded"))
            if prim and padded and prim["status"] == padded["status"] == "ok":
                body.append([what, str(step.batch), f"{1e6 / prim['median_it_s']:.1f}",
                             f"{100 * padded['median_it_s'] / prim['median_it_s']:.2g}%"])
                break
    if not body:
        return []
    return (["Cost of each C++ primitive as a share of one C++ TransformerLSTM padded training step (uniform_half, "
             "T as the step's). Computed from the medians of arms of different points (measured minutes apart), "
             "not from paired rounds: the machine's drift between them is in these figures, so read them as orders "
             "of magnitude.", ""] +
            table(["primitive", "B", "µs per call", "share of the step"], body))


def failures(res: Results) -> list[str]:
    failed = {}
    for r in res.arm_rows:
        if r["status"] != "ok":
            failed.setdefault((r["what"], r["side"], r["mode"], r["status"]), []).append(point_of(r))
    if not failed:
        return []
    return (["## Arms that failed", ""] +
            [f"- {what} {side} {mode} ({len(points)} point{'s' * (len(points) > 1)}): {status}"
             for (what, side, mode, status), points in failed.items()] + [""])


def verdict_clause(rows: list[dict], where: str) -> str:
    """What the intervals of one ratio say across distributions: "faster at 3 of 5 distributions
    (1.10-1.35x), no difference detected at 2"."""
    ok = [r for r in rows if r["status"] == "ok"]
    parts = []
    for verdict in ("faster", "slower"):
        values = sorted(r["ratio"] for r in ok if r["verdict"] == verdict)
        if values:
            span = f"{values[0]:.2f}x" if len(values) == 1 else f"{values[0]:.2f}-{values[-1]:.2f}x"
            parts.append(f"{verdict} at {len(values)} of {len(ok)}{'' if parts else ' distributions'} ({span})")
    none = sum(r["verdict"] == "no difference detected" for r in ok)
    if none == len(ok) and ok:
        parts.append(f"no difference detected at any of the {len(ok)} distributions")
    elif none:
        parts.append(f"no difference detected at {none}")
    if len(ok) < len(rows):
        parts.append(f"not measured at {len(rows) - len(ok)}")
    return f"{where}: " + ", ".join(parts)


def conclusions(res: Results) -> list[str]:
    """One line per ratio and kind of point, a clause per B (and T): only differences whose interval
    excludes 1 count, the rest is said to be no difference detected."""
    groups = {}
    for r in res.ratio_rows:
        if not is_control(r):
            key = (r["kind"], r["what"] if r["kind"] != "primitive" else "",
                   r["side"], r["mode"] + precision_suffix(r.get("precision")), r.get("ranks") or "",
                   r["base_side"], r["base_mode"] + precision_suffix(r.get("base_precision")), r.get("base_ranks") or "")
            groups.setdefault(key, {}).setdefault((r["batch"], r["steps"]), []).append(r)
    if not groups:
        return []
    lines = ["## Conclusions", "",
             "From the ratios' intervals only; a verdict counts where its interval excludes 1.", ""]
    for (kind, what, side, mode, ranks, base_side, base_mode, base_ranks), by_size in sorted(
            groups.items(), key=lambda g: KINDS.index(g[0][0])):
        show_t = len({t for _, t in by_size}) > 1
        clauses = [verdict_clause(rows, f"B = {b}" + (f", T = {t}" if show_t else ""))
                   for (b, t), rows in sorted(by_size.items())]
        subject = (f"{arm_name(side, mode)}{ranks_suffix(ranks)} against "
                   f"{arm_name(base_side, base_mode)}{ranks_suffix(base_ranks)}")
        if ranks != base_ranks:  # rank counts differ: a step holds more samples
            subject += " (steps per second; samples/s: the data-parallel section)"
        lines.append(f"- {kind}{' ' + what if what else ''}: {subject}: " + "; ".join(clauses) + ".")
    return lines + [""]


def main(report_dir: str) -> int:
    out = Path(report_dir)
    res = load(out / "results.csv")
    machine, rounds = read_json(out / "machine.json"), read_json(out / "rounds.json")
    lines = (header(out.name, machine, res, rounds) + noise_floor(res) + precision(res, machine, rounds) + headline(res) +
             original_experiment(res) + memory_section(res) + device_memory(res) +
             per_model(res, out) + efficiency_section(res, "step") + padding_free_targets(res) +
             efficiency_section(res, "lstm_step") +
             forward(res) + grouping(res) + data_parallel_section(res) + primitives(res) +
             packing_cost_model.section(out / "results.csv") +
             failures(res) + conclusions(res))
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print(f"report: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
