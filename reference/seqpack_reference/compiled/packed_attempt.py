"""Tries torch.export on the packed path (packing="always") of each LSTM-family model and prints
where it fails: the packed forward turns each row's length into a Python int (pack_padded_sequence
takes the lengths on the CPU and builds batch_sizes from them), so the shapes of the packed data
depend on the values of an input, which torch.export cannot trace.

    python -m seqpack_reference.compiled.packed_attempt --cases ../conformance/cases
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import torch

import torch.nn.utils.rnn as rnn_utils

from ..cases.model_cases import case_name
from ..models import lstm_family, specs
from .export import _Positional, input_names, model_from_case, traceable

CASES = [case_name(spec, "small", "always") for spec in specs("lstm")]


def _original_run_lstm(lstm, x, lengths, packing, encoder, state=None):
    """The original's packed LSTM call, without the reference's branch for rows of length 0 (whose
    own data-dependent `if` would fail first)."""
    packed = rnn_utils.pack_padded_sequence(x, lengths.reshape(-1).cpu(), batch_first=True, enforce_sorted=False)
    out, state = lstm(packed, state)
    return rnn_utils.pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0], state


def _where(error) -> str:
    """The innermost frame in the model code or in torch.nn.utils.rnn: where the trace stopped."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if "seqpack_reference" in f.filename or "nn/utils/rnn.py" in f.filename]
    if not frames:
        return "?"
    f = frames[-1]
    return f"{f.filename.split('site-packages/')[-1].split('reference/')[-1]}:{f.lineno} ({f.name}): {f.line}"


def attempt(folder: Path, original_packing: bool) -> str:
    """'exported' or the export error's first line."""
    op, model, inputs = model_from_case(folder)
    names = input_names(op, inputs)
    args = tuple(inputs[name] for name in names)
    saved = lstm_family.run_lstm
    if original_packing:
        lstm_family.run_lstm = _original_run_lstm
    try:
        with traceable(), torch.no_grad():
            torch.export.export(_Positional(model, names), args, strict=False)
    except Exception as error:  # noqa: BLE001 (any failure is the answer)
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0]}\n    at {_where(error)}"
    finally:
        lstm_family.run_lstm = saved
    return "exported"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, required=True)
    args = parser.parse_args(argv)
    for case in CASES:
        print(f"{case} (reference): {attempt(args.cases / case, False)}", flush=True)
        print(f"{case} (the original's pack_padded_sequence): {attempt(args.cases / case, True)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
