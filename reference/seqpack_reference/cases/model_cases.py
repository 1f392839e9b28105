"""Golden cases for the LSTM-family models: float64, dropout 0, packing always and never, with
the output, the loss (the model's default criterion through calc_loss) and, for the small
configurations, the gradient of every parameter. The original's default sizes appear once per
model, forward and loss only, to keep the goldens small."""
from __future__ import annotations

import zlib

import torch

from .. import losses, packing_policy
from ..golden import Case
from ..models import MODEL_SPECS, specs

TOL = {"rtol": 1e-10, "atol": 1e-10}
PAST, FUTURE = 3, 2
ENCODER_LENGTHS, DECODER_LENGTHS = [7, 3, 5, 1], [5, 2, 4, 1]

def _seed(name):
    return zlib.crc32(name.encode())


def _left_aligned(lengths, steps, features, gen):
    x = torch.randn(len(lengths), steps, features, generator=gen, dtype=torch.float64)
    for row, length in enumerate(lengths):
        x[row, length:] = 0
    return x


def model_inputs(name, output_dim, lengths_as_column=False):
    gen = torch.Generator().manual_seed(_seed(name + "/inputs"))
    inputs = {
        "past_sequence": _left_aligned(ENCODER_LENGTHS, max(ENCODER_LENGTHS), PAST, gen),
        "future_sequence": _left_aligned(DECODER_LENGTHS, max(DECODER_LENGTHS), FUTURE, gen),
        "target": torch.randn(len(DECODER_LENGTHS), max(DECODER_LENGTHS), output_dim, generator=gen,
                              dtype=torch.float64),
    }
    for key, values in (("encoder_lengths", ENCODER_LENGTHS), ("decoder_lengths", DECODER_LENGTHS)):
        t = torch.tensor(values)
        inputs[key] = t.reshape(-1, 1).to(torch.float32) if lengths_as_column else t
    return inputs


def case_name(spec, config, packing):
    return f"{spec.name}/{config}_packing_{packing}"


def build_model(op, params, seed):
    torch.manual_seed(seed)
    model = MODEL_SPECS[op].model_class(PAST, FUTURE, **params).double()
    model.eval()
    return model


def run_model(op, model, inputs, backward):
    """The model's outputs as seqpack eval writes them."""
    model.zero_grad()
    output = model(**{k: inputs[k] for k in MODEL_SPECS[op].inputs if k in inputs})
    criterion = dict(model.default_criterion)
    loss = losses.calc_loss(output, inputs["target"], inputs.get("decoder_lengths"), **criterion)
    expected = {"output": output.detach(), "loss": loss.detach()}
    if backward:
        loss.backward()
        for name, p in model.named_parameters():
            expected["grad." + name] = p.grad if p.grad is not None else torch.zeros_like(p)
    return expected


def _case(op, config, params, packing, backward=True, lengths_as_column=False):
    short = MODEL_SPECS[op].name
    name = case_name(MODEL_SPECS[op], config, packing)
    full_params = {"num_past_features": PAST, "num_future_features": FUTURE, "dropout": 0.0, **params,
                   "packing": packing}
    model = build_model(op, {k: v for k, v in full_params.items() if k not in ("num_past_features",
                                                                               "num_future_features")},
                        _seed(name))
    inputs = model_inputs(name, params.get("output_dim", 1), lengths_as_column)
    expected = run_model(op, model, inputs, backward)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    checks = (f"{short} {config} {params}, packing {packing}: output, loss"
              + (" and every parameter's gradient" if backward else ""))
    return Case(name, op, checks, inputs, full_params, expected=expected, backward=backward, weights=weights, **TOL)


def _zero_length_case(op, config, params):
    """Rows of length 0 in the packed path: the expected outputs are the model run on each sample
    alone (B = 1, same padded T), where a row of length 0 runs no LSTM step, concatenated; the
    loss and gradients come from that concatenation."""
    short = MODEL_SPECS[op].name
    name = f"{short}/{config}_zero_length_rows_packed"
    full_params = {"num_past_features": PAST, "num_future_features": FUTURE, "dropout": 0.0, **params,
                   "packing": "always"}
    model = build_model(op, {k: v for k, v in full_params.items() if k not in ("num_past_features",
                                                                               "num_future_features")},
                        _seed(name))
    encoder_lengths, decoder_lengths = [7, 0, 5, 0], [5, 2, 0, 0]
    gen = torch.Generator().manual_seed(_seed(name + "/inputs"))
    inputs = {
        "past_sequence": _left_aligned(encoder_lengths, max(encoder_lengths), PAST, gen),
        "future_sequence": _left_aligned(decoder_lengths, max(decoder_lengths), FUTURE, gen),
        "target": torch.randn(4, max(decoder_lengths), params.get("output_dim", 1), generator=gen,
                              dtype=torch.float64),
        "encoder_lengths": torch.tensor(encoder_lengths),
        "decoder_lengths": torch.tensor(decoder_lengths),
    }
    output = torch.cat([model(**{k: inputs[k][row:row + 1] for k in MODEL_SPECS[op].inputs}) for row in range(4)])
    criterion = dict(model.default_criterion)
    loss = losses.calc_loss(output, inputs["target"], inputs["decoder_lengths"], **criterion)
    loss.backward()
    expected = {"output": output.detach(), "loss": loss.detach()}
    for param_name, p in model.named_parameters():
        expected["grad." + param_name] = p.grad if p.grad is not None else torch.zeros_like(p)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    checks = (f"{short} {config}, packing always, encoder lengths {encoder_lengths} and decoder lengths "
              f"{decoder_lengths}: each row as the sample alone (a row of length 0 runs no LSTM step); "
              "output, loss and every parameter's gradient")
    return Case(name, op, checks, inputs, full_params, expected=expected, backward=True, weights=weights, **TOL)


def cases():
    lstm_models = specs("lstm")
    out = [_zero_length_case(spec.op, "small", spec.configs["small"].model) for spec in lstm_models]
    for spec in lstm_models:
        for config, golden_config in spec.configs.items():
            for packing in ("always", "never"):
                out.append(_case(spec.op, config, golden_config.model, packing, lengths_as_column=config == "small"))
        out.append(_case(spec.op, "defaults", {}, "auto", backward=False))
        # The calibrated policy on this batch (B = 4, T = 7): the path perf/packing_cost_model.json picks,
        # for the models it was fitted on (a model added since has no coefficients).
        if spec.name in packing_policy.load()["models"]:
            out.append(_case(spec.op, "small", spec.configs["small"].model, "calibrated"))
    return out
