"""conformance/autocast_tolerances.json is PyTorch's own autocast error with a 2x margin, not tuned
to seqpack: PyTorch's reference models, run in float32 under torch.autocast (CPU) on the committed
model cases, must land within half of each tolerance of the float64 goldens, by the same normwise
rule the C++ runner applies. Where PyTorch itself cannot run a case, the test pins why."""
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqpack_reference import autocast_runs
from seqpack_reference.models.registry import MODEL_SPECS

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "conformance" / "cases"
TOLERANCES = json.loads((ROOT / "conformance" / "autocast_tolerances.json").read_text())
REFUSALS = json.loads((ROOT / "conformance" / "autocast_refusals.json").read_text())
DTYPES = autocast_runs.DTYPES


def output_cases():
    return autocast_runs.output_cases(CASES)


def run_under_autocast(folder, dtype):
    return autocast_runs.run_under_autocast(folder, dtype)


def family_group(op):
    return "tft" if MODEL_SPECS[op].family == "tft" else "lstm"


def tolerance_group(precision, op, case_name, params):
    """The family's tolerances, a "<family>/<configuration>" entry's for that configuration's cases,
    or "<family>/trained" for the cases that train (as the C++ runner chooses them)."""
    family = family_group(op)
    groups = TOLERANCES[precision]
    chosen = family
    for group in groups:
        if group.startswith(family + "/") and case_name.startswith(group.split("/", 1)[1]):
            chosen = group
    if "training_steps" in params and f"{family}/trained" in groups:
        chosen = f"{family}/trained"
    return chosen


def worst_fractions(meta, got, folder, precision):
    """Each compared tensor's error as a fraction of its tolerance under the normwise rule."""
    floor = TOLERANCES["floor"]["value"]
    by_quantity = TOLERANCES[precision][tolerance_group(precision, meta["op"], folder.name, meta["params"])]
    fractions = {}
    for name, want in load_file(str(folder / "expected.safetensors")).items():
        quantity = "output" if name == "output" else "loss" if name == "loss" else "gradients"
        if want.numel() == 0:
            continue
        error = (got[name].double() - want.double()).abs().max().item()
        scale = max(want.double().abs().max().item(), floor)
        fractions[name] = error / (by_quantity[quantity]["tolerance"] * scale)
    return fractions


@pytest.mark.parametrize("folder", output_cases(), ids=lambda f: f"{f.parent.name}/{f.name}")
def test_pytorch_bfloat16_lands_within_half_of_each_tolerance(folder):
    assert not REFUSALS["bfloat16"], "every case runs under bfloat16 autocast"
    meta, got = run_under_autocast(folder, torch.bfloat16)
    over = {name: f for name, f in worst_fractions(meta, got, folder, "bfloat16").items() if not f <= 0.5}
    assert not over, f"PyTorch's own bfloat16 error exceeds half the tolerance: {over}"


# Where CPU float16 autocast cannot run in PyTorch itself (docs/golden-cases.md): the masked
# attention fills scores with -1e9, beyond float16's range, and oneDNN has no float16 LSTM for
# some layouts. conformance/autocast_refusals.json records each such case (the C++ runner expects
# seqpack to refuse it the same way); this test keeps that file what PyTorch does today.


@pytest.mark.parametrize("folder", output_cases(), ids=lambda f: f"{f.parent.name}/{f.name}")
def test_pytorch_float16_lands_within_half_of_each_tolerance_or_refuses_as_recorded(folder):
    recorded = REFUSALS["float16"].get(f"{folder.parent.name}/{folder.name}")
    try:
        meta, got = run_under_autocast(folder, torch.float16)
    except RuntimeError as error:
        assert recorded and recorded["message"] == str(error).splitlines()[0], \
            f"PyTorch refuses {folder.name} in float16, not as conformance/autocast_refusals.json records: {error}"
        return
    assert recorded is None, f"PyTorch runs {folder.name} in float16 now; autocast_refusals.json says it refuses"
    if family_group(meta["op"]) not in TOLERANCES["float16"]:
        pytest.fail(f"PyTorch ran {folder.name} in float16 but the tolerances have no {family_group(meta['op'])} entry")
    over = {name: f for name, f in worst_fractions(meta, got, folder, "float16").items() if not f <= 0.5}
    assert not over, f"PyTorch's own float16 error exceeds half the tolerance: {over}"


def test_every_tolerance_states_its_reason():
    for precision in DTYPES:
        for group in TOLERANCES[precision].values():
            for entry in group.values():
                assert entry["tolerance"] > 0 and len(entry["reason"]) > 20
