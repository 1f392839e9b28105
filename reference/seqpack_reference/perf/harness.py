"""Times PyTorch itself on the benchmark matrix: a full training step (forward, the model's default
loss through calc_loss, backward, Adam) of each LSTM-family model in the five modes of SPEC.md, the
inference forward padded (eager and torch.compile), and the original's row-by-row alignment and
collate. Writes one JSON record per repetition set.

    python -m seqpack_reference.perf.harness --profile quick --out results.json

A mode that fails is recorded with its error, not dropped."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
import types
from pathlib import Path

import torch
import torch.nn.utils.rnn as rnn_utils

from .. import batching, losses, sequence
from ..models import MODELS, lstm_family
from .distributions import batch_lengths, fill_ratio, read_distributions

PERF_DIR = Path(__file__).resolve().parents[3] / "perf"
MODES = ["padded_eager", "padded_compile", "packed_eager", "packed_compile", "packed_compile_disable"]


def _original_packing(disabled: bool):
    """The original's packing calls (plain PyTorch), optionally hidden from the compiler."""
    wrap = torch.compiler.disable if disabled else (lambda f: f)
    return types.SimpleNamespace(
        pack_encoder=wrap(lambda x, lengths: rnn_utils.pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                                                             enforce_sorted=False)),
        pack_decoder=wrap(lambda x, lengths: rnn_utils.pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                                                             enforce_sorted=False)),
        unpack=wrap(lambda packed, steps: rnn_utils.pad_packed_sequence(packed, batch_first=True,
                                                                        total_length=steps)[0]),
    )


def _original_masks():
    """The original's vectorised masks (the reference's are built element by element, for clarity)."""
    def create_mask(size, lengths, alignment="left"):
        steps = torch.arange(size).unsqueeze(0)
        column = lengths.reshape(-1, 1)
        return steps >= column if alignment == "left" else steps < size - column

    def get_attention_mask(encoder_lengths, decoder_lengths, te, td, causal_attention=True):
        batch = encoder_lengths.numel()
        if causal_attention:
            steps = torch.arange(td)
            decoder = (steps >= steps[:, None]).unsqueeze(0).expand(batch, -1, -1)
        else:
            decoder = create_mask(td, decoder_lengths).unsqueeze(1).expand(-1, td, -1)
        encoder = create_mask(te, encoder_lengths).unsqueeze(1).expand(-1, td, -1)
        return torch.cat((encoder, decoder), dim=2)

    return types.SimpleNamespace(create_mask=create_mask, get_attention_mask=get_attention_mask)


def peak_memory_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_memory() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _left_aligned(lengths, steps, features):
    valid = torch.arange(steps).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    return torch.randn(len(lengths), steps, features) * valid.unsqueeze(-1)


def _timed_repetitions(run_once, repetitions, min_time):
    """it/s of each repetition: calls run_once until min_time has passed."""
    rates = []
    for _ in range(repetitions):
        count, start = 0, time.perf_counter()
        while True:
            run_once()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        rates.append(count / elapsed)
    return rates


class TrainingSetup:
    """One model in one mode, built once and reused across the points (batch size, distribution),
    as a training run would: a compiled model compiles once (dynamic shapes) rather than per point."""

    def __init__(self, model_name, mode, model_settings):
        self.mode, self.settings = mode, model_settings
        lstm_family.PACKING = _original_packing(disabled=mode == "packed_compile_disable")
        lstm_family.masks = _original_masks()
        torch._dynamo.reset()
        torch.manual_seed(0)
        self.model_class = MODELS["model." + model_name]
        self.model = self.model_class(model_settings["num_past_features"], model_settings["num_future_features"],
                                      packing="always" if mode.startswith("packed") else "never")
        self.model.train()
        self.forward = torch.compile(self.model, dynamic=True) if "compile" in mode else self.model
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.criterion = dict(self.model_class.default_criterion)

    def point(self, distribution, batch, settings):
        te, td = settings["encoder_steps"], settings["decoder_steps"]
        encoder_lengths = batch_lengths(distribution, batch, te, 1)
        decoder_lengths = batch_lengths(distribution, batch, td, 2)
        past = _left_aligned(encoder_lengths, te, self.settings["num_past_features"])
        future = _left_aligned(decoder_lengths, td, self.settings["num_future_features"])
        enc, dec = torch.tensor(encoder_lengths), torch.tensor(decoder_lengths)
        target = torch.randn(batch, td, 1)

        def step():
            self.optimizer.zero_grad()
            loss = losses.calc_loss(self.forward(past, future, enc, dec), target, dec, **self.criterion)
            loss.backward()
            self.optimizer.step()

        start = time.perf_counter()
        step()  # warm-up (and any compilation this shape needs)
        warmup_s = time.perf_counter() - start
        reset_peak_memory()
        rates = _timed_repetitions(step, settings["repetitions"], settings["min_time_s"])
        return {"rates": rates, "warmup_s": warmup_s, "peak_memory_mib": peak_memory_mib(),
                "fill_ratio": fill_ratio(encoder_lengths, te),
                "samples": batch, "timesteps": sum(encoder_lengths) + sum(decoder_lengths)}


