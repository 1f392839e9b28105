"""Packages whose seqpack metadata contradicts the compiled model inside, for the command's
refusals (`conformance/compiled/cli_compiled_test.py`): AOTInductor checks only the number of
inputs, when the model runs, and answers a mismatch on stderr, so seqpack must check the metadata
against the model's call spec when it loads the package.

Each is a tiny two-input model (compiled in seconds) with a hand-made `seqpack.inputs`."""
from __future__ import annotations

import json
from pathlib import Path

import torch


def _spec(name):
    return {"name": name, "dtype": "float64", "shape": [-1, 3]}


FOLDER = "hostile"  # under the packages' folder, beside the golden cases' packages

# name -> the seqpack.inputs the package claims; the compiled model takes two tensors.
PACKAGES = {
    "no_inputs": [],
    "an_input_twice": [_spec("past_sequence"), _spec("past_sequence")],
    "more_inputs_than_the_model_takes": [_spec("past_sequence"), _spec("future_sequence"), _spec("encoder_lengths")],
}


class _TwoInputs(torch.nn.Module):
    def forward(self, a, b):
        return a.sum(-1, keepdim=True) + b


def export_hostile(out: Path) -> None:
    """Writes out/<name>.pt2 for each entry of PACKAGES."""
    args = (torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 1, dtype=torch.float64))
    program = torch.export.export(_TwoInputs(), args, strict=False)
    out.mkdir(parents=True, exist_ok=True)
    for name, inputs in PACKAGES.items():
        metadata = {"seqpack.op": "model.transformer_lstm", "seqpack.inputs": json.dumps(inputs)}
        torch._inductor.aoti_compile_and_package(program, package_path=str(out / f"{name}.pt2"),
                                                 inductor_configs={"aot_inductor.metadata": metadata,
                                                                   "aot_inductor.compile_wrapper_opt_level": "O0"})
