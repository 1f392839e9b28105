"""The calibrated packing policy: a cost model of one training step on each path (padded, packed,
and padding-free where fitted), fitted on the benchmark matrix (perf/packing_cost_model.py writes
perf/packing_cost_model.json), and the rule "take the path with the fastest predicted step".
impl/src/models/packing_policy.cpp reads the same JSON, so both sides take the same decision."""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

COST_MODEL_PATH = Path(__file__).resolve().parents[2] / "perf" / "packing_cost_model.json"
# log(fill) must stay finite when every row has length 0; the matrix's smallest fill is ~0.15.
FILL_FLOOR = 0.01
FEATURES = ["1", "ln_B", "ln_fill", "ln_B*ln_fill", "equal", "ln_B*equal"]
# The cost model's paths and the `packing` each one is, in the order that breaks a tie (C++:
# kCostModelPaths). padded and packed are required of every model, padding_free is optional.
PATHS = {"padded": "never", "packed": "always", "padding_free": "padding_free"}


def features(batch: int, steps: int, lengths: list[int]) -> list[float]:
    """The cost model's regressors: log batch size, log fill ratio (sum L / (B T)), their product,
    and whether every row has the same length (the padded path then wastes nothing)."""
    ln_b = math.log(batch)
    ln_fill = math.log(max(sum(lengths) / (batch * steps), FILL_FLOOR))
    equal = 1.0 if min(lengths) == max(lengths) else 0.0
    return [1.0, ln_b, ln_fill, ln_b * ln_fill, equal, ln_b * equal]


def load(path: Path = COST_MODEL_PATH) -> dict:
    with open(path) as f:
        return json.load(f)


def predicted_log_seconds(cost_model: dict, model: str, path: str, x: list[float]) -> float:
    """ln(seconds per training step) of `model` on `path` (a key of PATHS)."""
    return sum(c * v for c, v in zip(cost_model["models"][model][path], x))


def fastest_of(coefficients: dict, x: list[float]) -> str:
    """The rule, on one model's coefficients ({path: [...]}) and features: the path (a key of PATHS)
    with the lowest predicted ln seconds among those it has, ties to the earlier one."""
    priced = [path for path in PATHS if path in coefficients]
    return min(priced, key=lambda path: sum(c * v for c, v in zip(coefficients[path], x)))


def fastest_path(cost_model: dict, model: str, batch: int, steps: int, lengths: list[int]) -> str:
    return fastest_of(cost_model["models"][model], features(batch, steps, lengths))


_CACHE: dict = {}


def resolve(packing: str, model: str, past_sequence: torch.Tensor, encoder_lengths) -> str:
    """The path a model's forward takes: "calibrated" becomes "always", "never" or "padding_free" for the whole
    step (both LSTMs), decided on the encoder batch, as the cost model was measured; on a device the
    matrix did not measure, "auto" (the original's rule). Other choices pass through."""
    if packing != "calibrated" or encoder_lengths is None:
        return packing
    lengths = [int(v) for v in encoder_lengths.reshape(-1).tolist()]
    if not lengths:
        return "never"
    if "cost_model" not in _CACHE:
        _CACHE["cost_model"] = load()
    cost_model = _CACHE["cost_model"]
    if past_sequence.device.type != cost_model["device"]:
        return "auto"
    return PATHS[fastest_path(cost_model, model, len(lengths), past_sequence.size(1), lengths)]
