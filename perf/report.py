"""Writes a performance report from a results table (perf/run_matrix.py's results.csv).

    python perf/report.py REPORT_DIR        # reads REPORT_DIR/results.csv, writes report.md + *.png
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import packing_cost_model  # noqa: E402  (perf/ is on sys.path: this file runs as a script)

MODELS = ["attention_lstm", "encoder_decoder_lstm", "transformer_lstm"]
# The original's write-up (one GPU, TransformerLSTM, batch 64).
ORIGINAL_HEADLINE = {"padded_compile": 3.02, "packed_eager": 2.0, "packed_compile_disable": 2.78}
SERIES = [("cpp", "padded"), ("cpp", "packed"), ("cpp", "segmented"), ("cpp", "stepwise"), ("python", "padded_eager"), ("python", "padded_compile"),
          ("python", "packed_eager"), ("python", "packed_compile"), ("python", "packed_compile_disable")]


def load(path: Path):
    rows = list(csv.DictReader(open(path)))
    for r in rows:
        for key in ("median_it_s", "spread_pct", "fill_ratio", "peak_memory_mib", "warmup_s"):
            r[key] = float(r[key] or 0)
        r["batch"], r["steps"] = int(r["batch"]), int(r["steps"])
    return rows


def index(rows):
    """(kind, what, side, mode, distribution, batch, steps) -> row"""
    return {(r["kind"], r["what"], r["side"], r["mode"], r["distribution"], r["batch"], r["steps"]): r for r in rows}


def fmt(value, digits=2):
    return "—" if value is None else f"{value:.{digits}f}"


def rate(table, *key):
    row = table.get(key)
    return row["median_it_s"] if row and row["status"] == "ok" and row["median_it_s"] > 0 else None


def ratio(a, b):
    return a / b if a and b else None


def plot_steps(rows, out: Path, model, distributions, batches):
    fig, axes = plt.subplots(1, len(distributions), figsize=(4 * len(distributions), 3.6), sharey=True, squeeze=False)
    table = index(rows)
    steps = next((r["steps"] for r in rows if r["kind"] == "step"), 0)
    for ax, d in zip(axes[0], distributions):
        for side, mode in SERIES:
            ys = [rate(table, "step", model, side, mode, d, b, steps) for b in batches]
            if any(ys):
                ax.plot(batches, [y or float("nan") for y in ys], marker="o", label=f"{side} {mode}")
        ax.set_title(d, fontsize=10)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
    axes[0][0].set_ylabel("training steps / s")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(f"{model}: it/s against batch size")
    fig.tight_layout()
    name = f"steps_{model}.png"
    fig.savefig(out / name, dpi=90)
    plt.close(fig)
    return name


def plot_speedups(rows, out: Path, distributions, batches):
    table = index(rows)
    steps = next((r["steps"] for r in rows if r["kind"] == "step"), 0)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), squeeze=False)
    panels = [("packed / padded, C++", lambda m, d, b: ratio(rate(table, "step", m, "cpp", "packed", d, b, steps),
                                                             rate(table, "step", m, "cpp", "padded", d, b, steps))),
              ("C++ / Python (padded, eager)", lambda m, d, b: ratio(
                  rate(table, "step", m, "cpp", "padded", d, b, steps),
                  rate(table, "step", m, "python", "padded_eager", d, b, steps))),
              ("compiled / eager, Python padded", lambda m, d, b: ratio(
                  rate(table, "step", m, "python", "padded_compile", d, b, steps),
                  rate(table, "step", m, "python", "padded_eager", d, b, steps)))]
    for ax, (title, f) in zip(axes[0], panels):
        for m in MODELS:
            for b in batches:
                ys = [f(m, d, b) for d in distributions]
                if any(ys):
                    ax.plot(range(len(distributions)), [y or float("nan") for y in ys], marker="o", label=f"{m} B={b}")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xticks(range(len(distributions)), distributions, rotation=30, fontsize=8)
        ax.set_title(title, fontsize=10)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "speedups.png", dpi=90)
    plt.close(fig)
    return "speedups.png"


def batching_section(rows, table):
    """Collate against the original's, and what length-grouped batches do to padding and it/s."""
    lines = []
    collates = [r for r in rows if r["what"] == "collate" and r["side"] == "python" and r["status"] == "ok"]
    if collates:
        lines += ["## Collate", "",
                  "Windows right-aligned as the original's data set makes them (with masks and lengths), collated "
                  "into a left-aligned batch: seqpack (explicit source; and `collate_auto`, the original's guess) "
                  "against the original's Python collate (default_collate, then its row-by-row alignment).", "",
                  "| distribution | B | T | C++ (calls/s) | C++ auto | Python original | C++ / Python |",
                  "|---|---|---|---|---|---|---|"]
        for r in collates:
            key = (r["distribution"], r["batch"], r["steps"])
            cpp = rate(table, "primitive", "collate", "cpp", "-", *key)
            cpp_auto = rate(table, "primitive", "collate_auto", "cpp", "-", *key)
            lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {fmt(cpp, 0)} | {fmt(cpp_auto, 0)} | "
                         f"{fmt(r['median_it_s'], 0)} | {fmt(ratio(cpp, r['median_it_s']), 1)}x |")
        lines.append("")
    grouping = [r for r in rows if r["kind"] == "grouping" and r["status"] == "ok"]
    if grouping:
        lines += ["## Length-grouped batches", "",
                  "One epoch over a data set of windows (lengths drawn from each distribution), cut into random "
                  "batches or into length-grouped ones (buckets of 16 batches sorted by encoder length: the whole data set "
                  "when it holds 16 batches or fewer), each batch "
                  "collated to its own longest lengths. it/s = training steps per second over the epoch; fill = "
                  "real encoder steps / padded encoder steps.", "",
                  "| model | distribution | B | fill random | fill grouped | padded it/s random | grouped | gain | "
                  "packed it/s random | grouped | gain |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        seen = dict.fromkeys((r["what"], r["distribution"], r["batch"], r["steps"]) for r in grouping)
        for model, d, b, steps in seen:
            get = lambda mode: table.get(("grouping", model, "cpp", mode, d, b, steps))  # noqa: E731
            it = lambda mode: rate(table, "grouping", model, "cpp", mode, d, b, steps)  # noqa: E731
            fill = lambda mode: get(mode)["fill_ratio"] if get(mode) else None  # noqa: E731
            lines.append(f"| {model} | {d} | {b} | {fmt(fill('padded_random'))} | {fmt(fill('padded_grouped'))} | "
                         f"{fmt(it('padded_random'))} | {fmt(it('padded_grouped'))} | "
                         f"{fmt(ratio(it('padded_grouped'), it('padded_random')))}x | {fmt(it('packed_random'))} | "
                         f"{fmt(it('packed_grouped'))} | {fmt(ratio(it('packed_grouped'), it('packed_random')))}x |")
        lines.append("")
    return lines


def varlen_section(rows, table):
    """Fused align-and-pack against align then pack, and how close each packed step comes to doing
    only the real steps' work: packed step time / (fill ratio x padded step time), goal <= 1.1."""
    lines = []
    fused = [r for r in rows if r["kind"] == "primitive" and r["what"] == "align_pack_fused" and r["status"] == "ok"]
    if fused:
        lines += ["## Fused align-and-pack", "",
                  "A right-aligned encoder packed for an LSTM: `pack_encoder_sequences` gathers each row from where it "
                  "is straight into packed order, against aligning it to the left and then packing it (two gathers, "
                  "an aligned copy between). Goal: at least 1.5x.", "",
                  "| distribution | B | T | align then pack (calls/s) | fused | speed-up |", "|---|---|---|---|---|---|"]
        for r in fused:
            two_pass = rate(table, "primitive", "align_then_pack", "cpp", "-", r["distribution"], r["batch"], r["steps"])
            lines.append(f"| {r['distribution']} | {r['batch']} | {r['steps']} | {fmt(two_pass, 0)} | "
                         f"{fmt(r['median_it_s'], 0)} | {fmt(ratio(r['median_it_s'], two_pass))}x |")
        lines.append("")
    lines += efficiency_table(
        rows, table, "step", "## Packed step efficiency",
        "Whole training step of each model (forward, loss, backward, Adam), C++: packed step time / (fill ratio x "
        "padded step time); 1.0 means the packed step costs exactly the real steps' share of the padded one. Only "
        "the LSTMs run packed: attention, gating, heads and loss run padded whatever the path, so this cannot reach "
        "the fill ratio. Packed = PyTorch's packed LSTM (the original's way); segmented = seqpack's segmented LSTM "
        "(one fused LSTM call per run of steps with the same live rows); stepwise = seqpack's stepwise LSTM (its own "
        "time loop and backward over the pack's shrinking slices). Fill = the encoder's real steps / padded steps.")
    lines += efficiency_table(
        rows, table, "lstm_step", "## LSTM training step efficiency",
        "The LSTM alone (the family's 2-layer, hidden 128 LSTM at the encoder's T: forward, a loss over the valid "
        "steps, backward), C++: packed time / (fill ratio x padded time), as above. This is where packing saves "
        "work. Goal for B >= 32: at most 1.1.")
    return lines


OWN_RUNS = ["packed", "segmented", "stepwise"]


def efficiency_table(rows, table, kind, title, text):
    """Packed time / (fill x padded time) of each packed run, per model, distribution and B."""
    points = [r for r in rows if r["kind"] == kind and r["side"] == "cpp" and r["mode"] == "padded"]
    if not points:
        return []
    lines = [title, "", text, "",
             "| model | distribution | B | fill | " + " | ".join(OWN_RUNS) + " | best speed-up over PyTorch packed |",
             "|---|---|---|---|" + "---|" * len(OWN_RUNS) + "---|"]
    for r in points:
        padded, fill = r["median_it_s"], r["fill_ratio"]
        rates = {run: rate(table, kind, r["what"], "cpp", run, r["distribution"], r["batch"], r["steps"])
                 for run in OWN_RUNS}
        cells = [fmt(padded / (fill * rates[run]) if rates[run] and fill else None) for run in OWN_RUNS]
        best = max((rates[run] for run in OWN_RUNS[1:] if rates[run]), default=None)
        lines.append(f"| {r['what']} | {r['distribution']} | {r['batch']} | {fill:.2f} | " + " | ".join(cells) +
                     f" | {fmt(ratio(best, rates['packed']))}x |")
    return lines + [""]


FORWARD_SERIES = [("cpp", "padded"), ("cpp", "packed"), ("cpp", "compiled"), ("python", "padded_eager"),
                  ("python", "padded_compile")]


def forward_section(rows, table):
    """Inference forward: eager C++ padded and packed, the AOTInductor package in C++, and Python's
    padded forward, eager and torch.compile'd."""
    forward = [r for r in rows if r["kind"] == "forward"]
    if not forward:
        return []
    lines = ["## Inference forward: AOTInductor-compiled C++", "",
             "One forward pass (eval, no gradient), float32, the original's default sizes. C++ compiled = the padded "
             "forward exported with torch.export (batch dimension dynamic) and compiled by AOTInductor into a .pt2 "
             "package (`seqpack_reference.compiled.export --perf`), run in C++ by AOTIModelPackageLoader; the eager "
             "C++ models load the same weights. forwards/s, median ±spread; last column: compiled / eager padded, "
             "both C++.", "",
             "| model | distribution | B | " + " | ".join(f"{s} {m}" for s, m in FORWARD_SERIES) + " | compiled / padded |",
             "|---|---|---|" + "---|" * (len(FORWARD_SERIES) + 1)]
    for what, d, b, steps in dict.fromkeys((r["what"], r["distribution"], r["batch"], r["steps"]) for r in forward):
        cells = []
        for side, mode in FORWARD_SERIES:
            row = table.get(("forward", what, side, mode, d, b, steps))
            cells.append("—" if row is None else "failed" if row["status"] != "ok"
                         else f"{row['median_it_s']:.1f} ±{row['spread_pct']:.0f}%")
        speedup = ratio(rate(table, "forward", what, "cpp", "compiled", d, b, steps),
                        rate(table, "forward", what, "cpp", "padded", d, b, steps))
        lines.append(f"| {what} | {d} | {b} | " + " | ".join(cells) + f" | {fmt(speedup)} |")
    return lines + [""]


def main(report_dir: str) -> int:
    out = Path(report_dir)
    rows = load(out / "results.csv")
    table = index(rows)
    distributions = list(dict.fromkeys(r["distribution"] for r in rows if r["kind"] == "step"))
    batches = sorted({r["batch"] for r in rows if r["kind"] == "step"})
    steps = next((r["steps"] for r in rows if r["kind"] == "step"), 0)
    machine = (out / "machine.txt").read_text().strip().splitlines() if (out / "machine.txt").exists() else ["?"]
    first = rows[0] if rows else {}
    lines = [f"# seqpack performance report: {out.name}", "",
             f"Machine: {machine[0]}. torch {first.get('torch', '?')}, commit {first.get('commit', '?')}. "
             f"{machine[1] if len(machine) > 1 else ''}.", "",
             "Training step = forward, the model's default loss through calc_loss, backward, Adam. Models at the "
             f"original's default sizes, float32, encoder T = {steps}, CPU. Every figure is the median of the "
             "repetitions; spread = (max - min) / median. Ratios compare figures measured in the same run.", ""]

    # The headline: the original's three figures beside ours.
    if distributions:
        lines += ["## Headline: TransformerLSTM, batch 64", "",
                  "| distribution | padded + compile (it/s) | packed eager | packed + compiler.disable | "
                  "C++ padded | C++ packed |", "|---|---|---|---|---|---|",
                  f"| the original (one GPU, its write-up) | {ORIGINAL_HEADLINE['padded_compile']} | "
                  f"{ORIGINAL_HEADLINE['packed_eager']} | {ORIGINAL_HEADLINE['packed_compile_disable']} | — | — |"]
        for d in distributions:
            get = lambda side, mode: rate(table, "step", "transformer_lstm", side, mode, d, 64, steps)  # noqa: E731
            lines.append(f"| seqpack, {d} (this CPU) | {fmt(get('python', 'padded_compile'))} | "
                         f"{fmt(get('python', 'packed_eager'))} | {fmt(get('python', 'packed_compile_disable'))} | "
                         f"{fmt(get('cpp', 'padded'))} | {fmt(get('cpp', 'packed'))} |")
        lines.append("")

    for m in MODELS if distributions else []:  # a run of the batching program alone has no step rows
        lines += [f"## {m}", "", f"![it/s against batch size]({plot_steps(rows, out, m, distributions, batches)})", "",
                  "| distribution | B | fill | " + " | ".join(f"{s} {md}" for s, md in SERIES) + " |",
                  "|---|---|---|" + "---|" * len(SERIES)]
        for d in distributions:
            for b in batches:
                cells = []
                for side, mode in SERIES:
                    row = table.get(("step", m, side, mode, d, b, steps))
                    if row is None:
                        cells.append("—")
                    elif row["status"] != "ok":
                        cells.append("failed")
                    else:
                        cells.append(f"{row['median_it_s']:.2f} ±{row['spread_pct']:.0f}%")
                fill = next((r["fill_ratio"] for r in rows if r["kind"] == "step" and r["what"] == m
                             and r["distribution"] == d and r["batch"] == b), 0)
                lines.append(f"| {d} | {b} | {fill:.2f} | " + " | ".join(cells) + " |")
        lines.append("")
    failures = [r for r in rows if r["status"] != "ok"]
    if failures:
        lines += ["### Modes that failed", ""]
        seen = set()
        for r in failures:
            key = (r["what"], r["mode"], r["status"])
            if key not in seen:
                seen.add(key)
                lines.append(f"- {r['what']} {r['mode']}: {r['status']}")
        lines.append("")

    if distributions:
        lines += ["## Speed-ups", "", f"![speed-ups]({plot_speedups(rows, out, distributions, batches)})", ""]

    # Primitives: C++ against the original's row-by-row alignment, and as a share of a training step.
    prim = [r for r in rows if r["kind"] == "primitive" and r["status"] == "ok"]
    if prim:
        lines += ["## Primitives", "",
                  "Alignment (auto source, left to right): seqpack's one gather against the original's row-by-row "
                  "loop (Python).", "", "| distribution | B | T | C++ (calls/s) | Python row-by-row | speed-up |",
                  "|---|---|---|---|---|---|"]
        for r in prim:
            if r["mode"] == "python_rowwise":
                cpp = rate(table, "primitive", "align_auto", "cpp", "-", r["distribution"], r["batch"], r["steps"])
                lines.append(f"| {r['distribution']} | {r['batch']} | {r['steps']} | {fmt(cpp, 0)} | "
                             f"{fmt(r['median_it_s'], 1)} | {fmt(ratio(cpp, r['median_it_s']), 0)}x |")
        step_b = max(b for b in batches if b <= 64) if batches else 0
        step_rate = rate(table, "step", "transformer_lstm", "cpp", "padded", "uniform_half", step_b, steps)
        lines += ["", f"Cost of each C++ primitive as a share of one C++ TransformerLSTM padded training step "
                      f"(uniform_half, B = {step_b}, T = {steps}):", "", "| primitive | µs per call | share of the step |",
                  "|---|---|---|"]
        for what in dict.fromkeys(r["what"] for r in prim if r["side"] == "cpp"):
            per_call = rate(table, "primitive", what, "cpp", "-", "uniform_half", step_b, steps)
            if per_call and step_rate:
                lines.append(f"| {what} | {1e6 / per_call:.1f} | {100 * step_rate / per_call:.2f}% |")
        lines.append("")
    lines += varlen_section(rows, table)
    lines += packing_cost_model.section(out / "results.csv")
    lines += forward_section(rows, table)
    lines += batching_section(rows, table)
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print(f"report: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
