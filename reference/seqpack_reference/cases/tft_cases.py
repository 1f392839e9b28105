"""Golden cases for the TFT family: float64, dropout 0, variable encoder and decoder lengths, with
the output, the loss (the original's default: QuantileLoss, loss masking off, unless a config says
otherwise) and the gradient of every parameter. Encoders arrive right-aligned with zeros in the
padding, as the original's data module writes them, except where a config says otherwise."""
from __future__ import annotations

import zlib

import torch

from .. import losses
from ..golden import Case
from ..models import MODEL_SPECS, specs

TOL = {"rtol": 1e-10, "atol": 1e-10}
ENCODER_LENGTHS, DECODER_LENGTHS = [7, 3, 5, 1], [5, 2, 4, 1]
TE, TD = max(ENCODER_LENGTHS), max(DECODER_LENGTHS)


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


def model_inputs(name, spec, model_params, config=None, with_static=False):
    """The forward inputs (and a target) of a TFT-family model; config (a GoldenConfig) shapes the
    encoder's layout."""
    gen = torch.Generator().manual_seed(_seed(name + "/inputs"))
    right = not (config and config.left_aligned)
    encoder_lengths = torch.tensor(ENCODER_LENGTHS)
    inputs = {
        "past_covariates": _padded(ENCODER_LENGTHS, TE, model_params["num_past_features"], gen, right,
                                   zero_padding=not (config and config.nonzero_padding)),
        "future_covariates": _padded(DECODER_LENGTHS, TD, model_params["num_future_features"], gen, right=False),
        "encoder_lengths": encoder_lengths,
        "decoder_lengths": torch.tensor(DECODER_LENGTHS),
        "target": torch.randn(len(DECODER_LENGTHS), TD, 1, generator=gen, dtype=torch.float64),
    }
    if with_static:
        inputs["static_covariates"] = spec.static_covariates(encoder_lengths, model_params, torch.float64)
    return inputs


def _model_params(spec, config, lightning_static=True):
    """The model the Lightning module builds: with its static feature, even where a case gives no
    static covariates. Without lightning_static, num_static_features is left out: the model class's
    own default (none)."""
    static = spec.static_params if lightning_static else {}
    return {"dropout": 0.0, **config.model, **spec.window_params(TE, TD), **static}


def _with_static(spec, config):
    return spec.static_covariates is not None and not config.left_aligned


def case_name(spec, config_name):
    return f"{spec.name}/{config_name}" + ("_static_from_lengths" if _with_static(spec, spec.configs[config_name])
                                           else "")


def run_model(spec, model, inputs, loss_params):
    model.zero_grad()
    output = model(**{k: inputs[k] for k in spec.inputs if k in inputs})
    criterion = {**model.default_criterion, "use_loss_masking": model.default_use_loss_masking, **loss_params}
    loss = losses.calc_loss(output, inputs["target"], inputs["decoder_lengths"], **criterion)
    loss.backward()
    expected = {"output": output.detach(), "loss": loss.detach()}
    for name, p in model.named_parameters():
        expected["grad." + name] = p.grad if p.grad is not None else torch.zeros_like(p)
    return expected


def _case(spec, config_name, lightning_static=True):
    config = spec.configs[config_name]
    with_static = lightning_static and _with_static(spec, config)
    name = case_name(spec, config_name) if lightning_static else f"{spec.name}/{config_name}_default_no_static_features"
    params = _model_params(spec, config, lightning_static)
    torch.manual_seed(_seed(name))
    model = spec.model_class(**params).double().eval()
    inputs = model_inputs(name, spec, params, config, with_static)
    loss_params = dict(config.loss)
    expected = run_model(spec, model, inputs, loss_params)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    layout = "left-aligned encoder realigned" if config.left_aligned else "right-aligned encoder"
    if config.nonzero_padding:
        layout += " with non-zero values at the padded steps (read as zeros)"
    static = ("static covariates from the lengths" if with_static
              else "no static covariates" if lightning_static
              else "num_static_features left at the model's default (0) and no static covariates")
    checks = f"{spec.name} {config_name}: {layout}, {static}; output, loss and every parameter's gradient"
    return Case(name, spec.op, checks, inputs, {**params, **loss_params}, expected=expected, backward=True,
                weights=weights, **TOL)


def _rejections():
    spec = MODEL_SPECS["model.tft"]
    op, config = spec.op, spec.configs["small"]
    params = _model_params(spec, config)
    torch.manual_seed(0)
    weights = {k: v.detach().clone() for k, v in spec.model_class(**params).double().state_dict().items()}
    good = model_inputs("tft/rejections", spec, params, config, with_static=True)
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
    out = [_case(spec, name) for spec in specs("tft") for name in spec.configs]
    # The models that take static covariates, built as their classes default (no static feature).
    out += [_case(spec, "small", lightning_static=False) for spec in specs("tft") if spec.static_covariates]
    return out + _rejections()
