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
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence


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
    padding_free: dict | None = None  # LSTM family: what the padding-free rerun compares, or why it skips


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
    if case.padding_free is not None:
        meta["padding_free"] = case.padding_free
    if case.expected is None:
        meta["error_mentions"] = case.error_mentions
    (folder / "case.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    _save(case.inputs, folder / "inputs.safetensors")
    if case.expected is not None:
        _save(case.expected, folder / "expected.safetensors")
    if case.weights is not None:
        _save(case.weights, folder / "weights.safetensors")


def _short(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _unpacked(parts: dict[str, torch.Tensor]) -> torch.Tensor:
    packed = PackedSequence(parts["data"], parts["batch_sizes"], parts.get("sorted_indices"),
                            parts.get("unsorted_indices"))
    return pad_packed_sequence(packed, batch_first=True)[0]


def _tensor_difference(name: str, want: torch.Tensor, got: torch.Tensor, rtol: float, atol: float) -> str | None:
    if want.dtype != got.dtype:
        return f"{name}: dtype {_short(want.dtype)} expected, got {_short(got.dtype)}"
    if want.shape != got.shape:
        return f"{name}: shape {list(want.shape)} expected, got {list(got.shape)}"
    if want.is_floating_point() or want.is_complex():
        if torch.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
            return None
        largest = (got.double() - want.double()).abs().nan_to_num(1e300).max().item() if want.numel() else 0.0
        return f"{name}: values differ (max |diff| {largest:.3g}, rtol {rtol}, atol {atol})"
    return None if torch.equal(got, want) else f"{name}: values differ"


def differences(want: dict[str, torch.Tensor], got: dict[str, torch.Tensor], rtol: float = 0.0, atol: float = 0.0,
                compare: str = "exact") -> list[str]:
    """Why `got` differs from `want`, one line per difference (empty: they agree). The one golden
    comparison on the Python side, the twin of conformance/runner/golden_case.cpp's mismatch: the
    same tensor names; each tensor of the same dtype and shape; floats within rtol/atol with NaN
    equal to NaN (the nonfinite cases expect NaN), everything else exactly. compare
    "packed_by_meaning" (packs of tied lengths, whose rows may come in any stable order) compares
    batch_sizes and the padded batch the pack unpacks to, exactly."""
    if want.keys() != got.keys():
        return [f"tensor names differ: expected {sorted(want)}, got {sorted(got)}"]
    if compare == "packed_by_meaning":
        why = (_tensor_difference("batch_sizes", want["batch_sizes"], got["batch_sizes"], 0.0, 0.0)
               or _tensor_difference("data (unpacked)", _unpacked(want), _unpacked(got), 0.0, 0.0))
        return [why] if why else []
    if compare != "exact":
        raise ValueError(f"compare must be 'exact' or 'packed_by_meaning', got {compare!r}")
    found = (_tensor_difference(name, want[name], got[name], rtol, atol) for name in sorted(want))
    return [why for why in found if why is not None]


def case_differences(meta: dict, want: dict[str, torch.Tensor], got: dict[str, torch.Tensor]) -> list[str]:
    """differences() under a case's own comparison and tolerances (its case.json, as `meta`)."""
    return differences(want, got, meta["rtol"], meta["atol"], meta["compare"])


def compare_case_folders(committed: Path, fresh: Path) -> list[str]:
    """Differences between a committed case folder and a freshly generated one (empty: equal).
    Inputs and weights are compared tensor by tensor under the case's tolerances, the expected
    outputs under its comparison too."""
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
        compare = meta["compare"] if name == "expected.safetensors" else "exact"
        found = differences(load_file(str(a)), load_file(str(b)), meta["rtol"], meta["atol"], compare)
        problems += [f"{name}: {why}" for why in found]
    return problems
