"""Memory per arm over the LSTM family's training-step paths, both sides, at the varied length
distributions and several batch sizes; no timing (the allocator's counts do not depend on the
machine's load, see docs/measurement.md#memory).

    python perf/memory_matrix.py --build build/release --out reports/<name> [--models M ...] [--batches B ...]
    python perf/memory_matrix.py --out reports/<name> --render      # memory.md again from memory.csv

Writes <out>/memory.csv (a row per arm: model, distribution, batch, side, mode, fill, unit_peak_mib,
held_mib) and <out>/memory.md: per point the padded step peak, each path's over its side's padded
beside the fill, and whether padding-free's step peak is within MEMORY_GOAL x fill x padded's.
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import engine
from seqpack_paths import ROOT

MODELS = ("transformer_lstm", "attention_lstm", "encoder_decoder_lstm")
DISTRIBUTIONS = ("uniform_half", "triangular", "bimodal", "heavy_tailed")  # every one but "equal"
BATCHES = (32, 64, 128)
WINDOW = (64, 16)  # encoder, decoder steps: the padding-free report's window
ARMS = [("cpp", m) for m in ("padded", "packed", "segmented", "stepwise", "padding_free")] + \
       [("python", m) for m in ("padded_eager", "packed_eager")]
PADDED = {"cpp": "padded", "python": "padded_eager"}
MEMORY_GOAL = 1.25  # padding-free's step peak at most this x fill x padded's
FIELDS = ["model", "distribution", "batch", "encoder_steps", "decoder_steps", "side", "mode", "fill_ratio",
          "unit_peak_mib", "held_mib"]


def measure(workers, model, distribution, batch) -> list[dict]:
    rows = []
    for side, mode in ARMS:
        arm = {"kind": "step", "what": model, "mode": mode, "distribution": distribution, "batch": batch,
               "encoder_steps": WINDOW[0], "decoder_steps": WINDOW[1]}
        reply = workers[side].call({"op": "prepare", "id": "m", "arm": arm, "memory": True}, 900)
        workers[side].call({"op": "release", "id": "m"}, 60)
        rows.append({"model": model, "distribution": distribution, "batch": batch, "encoder_steps": WINDOW[0],
                     "decoder_steps": WINDOW[1], "side": side, "mode": mode, "fill_ratio": reply["fill_ratio"],
                     "unit_peak_mib": reply["unit_peak_mib"], "held_mib": reply["held_mib"]})
    return rows


def markdown(rows: list[dict]) -> str:
    points = list(dict.fromkeys((r["model"], r["distribution"], r["batch"]) for r in rows))
    paths = [f"{side} {mode}" for side, mode in ARMS if mode not in PADDED.values()]
    lines = ["# Memory per arm", "",
             "The step peak (MiB) of one training step above what was live before it, counted from LibTorch's "
             "CPU allocator (docs/measurement.md#memory), and each path's over its side's padded step peak, "
             f"beside the fill ratio. Window {WINDOW[0]} + {WINDOW[1]} steps, float32, CPU. "
             f"Goal: padding-free within {MEMORY_GOAL} x fill x padded's.", "",
             "| model | distribution | B | fill | C++ padded MiB | Python padded MiB | " + " | ".join(paths) +
             " | padding-free / (fill x padded) | goal |",
             "|" + "---|" * (7 + len(paths))]
    met = 0
    for model, distribution, batch in points:
        at = {(r["side"], r["mode"]): r for r in rows if (r["model"], r["distribution"], r["batch"]) ==
              (model, distribution, batch)}
        fill = at[("cpp", "padded")]["fill_ratio"]
        over = {f"{s} {m}": at[(s, m)]["unit_peak_mib"] / at[(s, PADDED[s])]["unit_peak_mib"] for s, m in ARMS
                if m not in PADDED.values()}
        efficiency = over["cpp padding_free"] / fill
        met += efficiency <= MEMORY_GOAL
        lines.append(f"| {model} | {distribution} | {batch} | {fill:.3f} | {at[('cpp', 'padded')]['unit_peak_mib']:.1f} | "
                     f"{at[('python', 'padded_eager')]['unit_peak_mib']:.1f} | "
                     + " | ".join(f"{over[p]:.3f}" for p in paths)
                     + f" | {efficiency:.2f} | {'met' if efficiency <= MEMORY_GOAL else 'not met'} |")
    held = sorted({(r["model"], round(r["held_mib"], 3)) for r in rows})
    lines += ["", f"Goal met at {met} of {len(points)} points.", "",
              "Held between steps (parameters and Adam's two moments, alike on every path and both sides): "
              + ", ".join(f"{m} {h:.2f} MiB" for m, h in held) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batches", nargs="+", type=int, default=list(BATCHES))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--render", action="store_true", help="write memory.md from <out>/memory.csv, measuring nothing")
    args = parser.parse_args(argv)
    if args.render:
        rows = list(csv.DictReader(open(args.out / "memory.csv")))
        for r in rows:
            r.update(batch=int(r["batch"]), fill_ratio=float(r["fill_ratio"]), unit_peak_mib=float(r["unit_peak_mib"]),
                     held_mib=float(r["held_mib"]))
        (args.out / "memory.md").write_text(markdown(rows))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as logs:
        workers = engine.Workers(args.build, args.python, Path(logs), "quick")
        try:
            for model in args.models:
                for distribution in DISTRIBUTIONS:
                    for batch in args.batches:
                        rows += measure(workers, model, distribution, batch)
                        print(f"[memory] {model} {distribution} B={batch}", file=sys.stderr, flush=True)
        finally:
            workers.close()
    with open(args.out / "memory.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "memory.md").write_text(markdown(rows))
    print(f"memory: {args.out / 'memory.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