class ForwardSetup:
    """Inference forward (eval, no gradient) of one model, padded, eager or torch.compile'd: the
    Python side of the compiled C++ rows (forward_bench)."""

    def __init__(self, model_name, mode, model_settings):
        self.mode, self.settings = mode, model_settings
        lstm_family.masks = _original_masks()
        torch._dynamo.reset()
        torch.manual_seed(0)
        self.model_class = MODELS["model." + model_name]
        self.model = self.model_class(model_settings["num_past_features"], model_settings["num_future_features"],
                                      packing="never").eval()
        self.forward = torch.compile(self.model, dynamic=True) if "compile" in mode else self.model

    def point(self, distribution, batch, settings):
        te, td = settings["encoder_steps"], settings["decoder_steps"]
        encoder_lengths = batch_lengths(distribution, batch, te, 1)
        decoder_lengths = batch_lengths(distribution, batch, td, 2)
        past = _left_aligned(encoder_lengths, te, self.settings["num_past_features"])
        future = _left_aligned(decoder_lengths, td, self.settings["num_future_features"])
        enc, dec = torch.tensor(encoder_lengths), torch.tensor(decoder_lengths)

        def forward():
            with torch.no_grad():
                self.forward(past, future, enc, dec)

        start = time.perf_counter()
        forward()  # warm-up (and any compilation this shape needs)
        warmup_s = time.perf_counter() - start
        reset_peak_memory()
        rates = _timed_repetitions(forward, settings["repetitions"], settings["min_time_s"])
        return {"rates": rates, "warmup_s": warmup_s, "peak_memory_mib": peak_memory_mib(),
                "fill_ratio": fill_ratio(encoder_lengths, te),
                "samples": batch, "timesteps": sum(encoder_lengths) + sum(decoder_lengths)}


class _TimedOut(Exception):
    pass


