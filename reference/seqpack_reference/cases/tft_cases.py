"""Golden cases for the TFT family: float64, dropout 0, variable encoder and decoder lengths, with
the output, the loss (the original's default: QuantileLoss, loss masking off, unless a config says
otherwise) and the gradient of every parameter. Encoders arrive right-aligned with zeros in the
padding, as the original's data module writes them, except where a config says otherwise."""
from __future__ import annotations

import zlib

import torch

from .. import losses
from ..golden import Case
from ..models import MODELS
from ..models.tft_family import pftft_static_covariates, tft_static_covariates

TOL = {"rtol": 1e-10, "atol": 1e-10}
ENCODER_LENGTHS, DECODER_LENGTHS = [7, 3, 5, 1], [5, 2, 4, 1]
TE, TD = max(ENCODER_LENGTHS), max(DECODER_LENGTHS)

# Each config: the model's hyperparameters, the eval params beyond them, and how the inputs look.
CONFIGS = {
    "small": {"model": {"num_past_features": 3, "num_future_features": 2, "d_model": 8, "d_hidden_continuous": 4,
                        "num_heads": 2, "num_lstm_layers": 1}},
    "two_layers_noncausal_three_quantiles": {
        "model": {"num_past_features": 4, "num_future_features": 1, "d_model": 12, "d_hidden_continuous": 3,
                  "num_heads": 3, "num_lstm_layers": 2, "causal_attention": False, "output_dim": 3},
        "loss": {"criterion": "QuantileLoss", "quantiles": [0.9, 0.1, 0.5]}},
    "left_aligned_masked_loss": {
        "model": {"num_past_features": 2, "num_future_features": 3, "d_model": 8, "d_hidden_continuous": 2,
                  "num_heads": 1, "num_lstm_layers": 2, "encoder_alignment": "left"},
        "loss": {"use_loss_masking": True}, "left_aligned": True},
    "nonzero_padding": {
        "model": {"num_past_features": 3, "num_future_features": 2, "d_model": 8, "d_hidden_continuous": 4,
                  "num_heads": 2, "num_lstm_layers": 1},
        "nonzero_padding": True},
}
# The Lightning modules' static covariates, computed from the encoder lengths.
STATIC_RULES = {
    "model.tft": lambda lengths, params: tft_static_covariates(lengths, params["ctxt_seq_len"], torch.float64),
    "model.pftft": lambda lengths, params: pftft_static_covariates(lengths, torch.float64),
}


def _seed(name):
    return zlib.crc32(name.encode())


def _padded(lengths, steps, features, gen, right, zero_padding=True):
    x = torch.randn(len(lengths), steps, features, generator=gen, dtype=torch.float64)
    for row, length in enumerate(lengths):
        if zero_padding and right:
            x[row, : steps - length] = 0
        elif zero_padding:
            x[row, length:] = 0
    return x


def model_inputs(name, op, model_params, config=None, with_static=False):
    """The forward inputs (and a target) of a TFT-family model; config shapes the encoder's layout."""
    config = config or {}
    gen = torch.Generator().manual_seed(_seed(name + "/inputs"))
    right = not config.get("left_aligned", False)
    encoder_lengths = torch.tensor(ENCODER_LENGTHS)
    inputs = {
        "past_covariates": _padded(ENCODER_LENGTHS, TE, model_params["num_past_features"], gen, right,
                                   zero_padding=not config.get("nonzero_padding", False)),
        "future_covariates": _padded(DECODER_LENGTHS, TD, model_params["num_future_features"], gen, right=False),
        "encoder_lengths": encoder_lengths,
        "decoder_lengths": torch.tensor(DECODER_LENGTHS),
        "target": torch.randn(len(DECODER_LENGTHS), TD, 1, generator=gen, dtype=torch.float64),
    }
    if with_static:
        inputs["static_covariates"] = STATIC_RULES[op](encoder_lengths, model_params)
    return inputs


def _model_params(op, config):
    params = {"dropout": 0.0, **config["model"]}
    if op == "model.tft":
        params.update(ctxt_seq_len=TE, tgt_seq_len=TD)
    return params


def run_model(model, inputs, loss_params):
    model.zero_grad()
    names = ("past_covariates", "future_covariates", "static_covariates", "encoder_lengths", "decoder_lengths")
    output = model(*(inputs.get(k) for k in names))
    criterion = {**model.default_criterion, "use_loss_masking": model.default_use_loss_masking, **loss_params}
    loss = losses.calc_loss(output, inputs["target"], inputs["decoder_lengths"], **criterion)
    loss.backward()
    expected = {"output": output.detach(), "loss": loss.detach()}
    for name, p in model.named_parameters():
        expected["grad." + name] = p.grad if p.grad is not None else torch.zeros_like(p)
    return expected


def _case(op, config_name, config):
    short = op.removeprefix("model.")
    with_static = op in STATIC_RULES and not config.get("left_aligned", False)
    name = f"{short}/{config_name}" + ("_static_from_lengths" if with_static else "")
    params = _model_params(op, config)
    torch.manual_seed(_seed(name))
    model = MODELS[op](**params).double().eval()
    inputs = model_inputs(name, op, params, config, with_static)
    loss_params = config.get("loss", {})
    expected = run_model(model, inputs, loss_params)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    layout = "left-aligned encoder realigned" if config.get("left_aligned") else "right-aligned encoder"
    if config.get("nonzero_padding"):
        layout += " with non-zero values at the padded steps (read as zeros)"
    checks = (f"{short} {config_name}: {layout}, {'static covariates from the lengths' if with_static else 'no static covariates'}; "
              "output, loss and every parameter's gradient")
    return Case(name, op, checks, inputs, {**params, **loss_params}, expected=expected, backward=True,
                weights=weights, **TOL)


def _rejections():
    op, config = "model.tft", CONFIGS["small"]
    params = _model_params(op, config)
    torch.manual_seed(0)
    weights = {k: v.detach().clone() for k, v in MODELS[op](**params).double().state_dict().items()}
    good = model_inputs("tft/rejections", op, params, config, with_static=True)
    bad = {
        "encoder_length_over_window": ({"encoder_lengths": torch.tensor([8, 3, 5, 1])}, {}, "encoder_lengths"),
        "static_covariates_wrong_width": ({"static_covariates": torch.zeros(4, 2, dtype=torch.float64)}, {},
                                          "static_covariates"),
        "past_covariates_wrong_features": ({"past_covariates": torch.zeros(4, TE, 2, dtype=torch.float64)}, {},
                                           "past_covariates"),
        "unknown_encoder_alignment": ({}, {"encoder_alignment": "middle"}, "encoder_alignment"),
    }
    return [Case(f"tft/rejects_{what}", op, f"tft refuses {mentions}: {what.replace('_', ' ')}",
                 {**good, **changed}, {**params, **extra}, error_mentions=mentions, weights=weights)
            for what, (changed, extra, mentions) in bad.items()]


def cases():
    out = [_case(op, name, config) for op in ("model.tft", "model.pftft", "model.xtft")
           for name, config in CONFIGS.items()]
    return out + _rejections()
