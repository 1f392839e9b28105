"""Exports models' padded forward with torch.export and compiles each into an AOTInductor package
(.pt2) that seqpack's `compiled.run` op loads in C++.

    python -m seqpack_reference.compiled.export --cases ../conformance/cases --cache ~/.cache/seqpack \
        [--link build/release/aoti] [--perf MODEL ...]

Packages go to <cache>/aoti-<hash>/, the hash covering what decides their contents (this package's
and the models' sources, the exported cases' files, the benchmark profile, torch's version), so a
second run, or the other build preset, reuses them; --link points a symlink at that folder.
Each golden case below is exported with its weights and its inputs' shapes, the batch dimension
dynamic, to <name>.pt2 (e.g. transformer_lstm/small_packing_never.pt2); hostile/ holds packages
whose metadata contradicts their model (hostile.py), for the command's refusals. With --perf, the named
benchmark models are exported instead, into a folder of their own (aoti-perf-<hash>/perf/<model>.pt2
and perf/<model>.weights.safetensors).

Only the padded path exports: see packed_attempt.py for where the packed one fails."""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .. import models as models_package
from ..cases import model_cases, tft_cases
from ..models import MODEL_SPECS, lstm_family, specs, tft_family
from . import traceable_masks
from .hostile import FOLDER as HOSTILE_FOLDER, export_hostile

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
PROFILES = PACKAGE_ROOT.parent.parent / "perf" / "profiles.json"

# The golden cases whose models are compiled: one padded configuration per model.
CASES = [model_cases.case_name(spec, "small", "never") if spec.family == "lstm" else tft_cases.case_name(spec, "small")
         for spec in specs()]
NOT_MODEL_PARAMS = ("criterion", "quantiles", "use_loss_masking")


class _Positional(torch.nn.Module):
    """The model's forward with only the given inputs, by position (the package's calling order)."""

    def __init__(self, model, names):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *tensors):
        return self.model(**dict(zip(self.names, tensors)))


@contextlib.contextmanager
def traceable():
    """Swaps the reference's per-row masks for the tensor-only ones while exporting."""
    saved = lstm_family.masks, tft_family.masks
    lstm_family.masks = tft_family.masks = traceable_masks
    try:
        yield
    finally:
        lstm_family.masks, tft_family.masks = saved


def input_names(op, inputs):
    """The forward's inputs that are given, in its order."""
    return [name for name in MODEL_SPECS[op].inputs if name in inputs]


def export_model(model, op, inputs, path: Path, dynamic_batch=True):
    """torch.export with a dynamic batch dimension, then AOTInductor into `path`. The package's
    metadata names the op and, per input, its dtype and shape (-1: any batch) for seqpack's checks."""
    names = input_names(op, inputs)
    args = tuple(inputs[name] for name in names)
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    shapes = (tuple({0: batch} for _ in args),) if dynamic_batch else None
    with traceable(), torch.no_grad():
        program = torch.export.export(_Positional(model, names), args, dynamic_shapes=shapes, strict=False)
    specs = [{"name": n, "dtype": str(t.dtype).removeprefix("torch."), "shape": [-1, *t.shape[1:]]}
             for n, t in zip(names, args)]
    metadata = {"seqpack.op": op, "seqpack.inputs": json.dumps(specs)}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch._inductor.aoti_compile_and_package(program, package_path=str(path),
                                             inductor_configs={"aot_inductor.metadata": metadata,
                                                               # the generated wrapper is large and runs once
                                                               # per call: O0 halves its compile time
                                                               "aot_inductor.compile_wrapper_opt_level": "O0"})


def model_from_case(folder: Path):
    meta = json.loads((folder / "case.json").read_text())
    params = {k: v for k, v in meta["params"].items() if k not in NOT_MODEL_PARAMS}
    model = MODEL_SPECS[meta["op"]].model_class(**params).double().eval()
    model.load_state_dict(load_file(str(folder / "weights.safetensors")), strict=True)
    inputs = {k: v for k, v in load_file(str(folder / "inputs.safetensors")).items() if k != "target"}
    return meta["op"], model, inputs


def perf_model(name):
    """The benchmark's model (profiles.json "model": the original's defaults, float32, dropout off
    as in eval) and left-aligned inputs at the quick profile's T; the weights are saved beside the
    package so that the eager C++ side runs the same model."""
    profile = json.loads(PROFILES.read_text())
    past, future = profile["model"]["num_past_features"], profile["model"]["num_future_features"]
    te, td = profile["quick"]["encoder_steps"], profile["quick"]["decoder_steps"]
    torch.manual_seed(0)
    model = MODEL_SPECS["model." + name].model_class(past, future, packing="never").eval()
    batch = 8
    inputs = {"past_sequence": torch.randn(batch, te, past), "future_sequence": torch.randn(batch, td, future),
              "encoder_lengths": torch.full((batch,), te), "decoder_lengths": torch.full((batch,), td)}
    return "model." + name, model, inputs


def inputs_hash(cases_root: Path, perf: list[str]) -> str:
    digest = hashlib.sha256(f"torch {torch.__version__} perf {sorted(perf)}\n".encode())
    sources = sorted(HERE.glob("*.py")) + sorted(Path(models_package.__file__).parent.glob("*.py"))
    sources += [PACKAGE_ROOT / "masks.py", PACKAGE_ROOT / "sequence.py"] + ([PROFILES] if perf else [])
    if not perf:
        sources += [f for case in CASES for f in sorted((cases_root / case).iterdir())]
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def export_all(cases_root: Path, out: Path, perf: list[str]) -> None:
    if not perf:
        started = time.time()
        export_hostile(out / HOSTILE_FOLDER)
        print(f"exported hostile/ in {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    for case in [] if perf else CASES:
        started = time.time()
        op, model, inputs = model_from_case(cases_root / case)
        export_model(model, op, inputs, out / f"{case}.pt2")
        print(f"exported {case} in {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    for name in perf:
        started = time.time()
        op, model, inputs = perf_model(name)
        export_model(model, op, inputs, out / "perf" / f"{name}.pt2")
        save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                  str(out / "perf" / f"{name}.weights.safetensors"))
        print(f"exported perf/{name} in {time.time() - started:.0f} s", file=sys.stderr, flush=True)


def cached_export(cases_root: Path, cache: Path, perf: list[str]) -> Path:
    """The cache folder for these inputs, exported now unless a complete one is there already."""
    folder = cache / f"aoti-{'perf-' if perf else ''}{inputs_hash(cases_root, perf)}"
    if (folder / "complete").exists():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="aoti-staging-", dir=cache))
    try:
        export_all(cases_root, staging, perf)
        (staging / "complete").write_text(f"torch {torch.__version__}\n")
        if folder.exists():  # an incomplete earlier attempt
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, required=True, help="the golden cases (conformance/cases)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "seqpack")
    parser.add_argument("--link", type=Path, help="a symlink to point at the packages' folder")
    parser.add_argument("--perf", nargs="*", default=[], choices=[spec.name for spec in specs("lstm")],
                        help="export these benchmark models (instead of the golden cases' models)")
    args = parser.parse_args(argv)
    folder = cached_export(args.cases.resolve(), args.cache, args.perf)
    if args.link:
        args.link.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.link.with_name(args.link.name + f".{os.getpid()}")
        temporary.symlink_to(folder)
        temporary.replace(args.link)  # atomic: a concurrent reader sees the old or the new link
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
