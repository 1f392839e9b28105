"""Which path should *my* data take? Given the lengths of your series, a model, a batch size and a
window, prints the fill of each batch as a random and a length-grouped sampler would draw them, the
calibrated packing policy's predicted step time per path and its pick, and, with --measure, times
every path in paired rounds and says whether the pick was right (docs/your-data.md).

    python perf/advise.py LENGTHS.csv --model transformer_lstm --batch 64            # predict
    python perf/advise.py LENGTHS.csv --model transformer_lstm --batch 64 --measure  # and confirm

LENGTHS.csv: a column of one length per series (--column, default "length"), or one row per
observation with a series id (--series-id COLUMN: a series' length is its row count). A length maps
onto the window of --steps by --rule: clip (min(n, T): windows of T steps over longer series) or
scale (n T / the longest n: the whole series is one sample, the longest fills the window).
Writes <out>/lengths.csv (the lengths, as the workers read them), advice.md, advice.json and
advice.png. Bad input: one line naming the file and the rule, exit 3; usage errors exit 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

import torch

import comparisons
import engine
import stats
from seqpack_paths import ROOT
from seqpack_reference import batching, packing_policy
from seqpack_reference.perf import csv_dialect, distributions

PATHS = tuple(packing_policy.PATHS)  # the paths the policy chooses among, in its tie order
BAD_INPUT = 3
TARGET_PCT, MAX_ROUNDS = 2.0, 80  # the measuring's stopping rule (or --budget-s, whichever comes first)
ROUNDS_PER_LAUNCH = {"step": 5}  # C++ arms only: a launch costs seconds, no recompilation to spread


class BadInput(Exception):
    """Input the advisor refuses: the message names the file or option and the rule."""


def read_series_lengths(path: Path, column: str, series_id: str | None) -> list[int]:
    """One length per series: the column's values, or each series id's row count (in first-seen order).
    Read in the C++ reader's CSV dialect (seqpack_reference.perf.csv_dialect), as the workers read
    the lengths file written from it."""
    if not path.is_file():
        raise BadInput(f"{path}: is not a readable file")
    if path.stat().st_size > distributions.MAX_FILE_BYTES:
        raise BadInput(f"{path}: is larger than {distributions.MAX_FILE_BYTES} bytes")
    wanted = series_id or column
    data = path.read_bytes()
    if b"\0" in data:  # as the workers' reader (distributions.read_lengths_file)
        raise BadInput(f"{path}: holds a NUL byte at offset {data.find(bytes(1))}: a lengths file is text")
    text = data.decode("utf-8", errors="surrogateescape")
    try:
        header, rows = csv_dialect.read(text[1:] if text.startswith("\ufeff") else text, (wanted,))
        if wanted not in header:
            raise BadInput(f'{path}: has no column "{wanted}" (columns: {", ".join(header) or "none"})')
        at = header.index(wanted)
        if series_id:
            lengths = list(Counter(values[at] for _, values in rows).values())
        else:
            lengths = [distributions.parse_length(str(path), column, values[at], row) for row, values in rows]
    except csv_dialect.CsvError as error:
        raise BadInput(f"{path}: cannot be read as CSV: {error}") from None
    except ValueError as error:
        raise BadInput(str(error)) from None
    if not lengths:
        raise BadInput(f"{path}: {distributions.NO_LENGTHS}")
    if max(lengths) > distributions.MAX_FILE_LENGTH:
        raise BadInput(f"{path}: a series of {max(lengths)} rows is longer than {distributions.MAX_FILE_LENGTH}")
    return lengths


def batch_fills(window: list[int], batch: int, steps: int, grouped: bool) -> list[dict]:
    """Every batch of one epoch as the sampler cuts it: its lengths, its fill of the window
    (sum L / (B T): what the padded path wastes) and of its longest row (sum L / (B max L))."""
    batches, _ = batching.length_grouped_batches(torch.tensor(window), batch,
                                                 shuffle=True, seed=0, group_by_length=grouped)
    out = []
    for members in batches:
        lengths = [window[i] for i in members]
        out.append({"lengths": lengths, "window_fill": sum(lengths) / (len(lengths) * steps),
                    "longest_fill": sum(lengths) / (len(lengths) * max(lengths))})
    return out


def predicted_seconds(cost_model: dict, model: str, batch: int, steps: int, lengths: list[int]) -> dict[str, float]:
    x = packing_policy.features(batch, steps, lengths)
    return {path: math.exp(packing_policy.predicted_log_seconds(cost_model, model, path, x))
            for path in PATHS if path in cost_model["models"][model]}


def quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"{at(0.1):.2f} / {at(0.5):.2f} / {at(0.9):.2f}"


def measure(args, spec: str, pick: str, logs: Path) -> dict:
    """Every path timed in paired, interleaved rounds over fresh worker launches (engine.py), the pick
    against each other path: its ratio (pick it/s / other it/s) with its interval and verdict."""
    profile = json.loads((ROOT / "perf" / "profiles.json").read_text())["quick"]
    # Tighter than the profile's ±5%: a pick within a few percent of another path is judged against
    # a 0.95 bound, which a ±5% interval around 0.97 cannot settle.
    settings = dataclasses.replace(engine.EngineSettings.from_profile(profile), target_half_width_pct=TARGET_PCT,
                                   max_rounds=MAX_ROUNDS, rounds_per_launch=ROUNDS_PER_LAUNCH)
    arms = [comparisons.Arm("cpp", path, precision=args.precision) for path in PATHS]
    by_path = dict(zip(PATHS, arms))
    ratios = [comparisons.Ratio(by_path[pick], arm) for path, arm in by_path.items() if path != pick]
    point = comparisons.Point("step", args.model, spec, args.batch, args.steps, args.decoder_steps, arms, ratios,
                              by_path[pick], args.budget_s, profile["sample_s"]["step"], device=args.device,
                              model_params=json.loads(args.params))
    workers = engine.Workers(args.build, args.python, logs, "quick")
    try:
        result = engine.measure(point, workers, settings, random.Random(0),
                                say=lambda text: print(f"[measure] {text}", file=sys.stderr, flush=True))
    finally:
        workers.close()
    out = {"target_half_width_pct": TARGET_PCT, "max_rounds": MAX_ROUNDS, "budget_s": args.budget_s,
           "rounds": result.rounds, "launches": result.launches, "elapsed_s": round(result.elapsed_s, 1),
           "stopped": result.stopped, "disturbances": result.disturbances, "seconds": {}, "ratios": {}}
    for path, arm in by_path.items():
        measured = result.arms[arm.label]
        if measured.status == "ok" and measured.seconds_per_step:
            out["seconds"][path] = sorted(measured.seconds_per_step)[len(measured.seconds_per_step) // 2]
    for ratio in ratios:
        interval = result.ratios.get(ratio.label)
        if interval is not None:
            out["ratios"][ratio.denominator.mode] = {
                "ratio": interval.estimate, "low": interval.low, "high": interval.high,
                "non_inferiority": stats.non_inferiority(interval)}
    verdicts = {r["non_inferiority"] for r in out["ratios"].values()}
    if len(out["ratios"]) < len(ratios):  # a path that failed to run: the pick is not judged against it
        verdicts.add("undecided")
    out["pick_verdict"] = ("right" if verdicts == {"non-inferior"} else "wrong" if "inferior" in verdicts
                           else "undecided")
    if out["seconds"]:
        fastest = min(out["seconds"], key=out["seconds"].get)
        out["fastest_measured"] = fastest
        out["time_lost_pct"] = 100.0 * (out["seconds"].get(pick, math.nan) / out["seconds"][fastest] - 1.0)
    return out


def advice(args, lengths: list[int], spec: str, logs: Path) -> dict:
    d = distributions.read_lengths_file(spec, ROOT)
    window = [distributions.window_length(d, n, args.steps) for n in lengths]
    cost_model = packing_policy.load()
    calibrated = args.model in cost_model["models"] and args.device == "cpu" and args.precision == "float32"
    representative = distributions.batch_lengths(d, args.batch, args.steps, 1)  # the workers' batch (seed 1)
    out = {"model": args.model, "batch": args.batch, "steps": args.steps, "decoder_steps": args.decoder_steps,
           "rule": args.rule, "device": args.device, "precision": args.precision, "series": len(lengths),
           "lengths": {"min": min(lengths), "median": sorted(lengths)[len(lengths) // 2], "max": max(lengths)},
           "calibrated": calibrated, "representative_fill": distributions.fill_ratio(representative, args.steps),
           "samplers": {}}
    for sampler in ("random", "grouped"):
        batches = batch_fills(window, args.batch, args.steps, sampler == "grouped")
        entry = {"batches": len(batches), "window_fill": [b["window_fill"] for b in batches],
                 "longest_fill": [b["longest_fill"] for b in batches]}
        if calibrated:  # the policy decides per batch: its picks, and one epoch's predicted seconds per path
            predicted = [predicted_seconds(cost_model, args.model, len(b["lengths"]), args.steps, b["lengths"])
                         for b in batches]
            entry["epoch_s"] = {path: sum(p[path] for p in predicted) for path in predicted[0]}
            entry["epoch_s"]["policy"] = sum(min(p.values()) for p in predicted)
            entry["picks"] = dict(Counter(min(p, key=p.get) for p in predicted))
        out["samplers"][sampler] = entry
    if calibrated:
        out["predicted_s"] = predicted_seconds(cost_model, args.model, args.batch, args.steps, representative)
        out["pick"] = packing_policy.fastest_path(cost_model, args.model, args.batch, args.steps, representative)
    else:
        out["pick"] = "padded"  # measured against the others all the same
    if args.measure:
        out["measured"] = measure(args, spec, out["pick"], logs)
    return out


def markdown(a: dict) -> str:
    lines = [f"# Advice: {a['model']}, B = {a['batch']}, window {a['steps']} + {a['decoder_steps']} steps, "
             f"{a['device']}, {a['precision']}", "",
             f"{a['series']} series, lengths {a['lengths']['min']} / {a['lengths']['median']} / {a['lengths']['max']} "
             f"(min / median / max), mapped onto {a['steps']} steps by {a['rule']}.", "",
             "| sampler | batches | window fill p10 / p50 / p90 | longest-row fill p10 / p50 / p90 |"
             + (" policy's picks per batch | predicted epoch s: padded / packed / padding_free / policy |"
                if a["calibrated"] else ""),
             "|---|---|---|---|" + ("---|---|" if a["calibrated"] else "")]
    for sampler, s in a["samplers"].items():
        row = f"| {sampler} | {s['batches']} | {quantiles(s['window_fill'])} | {quantiles(s['longest_fill'])} |"
        if a["calibrated"]:
            picks = ", ".join(f"{path} {n}" for path, n in sorted(s["picks"].items()))
            epoch = " / ".join(f"{s['epoch_s'][p]:.2f}" if p in s["epoch_s"] else "-" for p in (*PATHS, "policy"))
            row += f" {picks} | {epoch} |"
        lines.append(row)
    lines += ["", f"The measured batch (the workers' quantile batch) fills {a['representative_fill']:.3f} of the window."]
    if not a["calibrated"]:
        lines.append("The cost model is calibrated for the LSTM family in float32 on the CPU only: no prediction; "
                     "--measure times every path against padded.")
    else:
        lines.append("Predicted ms per step: " + ", ".join(f"{p} {1000 * s:.1f}" for p, s in a["predicted_s"].items())
                     + f"; the policy picks **{a['pick']}**.")
    m = a.get("measured")
    if m:
        lines += ["", f"Measured: {m['rounds']} paired rounds over {m['launches']} launches in {m['elapsed_s']} s "
                  f"(stopped: {m['stopped']}){'; disturbed: ' + '; '.join(m['disturbances']) if m['disturbances'] else ''}.",
                  "", f"| {a['pick']} (the pick) over | ratio | 95% interval | within 5% (non-inferiority) |", "|---|---|---|---|"]
        for path, r in m["ratios"].items():
            lines.append(f"| {path} | {r['ratio']:.3f} | [{r['low']:.3f}, {r['high']:.3f}] | {r['non_inferiority']} |")
        lines += ["", "Measured ms per step (median): " + ", ".join(f"{p} {1000 * s:.1f}" for p, s in m["seconds"].items())
                  + f". The pick was **{m['pick_verdict']}**"
                  + (f"; the fastest measured path was {m['fastest_measured']} ({m['time_lost_pct']:+.1f}% for the pick)."
                     if "fastest_measured" in m else ".")]
    return "\n".join(lines) + "\n"


def plot(a: dict, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (fills, times) = plt.subplots(1, 2, figsize=(10, 4))
    for sampler, s in a["samplers"].items():
        fills.hist(s["window_fill"], bins=20, range=(0, 1), alpha=0.6, label=f"{sampler} batches")
    fills.set(xlabel="fill of the window (sum L / (B T))", ylabel="batches", title="Fill per batch, one epoch")
    fills.legend()
    paths = list(PATHS)
    if a["calibrated"]:
        times.bar([i - 0.2 for i in range(len(paths))], [1000 * a["predicted_s"].get(p, 0) for p in paths], 0.4,
                  label="predicted")
    if a.get("measured"):
        times.bar([i + 0.2 for i in range(len(paths))], [1000 * a["measured"]["seconds"].get(p, 0) for p in paths],
                  0.4, label="measured (median)")
    times.set_xticks(range(len(paths)), paths)
    times.set(ylabel="ms per training step", title=f"{a['model']}, B = {a['batch']}")
    times.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def models() -> list[str]:
    """The LSTM family's models (the policy's paths are theirs; the TFT family runs padded only)."""
    from seqpack_reference.models.registry import MODEL_SPECS
    return [name.removeprefix("model.") for name, spec in MODEL_SPECS.items() if spec.family == "lstm"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lengths", type=Path, help="a CSV file: one length per series, or one row per observation")
    parser.add_argument("--column", default="length", help="the column holding one length per series")
    parser.add_argument("--series-id", help="instead: the column naming each observation's series")
    parser.add_argument("--rule", choices=distributions.RULES, default="clip")
    parser.add_argument("--model", required=True, choices=models())
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=64, help="the encoder window T")
    parser.add_argument("--decoder-steps", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=comparisons.PRECISIONS, default="float32")
    parser.add_argument("--params", default="{}", help="the model's hyperparameters over the benchmark's, as JSON")
    parser.add_argument("--measure", action="store_true", help="time every path and judge the pick")
    parser.add_argument("--budget-s", type=float, default=180.0, help="the measuring's time budget (rounds stop there)")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "release")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", type=Path, default=Path("advice"))
    args = parser.parse_args(argv)
    for name in ("batch", "steps", "decoder_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError:
        params = None
    if not isinstance(params, dict):
        parser.error("--params must be a JSON object")
    try:
        lengths = read_series_lengths(args.lengths, args.column, args.series_id)
    except BadInput as error:
        print(f"advise.py: {error}", file=sys.stderr)
        return BAD_INPUT
    args.out.mkdir(parents=True, exist_ok=True)
    lengths_file = (args.out / "lengths.csv").resolve()
    lengths_file.write_text("length\n" + "".join(f"{n}\n" for n in lengths))
    spec = f"{distributions.FILE_PREFIX}{lengths_file}@{args.rule}"
    with tempfile.TemporaryDirectory() as logs:
        result = advice(args, lengths, spec, Path(logs))
    (args.out / "advice.json").write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    (args.out / "advice.md").write_text(text)
    plot(result, args.out / "advice.png")
    print(text, end="")
    print(f"advise.py: wrote {args.out / 'advice.md'}, advice.json, advice.png and lengths.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
