"""The Python side of the comparison engine's workloads (the C++ side is perf/lib/workloads.cpp):
PyTorch itself on a full training step (forward, the model's default loss through calc_loss,
backward, Adam) of each model (the LSTM family in the five modes of the original's write-up, the TFT
family padded, eager and compiled), the inference forward padded (eager and torch.compile), and the
original's row-by-row alignment and collate. perf/engine.py runs them through worker.py, in paired
rounds with the C++ arms. Model arms run on the arm's "device", in its "precision" (float32, or
forward and loss under torch.autocast in bfloat16 or float16, float16 training through
torch.amp.GradScaler, as training scripts do), with its "model_params" over profiles.json's "model".

make_workload(arm) builds an arm and runs its warm-up (and any compilation); the returned
Workload.run(k) runs k units (steps, forwards or calls)."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import time
import types
from pathlib import Path
from typing import Callable

import torch
import torch.nn.utils.rnn as rnn_utils

from .. import batching, losses, sequence
from ..models import MODEL_SPECS, lstm_family, tft_family
from . import jagged_peer
from .allocation_probe import parameter_bytes
from .device import parse_device
from .distributions import batch_decoder_lengths, batch_lengths, fill_ratio, read_distributions, resolve

PERF_DIR = Path(__file__).resolve().parents[3] / "perf"
MODES = ["padded_eager", "padded_compile", "packed_eager", "packed_compile", "packed_compile_disable",
         "jagged_eager", "jagged_compile"]
JAGGED_MODELS = ("transformer_lstm",)  # jagged_peer.py's padding-free peer is written for these
# An arm's "precision": the dtype autocast computes in, None for float32 (no autocast).
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


def parse_precision(text: str, argument: str = "arm precision"):
    """The autocast dtype an arm's precision names (None: float32); the C++ side's message."""
    if text not in PRECISIONS:
        raise ValueError(f'{argument}: must be float32, bfloat16 or float16, got "{text}"')
    return PRECISIONS[text]


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
    """The original's vectorised masks (the reference's are built element by element, for clarity),
    on the lengths' device."""
    def create_mask(size, lengths, alignment="left", inverse=False):
        steps = torch.arange(size, device=lengths.device).unsqueeze(0)
        column = lengths.reshape(-1, 1)
        padded = steps >= column if alignment == "left" else steps < size - column
        return ~padded if inverse else padded

    def get_attention_mask(encoder_lengths, decoder_lengths, te, td, causal_attention=True,
                           encoder_alignment="left", decoder_alignment="left"):
        batch = encoder_lengths.numel()
        if causal_attention:
            steps = torch.arange(td, device=decoder_lengths.device)
            decoder = (steps >= steps[:, None]).unsqueeze(0).expand(batch, -1, -1)
        else:
            decoder = create_mask(td, decoder_lengths, decoder_alignment).unsqueeze(1).expand(-1, td, -1)
        encoder = create_mask(te, encoder_lengths, encoder_alignment).unsqueeze(1).expand(-1, td, -1)
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


def _model_params(spec, mode, model_settings, model_params, window):
    """The constructor's params: profiles.json's "model" (its feature counts), then what the
    original's Lightning modules pass a TFT-family model (its static feature, TFT's window), or an
    LSTM-family model's packing, then the arm's model_params over them."""
    params = {k: v for k, v in model_settings.items() if k != "description"}
    if "packing" in model_params:
        raise ValueError("arm model_params: may not set \"packing\": the arm's mode names the path")
    if spec.family == "tft":
        params.update({**spec.window_params(*window), **spec.static_params})
    else:
        params["packing"] = "always" if mode.startswith("packed") else "never"
    return {**params, **model_params}


@dataclasses.dataclass
class Workload:
    """A built arm: run(k) runs k units; the rest describes one unit."""
    run: Callable[[int], None]
    fill_ratio: float
    samples: int
    timesteps: int
    steps_per_unit: int = 1
    # What the arm holds between units, alike on every path: the parameters, and in a training step
    # Adam's two moments of each (bytes; 0 for primitives). As perf/lib/workloads.h's held_bytes.
    held_bytes: int = 0


