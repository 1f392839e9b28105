"""conformance/autocast_tolerances.json is PyTorch's own autocast error with a 2x margin, not tuned
to seqpack: PyTorch's reference models, run in float32 under torch.autocast (CPU) on the committed
model cases, must land within half of each tolerance of the float64 goldens, by the same normwise
rule the C++ runner applies. Where PyTorch itself cannot run a case, the test pins why."""
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqpack_reference.cases import model_cases, tft_cases
from seqpack_reference.models.registry import MODEL_SPECS

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "conformance" / "cases"
TOLERANCES = json.loads((ROOT / "conformance" / "autocast_tolerances.json").read_text())
FAMILIES = ("attention_lstm", "encoder_decoder_lstm", "transformer_lstm", "tft", "pftft", "xtft")
NOT_MODEL_PARAMS = ("criterion", "quantiles", "use_loss_masking")
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def output_cases():
    return [folder for family in FAMILIES for folder in sorted((CASES / family).iterdir())
            if json.loads((folder / "case.json").read_text())["expect"] == "outputs"]


def run_under_autocast(folder, dtype):
    meta = json.loads((folder / "case.json").read_text())
    params = meta["params"]
    model = MODEL_SPECS[meta["op"]].model_class(**{k: v for k, v in params.items() if k not in NOT_MODEL_PARAMS})
    model = model.float().eval()
    model.load_state_dict({k: v.float() for k, v in load_file(str(folder / "weights.safetensors")).items()})
    inputs = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(folder / "inputs.safetensors")).items()}
    criterion = {k: params[k] for k in NOT_MODEL_PARAMS if k in params}
    spec = MODEL_SPECS[meta["op"]]
    with torch.autocast("cpu", dtype=dtype):  # the loss as each family's generator computed it
        if spec.family == "tft":
            got = tft_cases.run_model(spec, model, inputs, criterion)
        else:
            got = model_cases.run_model(meta["op"], model, inputs, meta.get("backward", False),
                                        {**model.default_criterion, **criterion} if criterion else None)
    return meta, got


def family_group(op):
    return "tft" if MODEL_SPECS[op].family == "tft" else "lstm"


def tolerance_group(precision, op, case_name):
    """The family's tolerances, or a "<family>/<configuration>" entry's for that configuration's cases
    (as the C++ runner chooses them)."""
    family = family_group(op)
    groups = TOLERANCES[precision]
    chosen = family
    for group in groups:
        if group.startswith(family + "/") and case_name.startswith(group.split("/", 1)[1]):
            chosen = group
    return chosen


def worst_fractions(meta, got, folder, precision):
    """Each compared tensor's error as a fraction of its tolerance under the normwise rule."""
    floor = TOLERANCES["floor"]["value"]
    by_quantity = TOLERANCES[precision][tolerance_group(precision, meta["op"], folder.name)]
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
    meta, got = run_under_autocast(folder, torch.bfloat16)
    over = {name: f for name, f in worst_fractions(meta, got, folder, "bfloat16").items() if not f <= 0.5}
    assert not over, f"PyTorch's own bfloat16 error exceeds half the tolerance: {over}"


# Where CPU float16 autocast cannot run in PyTorch itself (docs/golden-cases.md): the masked
# attention fills scores with -1e9, beyond float16's range, and oneDNN has no float16 LSTM for
# some layouts (the TFT family's). These are findings, pinned here so that a change shows.
FLOAT16_REFUSALS = ("without overflow", "could not create a primitive descriptor")


@pytest.mark.parametrize("folder", output_cases(), ids=lambda f: f"{f.parent.name}/{f.name}")
def test_pytorch_float16_lands_within_half_of_each_tolerance_or_refuses_for_a_known_reason(folder):
    try:
        meta, got = run_under_autocast(folder, torch.float16)
    except RuntimeError as error:
        assert any(reason in str(error) for reason in FLOAT16_REFUSALS), str(error)
        return
    if family_group(meta["op"]) not in TOLERANCES["float16"]:
        pytest.fail(f"PyTorch ran {folder.name} in float16 but the tolerances have no {family_group(meta['op'])} entry")
    over = {name: f for name, f in worst_fractions(meta, got, folder, "float16").items() if not f <= 0.5}
    assert not over, f"PyTorch's own float16 error exceeds half the tolerance: {over}"


def test_every_tolerance_states_its_reason():
    for precision in DTYPES:
        for group in TOLERANCES[precision].values():
            for entry in group.values():
                assert entry["tolerance"] > 0 and len(entry["reason"]) > 20
