"""Writes and compares golden case folders.

A case is a folder: case.json (op, params, what it checks, dtype, tolerance, how to compare,
whether an error is expected), inputs.safetensors and, unless an error is expected,
expected.safetensors. Every generator hands its cases to `Case`, and `write_case` lays them down.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


@dataclasses.dataclass
class Case:
    name: str                      # folder under the cases root, e.g. "align/auto_flaw_leading_zeros"
    op: str
    checks: str                    # one sentence: what this case pins down
    inputs: dict[str, torch.Tensor]
    params: dict = dataclasses.field(default_factory=dict)
    expected: dict[str, torch.Tensor] | None = None   # None: an error is expected
    error_mentions: str | None = None                 # text seqpack's error must contain
    compare: str = "exact"         # or "packed_by_meaning" (tied lengths: any stable order is right)
    rtol: float = 0.0
    atol: float = 0.0
    backward: bool = False         # run with --backward: expected holds gradients too
    weights: dict[str, torch.Tensor] | None = None    # a model's state_dict (weights.safetensors)


def _dtype_name(tensors: dict[str, torch.Tensor]) -> str:
    floating = sorted({str(t.dtype).removeprefix("torch.") for t in tensors.values() if t.is_floating_point()})
    return ",".join(floating) or "none"


def _save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    save_file({k: v.detach().contiguous().clone() for k, v in tensors.items()}, str(path))


def write_case(root: Path, case: Case) -> None:
    folder = root / case.name
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "op": case.op,
        "checks": case.checks,
        "params": case.params,
        "dtype": _dtype_name(case.inputs),
        "rtol": case.rtol,
        "atol": case.atol,
        "compare": case.compare,
        "expect": "error" if case.expected is None else "outputs",
    }
    if case.backward:
        meta["backward"] = True
    if case.expected is None:
        meta["error_mentions"] = case.error_mentions
    (folder / "case.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    _save(case.inputs, folder / "inputs.safetensors")
    if case.expected is not None:
        _save(case.expected, folder / "expected.safetensors")
    if case.weights is not None:
        _save(case.weights, folder / "weights.safetensors")


def compare_case_folders(committed: Path, fresh: Path) -> list[str]:
    """Differences between a committed case folder and a freshly generated one (empty: equal)."""
    problems = []
    meta = json.loads((committed / "case.json").read_text())
    if meta != json.loads((fresh / "case.json").read_text()):
        problems.append("case.json differs")
    for name in ("inputs.safetensors", "expected.safetensors", "weights.safetensors"):
        a, b = committed / name, fresh / name
        if a.exists() != b.exists():
            problems.append(f"{name}: present in only one of the two")
            continue
        if not a.exists() or a.read_bytes() == b.read_bytes():
            continue
        old, new = load_file(str(a)), load_file(str(b))
        if old.keys() != new.keys():
            problems.append(f"{name}: tensor names differ ({sorted(old)} vs {sorted(new)})")
            continue
        for key in old:
            x, y = old[key], new[key]
            if x.dtype != y.dtype or x.shape != y.shape:
                problems.append(f"{name}:{key}: dtype or shape differs")
            elif x.is_floating_point():
                if not torch.allclose(x, y, rtol=meta["rtol"], atol=meta["atol"], equal_nan=True):
                    problems.append(f"{name}:{key}: values differ beyond rtol={meta['rtol']} atol={meta['atol']}")
            elif not torch.equal(x, y):
                problems.append(f"{name}:{key}: values differ")
    return problems