class ModelSetup:
    """One model in one mode, built once and kept across the points (batch size, distribution) as a
    training run would: a compiled model compiles once (dynamic shapes), not per point."""

    def __init__(self, kind, model_name, mode, model_settings, wrap=lambda model: model, device=None,
                 precision=None, model_params=None, window=None):
        """wrap: what the model runs inside (DistributedDataParallel in ddp_worker.py), before any
        compilation, as a data-parallel training script compiles it. device (default the CPU),
        precision (an autocast dtype, None for float32), model_params (over model_settings) and
        window ((encoder, decoder) steps: TFT's ctxt_seq_len and tgt_seq_len) as the arm says."""
        self.kind, self.mode, self.settings = kind, mode, model_settings
        self.device = device if device is not None else torch.device("cpu")
        self.precision = precision
        # The reference models read these module globals; several setups run interleaved, so each
        # unit installs its own packing calls (a compiled graph is guarded on them).
        self.packing = _original_packing(disabled=mode == "packed_compile_disable")
        lstm_family.masks = tft_family.masks = _original_masks()
        if "model." + model_name not in MODEL_SPECS:
            raise ValueError(f"arm what: no model {model_name!r}")
        self.spec = MODEL_SPECS["model." + model_name]
        self.model_class = self.spec.model_class
        packed = mode.startswith("packed")
        if self.spec.family == "tft" and packed:
            raise ValueError(f"arm mode: {model_name} runs padded only (the TFT family has no packed path), "
                             f"not {mode!r}")
        if kind == "forward" and packed:
            raise ValueError(f"arm mode: forward runs padded_eager or padded_compile, not {mode!r}")
        if mode.startswith("jagged") and (kind != "step" or model_name not in JAGGED_MODELS):
            raise ValueError(f"arm mode: {mode!r} (the padding-free peer) is a training step of "
                             f"{', '.join(JAGGED_MODELS)} only")
        self.params = _model_params(self.spec, mode, model_settings, dict(model_params or {}), window)
        torch.manual_seed(0)
        try:
            self.model = self.model_class(**self.params)
        except TypeError as error:  # a hyperparameter the model does not take
            raise ValueError(f"arm model_params: {error}") from None
        self.model.to(self.device)
        self.model.train(kind == "step")
        wrapped = wrap(self.model)
        self.forward = torch.compile(wrapped, dynamic=True) if "compile" in mode else wrapped
        if mode.startswith("jagged"):
            peer = functools.partial(jagged_peer.forward, self.model)
            self.forward = torch.compile(peer, dynamic=True) if "compile" in mode else peer
        if kind == "step":
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
            self.criterion = {**self.model_class.default_criterion,
                              **({"use_loss_masking": self.model_class.default_use_loss_masking}
                                 if hasattr(self.model_class, "default_use_loss_masking") else {})}
            # float16 training scales the loss, as torch.amp's recipe: bfloat16 keeps float32's range.
            self.scaler = torch.amp.GradScaler(self.device.type) if precision == torch.float16 else None

    def _inputs(self, distribution, batch, te, td):
        """The forward's inputs by name (the spec's), on the device, and the target: the LSTM family's
        encoders left-aligned; the TFT family's right-aligned with the static covariates the Lightning
        module derives from the encoder lengths, as the conformance goldens build them."""
        encoder_lengths = batch_lengths(distribution, batch, te, 1)
        decoder_lengths = batch_decoder_lengths(distribution, batch, td, 2)
        past = _left_aligned(encoder_lengths, te, self.params["num_past_features"])
        if self.spec.family == "tft":
            past = past.flip(1)
        future = _left_aligned(decoder_lengths, td, self.params["num_future_features"])
        enc, dec = torch.tensor(encoder_lengths), torch.tensor(decoder_lengths)
        sequences = dict(zip(self.spec.inputs, (past, future)))  # past_sequence or past_covariates, ...
        inputs = {**sequences, "encoder_lengths": enc, "decoder_lengths": dec}
        if self.spec.static_covariates is not None:
            inputs["static_covariates"] = self.spec.static_covariates(enc, self.params, torch.float32)
        target = torch.randn(batch, td, 1)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        return encoder_lengths, decoder_lengths, inputs, target.to(self.device)

    def workload(self, distribution, batch, te, td) -> Workload:
        encoder_lengths, decoder_lengths, inputs, target = self._inputs(distribution, batch, te, td)
        dec = inputs["decoder_lengths"]
        autocast = (lambda: torch.autocast(self.device.type, dtype=self.precision)) if self.precision else \
            contextlib.nullcontext

        jagged_target = jagged_peer.target_values(target, dec) if self.mode.startswith("jagged") else None

        def loss_of_step():
            if jagged_target is not None:  # the peer's output is the real steps': their mean squared error
                return ((self.forward(**inputs) - jagged_target) ** 2).mean()
            return losses.calc_loss(self.forward(**inputs), target, dec, **self.criterion)

        def step():
            lstm_family.PACKING = self.packing
            self.optimizer.zero_grad()
            with autocast():
                loss = loss_of_step()
            if self.scaler is None:
                loss.backward()
                self.optimizer.step()
            else:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()

        def forward():
            lstm_family.PACKING = self.packing
            with torch.no_grad(), autocast():
                self.forward(**inputs)

        unit = step if self.kind == "step" else forward
        held = (3 if self.kind == "step" else 1) * parameter_bytes(self.model)
        return Workload(run=lambda k: [unit() for _ in range(k)] and None, fill_ratio=fill_ratio(encoder_lengths, te),
                        samples=batch, timesteps=sum(encoder_lengths) + sum(decoder_lengths), held_bytes=held)


