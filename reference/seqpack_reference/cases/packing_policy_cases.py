"""Golden cases for the calibrated packing policy: the reference's predictions from
perf/packing_cost_model.json on benchmark-matrix batches and on the model goldens' batch, so that
seqpack's embedded copy of the coefficients and its features are checked against Python's."""
from __future__ import annotations

from pathlib import Path

import torch

from .. import packing_policy
from ..golden import Case
from ..models import specs
from ..perf.distributions import batch_lengths, read_distributions

DISTRIBUTIONS = {d["name"]: d for d in read_distributions(Path(__file__).resolve().parents[3] / "perf" / "distributions.csv")}
POINTS = [("triangular", 8, 64), ("heavy_tailed", 128, 64), ("equal", 16, 64), ("bimodal", 32, 64)]
# The models with a packed path that perf/packing_cost_model.json was fitted on, each with its own
# coefficients (a model added since has none).
MODELS = [spec.name for spec in specs("lstm") if spec.name in packing_policy.load()["models"]]


def _case(name, model, steps, lengths):
    cost_model = packing_policy.load()
    x = packing_policy.features(len(lengths), steps, lengths)
    fastest = packing_policy.fastest_path(cost_model, model, len(lengths), steps, lengths)
    expected = {"use_packing": torch.tensor(fastest != "padded")}
    for path in packing_policy.PATHS:
        if path in cost_model["models"][model]:
            expected[f"log_seconds_{path}"] = torch.tensor(
                packing_policy.predicted_log_seconds(cost_model, model, path, x), dtype=torch.float64)
    if "padding_free" in cost_model["models"][model]:
        expected["use_padding_free"] = torch.tensor(fastest == "padding_free")
    return Case(f"packing_policy/{model}_{name}", "packing_policy",
                f"the calibrated policy's predicted step times and decision for {model}, T = {steps}, lengths {lengths}",
                {"lengths": torch.tensor(lengths)}, {"model": model, "steps": steps}, expected=expected,
                rtol=1e-12, atol=1e-12)


def cases():
    out = []
    for model in MODELS:
        for dist, batch, steps in POINTS:
            out.append(_case(f"{dist}_b{batch}_t{steps}", model, steps, batch_lengths(DISTRIBUTIONS[dist], batch, steps, 1)))
        out.append(_case("model_goldens_batch", model, 7, [7, 3, 5, 1]))
    lengths = {"lengths": torch.tensor([3, 2])}
    out.append(Case("packing_policy/rejects_unknown_model", "packing_policy", "a model without a cost model is rejected",
                    lengths, {"model": "tft", "steps": 4}, error_mentions="tft"))
    out.append(Case("packing_policy/rejects_length_over_steps", "packing_policy", "a length greater than steps is rejected",
                    lengths, {"model": "transformer_lstm", "steps": 2}, error_mentions="row 0"))
    return out