def _within(seconds, work):
    """Runs work(), raising _TimedOut after `seconds` (a compilation that never ends is a result)."""
    expired = []

    def expire(signum, frame):
        expired.append(True)
        raise _TimedOut(f"gave up after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        return work()
    except Exception as error:
        if expired:  # the compiler may have wrapped our exception in one of its own
            raise _TimedOut(f"gave up after {seconds} s") from error
        raise
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def alignment_point(distribution, batch, steps, settings):
    lengths = batch_lengths(distribution, batch, steps)
    x = _left_aligned(lengths, steps, 8)
    lengths_t = torch.tensor(lengths)
    rates = _timed_repetitions(lambda: sequence.align_encoder_sequences(x, lengths_t, alignment="right"),
                               settings["repetitions"], settings["primitive_min_time_s"])
    return {"rates": rates, "warmup_s": 0.0, "peak_memory_mib": peak_memory_mib(),
            "fill_ratio": fill_ratio(lengths, steps), "samples": batch, "timesteps": sum(lengths)}


def collate_point(distribution, batch, steps, settings):
    """The original's collate (default_collate, then its row-by-row alignment to the left) of
    right-aligned windows with masks and lengths, as batching_bench builds them."""
    lengths = batch_lengths(distribution, batch, steps)
    encoders = _left_aligned(lengths, steps, 8).flip(1)
    decoders = _left_aligned([steps // 4] * batch, steps // 4, 4)
    targets = _left_aligned([steps // 4] * batch, steps // 4, 1)
    samples = [{"encoder_input": encoders[i], "decoder_input": decoders[i], "target": targets[i],
                "encoder_lengths": torch.tensor([lengths[i]]), "decoder_lengths": torch.tensor([steps // 4.0]),
                "encoder_mask": (encoders[i] != 0).float(), "decoder_mask": (decoders[i] != 0).float()}
               for i in range(batch)]
    rates = _timed_repetitions(lambda: batching.collate(samples, "left", "auto"), settings["repetitions"],
                               settings["primitive_min_time_s"])
    return {"rates": rates, "warmup_s": 0.0, "peak_memory_mib": peak_memory_mib(),
            "fill_ratio": fill_ratio(lengths, steps), "samples": batch, "timesteps": sum(lengths)}


PRIMITIVES = {"align_auto": alignment_point, "collate": collate_point}


def points(profile, settings):
    distributions = read_distributions(PERF_DIR / "distributions.csv")
    for d in distributions:
        for batch in settings["primitive_batch_sizes"]:
            for steps in settings["primitive_steps"]:
                yield ("primitive", "align_auto", "python_rowwise", d, batch, steps)
        for batch in settings["collate_batch_sizes"]:
            for steps in settings["collate_steps"]:
                yield ("primitive", "collate", "python_original", d, batch, steps)
    for model in ("attention_lstm", "encoder_decoder_lstm", "transformer_lstm"):
        modes = MODES if model in settings["python_compiled_models"] else ["padded_eager", "packed_eager"]
        for mode in modes:
            for d in distributions:
                for batch in settings["step_batch_sizes"]:
                    yield ("step", model, mode, d, batch, settings["encoder_steps"])
    for model in settings.get("forward_models", []):
        for mode in ("padded_eager", "padded_compile"):
            for d in distributions:
                for batch in settings["forward_batch_sizes"]:
                    yield ("forward", model, mode, d, batch, settings["encoder_steps"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--filter", default="", help="only points whose name contains this text")
    args = parser.parse_args(argv)
    profiles = json.loads((PERF_DIR / "profiles.json").read_text())
    settings, model_settings = profiles[args.profile], profiles["model"]
    todo = [p for p in points(args.profile, settings) if args.filter in _name(*p)]
    records, setup, failed = [], None, {}
    for index, (kind, what, mode, d, batch, steps) in enumerate(todo, 1):
        name = _name(kind, what, mode, d, batch, steps)
        print(f"[python {index}/{len(todo)}] {name}", file=sys.stderr, flush=True)
        record = {"kind": kind, "what": what, "side": "python", "mode": mode, "distribution": d["name"],
                  "batch": batch, "steps": steps}
        try:
            if (what, mode) in failed:  # a mode that timed out once is not retried at every point
                raise failed[what, mode]
            if kind == "primitive":
                record.update(PRIMITIVES[what](d, batch, steps, settings))
            else:
                kind_setup = ForwardSetup if kind == "forward" else TrainingSetup
                if (setup is None or not isinstance(setup, kind_setup)
                        or (setup.model_class, setup.mode) != (MODELS["model." + what], mode)):
                    setup = kind_setup(what, mode, model_settings)
                record.update(_within(settings["point_timeout_s"], lambda: setup.point(d, batch, settings)))
            record["status"] = "ok"
        except Exception as error:  # a failing mode is a result too
            record["status"] = f"error: {type(error).__name__}: {(str(error).splitlines() or [''])[0][:300]}"
            if isinstance(error, _TimedOut):
                failed[what, mode] = error
            else:
                traceback.print_exc(limit=2, file=sys.stderr)
        records.append(record)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                                    "records": records}, indent=1))
    return 0


def _name(kind, what, mode, d, batch, steps):
    return f"{kind}/{what}/python/{mode}/{d['name']}/{batch}/{steps}"


if __name__ == "__main__":
    sys.exit(main())