def alignment(distribution, batch, steps) -> Workload:
    """The original's row-by-row alignment of a left-aligned batch to the right, source guessed."""
    lengths = batch_lengths(distribution, batch, steps)
    x = _left_aligned(lengths, steps, 8)
    lengths_t = torch.tensor(lengths)
    return Workload(run=lambda k: [sequence.align_encoder_sequences(x, lengths_t, alignment="right")
                                   for _ in range(k)] and None,
                    fill_ratio=fill_ratio(lengths, steps), samples=batch, timesteps=sum(lengths))


def collate(distribution, batch, steps) -> Workload:
    """The original's collate (default_collate, then its row-by-row alignment to the left) of
    right-aligned windows with masks and lengths, as bench_support.cpp's windows() builds them."""
    lengths = batch_lengths(distribution, batch, steps)
    encoders = _left_aligned(lengths, steps, 8).flip(1)
    decoders = _left_aligned([steps // 4] * batch, steps // 4, 4)
    targets = _left_aligned([steps // 4] * batch, steps // 4, 1)
    samples = [{"encoder_input": encoders[i], "decoder_input": decoders[i], "target": targets[i],
                "encoder_lengths": torch.tensor([lengths[i]]), "decoder_lengths": torch.tensor([steps // 4.0]),
                "encoder_mask": (encoders[i] != 0).float(), "decoder_mask": (decoders[i] != 0).float()}
               for i in range(batch)]
    return Workload(run=lambda k: [batching.collate(samples, "left", "auto") for _ in range(k)] and None,
                    fill_ratio=fill_ratio(lengths, steps), samples=batch, timesteps=sum(lengths))


PRIMITIVES = {"align_auto": alignment, "collate": collate}


def slowed(run, slowdown):
    """Each unit, then a spin of `slowdown` times its own time: a slower code path of a known size."""
    def slow(k):
        for _ in range(k):
            start = time.perf_counter()
            run(1)
            until = start + (time.perf_counter() - start) * (1.0 + slowdown)
            while time.perf_counter() < until:
                pass
    return slow


class Workloads:
    """Builds arms, keeping one ModelSetup per (kind, model, mode)."""

    def __init__(self, model_settings):
        self.model_settings = model_settings
        self.distributions = {d["name"]: d for d in read_distributions(PERF_DIR / "distributions.csv")}
        self.setups = {}

    def make(self, arm: dict) -> Workload:
        kind, what, mode = arm["kind"], arm["what"], arm["mode"]
        distribution = resolve(arm["distribution"], self.distributions, PERF_DIR.parent)
        device = parse_device(arm.get("device", "cpu"), "arm device")
        precision = parse_precision(arm.get("precision", "float32"))
        model_params = arm.get("model_params", {})
        if not isinstance(model_params, dict):
            raise ValueError("arm model_params: must be an object of hyperparameters")
        if kind == "primitive":
            if device.type != "cpu":
                raise ValueError(f"arm device: primitives run on the CPU only, not {device}")
            if precision is not None:
                raise ValueError("arm precision: primitives run float32 only")
            if what not in PRIMITIVES:
                raise ValueError(f"arm what: no Python primitive {what!r} (one of {sorted(PRIMITIVES)})")
            workload = PRIMITIVES[what](distribution, arm["batch"], arm["encoder_steps"])
        elif kind in ("step", "forward"):
            if mode not in MODES:
                raise ValueError(f"arm mode: {mode!r} is not one of {MODES}")
            window = (arm["encoder_steps"], arm["decoder_steps"])
            # A setup is kept per model, mode, device, precision, params (and window: TFT's depend on it).
            key = (kind, what, mode, str(device), str(precision), json.dumps(model_params, sort_keys=True), window)
            if any(k[:2] != (kind, what) for k in self.setups):
                self.setups.clear()  # one model's setups alive at a time: compiled graphs hold memory
                torch._dynamo.reset()
            if key not in self.setups:
                self.setups[key] = ModelSetup(kind, what, mode, self.model_settings, device=device,
                                              precision=precision, model_params=model_params, window=window)
            workload = self.setups[key].workload(distribution, arm["batch"], arm["encoder_steps"],
                                                 arm["decoder_steps"])
        else:
            raise ValueError(f"arm kind: no Python workload kind {kind!r}")
        if arm.get("slowdown", 0.0) > 0:
            workload.run = slowed(workload.run, arm["slowdown"])
        workload.run(1)  # warm-up, and any compilation this shape needs
        return workload
