"""PyTorch's own runs of the model goldens under CPU autocast: each float64 case rerun in float32
under torch.autocast, as the C++ conformance runner reruns seqpack (SEQPACK_PRECISION). The
tolerances of conformance/autocast_tolerances.json are validated against these runs
(reference/tests/test_autocast_tolerances.py), and where PyTorch refuses a case, the refusal is
recorded for the runner to expect from seqpack too:

    python -m seqpack_reference.autocast_runs --cases ../conformance/cases --out ../conformance/autocast_refusals.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from . import training
from .cases import model_cases, tft_cases
from .models.registry import MODEL_SPECS

FAMILIES = ("attention_lstm", "encoder_decoder_lstm", "transformer_lstm", "tft", "pftft", "xtft")
NOT_MODEL_PARAMS = ("criterion", "quantiles", "use_loss_masking", "training_steps", "learning_rate")
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
# A refusal that comes from the dtype's range (the original's -1e9 attention fill is beyond
# float16's) happens on every device; others (oneDNN's missing float16 LSTM) are the CPU's.
DTYPE_RANGE_REFUSALS = ("without overflow",)


def output_cases(cases: Path) -> list[Path]:
    return [folder for family in FAMILIES for folder in sorted((cases / family).iterdir())
            if json.loads((folder / "case.json").read_text())["expect"] == "outputs"]


def run_under_autocast(folder: Path, dtype) -> tuple[dict, dict]:
    """The case's model in float32 with its weights, run under torch.autocast("cpu", dtype), its loss
    as the family's generator computed it: (case.json, outputs by name)."""
    meta = json.loads((folder / "case.json").read_text())
    params = meta["params"]
    spec = MODEL_SPECS[meta["op"]]
    model = spec.model_class(**{k: v for k, v in params.items() if k not in NOT_MODEL_PARAMS}).float().eval()
    model.load_state_dict({k: v.float() for k, v in load_file(str(folder / "weights.safetensors")).items()})
    inputs = {k: v.float() if v.is_floating_point() else v
              for k, v in load_file(str(folder / "inputs.safetensors")).items()}
    criterion = {k: params[k] for k in training.CRITERION_PARAMS if k in params}
    with torch.autocast("cpu", dtype=dtype):
        if "training_steps" in params:  # the whole training loop under autocast, as the C++ runner runs it
            got = training.train_case(meta["op"], model, inputs, params)
        elif spec.family == "tft":
            got = tft_cases.run_model(spec, model, inputs, criterion)
        else:
            got = model_cases.run_model(meta["op"], model, inputs, meta.get("backward", False),
                                        {**model.default_criterion, **criterion} if criterion else None)
    return meta, got


def refusals(cases: Path) -> dict:
    """Per precision, the cases PyTorch refuses to run under CPU autocast: the first line of its
    message and the device types it holds on."""
    found = {}
    for precision, dtype in DTYPES.items():
        found[precision] = {}
        for folder in output_cases(cases):
            try:
                run_under_autocast(folder, dtype)
            except RuntimeError as error:
                message = str(error).splitlines()[0]
                devices = ["cpu", "cuda"] if any(r in message for r in DTYPE_RANGE_REFUSALS) else ["cpu"]
                found[precision][f"{folder.parent.name}/{folder.name}"] = {"message": message, "devices": devices}
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    document = {"note": "written by `python -m seqpack_reference.autocast_runs`: the model cases PyTorch "
                        "(torch " + torch.__version__ + ", CPU) refuses to run under autocast; the conformance "
                        "runner expects seqpack to refuse them with the same message on the devices listed",
                **refusals(args.cases)}
    args.out.write_text(json.dumps(document, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
