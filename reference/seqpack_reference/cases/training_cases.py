"""Multi-step training goldens for every model family: the small configuration trained for three
Adam steps in float64 (training.py), the loss the original trains on (the model's default
criterion through calc_loss). A fault that shows only from the second step on (optimiser state,
a packed layout kept from the previous batch, a shared module stepped twice) changes the
parameters or the moments here while every single-step golden still passes.

The LSTM family's goldens land in the model's folder, so its reruns (segments, stepwise,
padding_free, bfloat16 autocast) train on every path too; for a model whose default loss is not
masked, a masked-loss twin lets the padding-free rerun compare the whole training (padding-free
trains on the real steps only)."""
from __future__ import annotations

import torch

from .. import losses, training
from ..golden import Case
from ..models import MODEL_SPECS, specs
from . import model_cases, tft_cases

LEARNING_RATE = training.DEFAULT_LEARNING_RATE  # given explicitly in the LSTM goldens, left out in the TFT ones


def _lstm_training_padding_free(op, model, params, inputs, criterion):
    """What the padding-free rerun compares: everything, or why nothing (a loss over the padding
    trains other parameters from the first step on)."""
    rule = model_cases.padding_free_check(op, model, params, inputs, criterion)
    if "skip" in rule:
        return rule
    if criterion["criterion"] not in losses.OWN_CRITERIA:
        return {"skip": f"{criterion['criterion']} is not masked: the reference trains on the padding too, so every "
                        "parameter differs from padding-free's after the first step"}
    return {"compare": ["output", "loss", "gradients"]}


def _lstm_case(spec, config, packing, criterion=None):
    op = spec.op
    variant = "_masked_loss" if criterion else ""
    name = f"{spec.name}/{config}{variant}_trains_{training.STEPS}_steps_packing_{packing}"
    params = {"num_past_features": model_cases.PAST, "num_future_features": model_cases.FUTURE, "dropout": 0.0,
              **spec.configs[config].model, "packing": packing}
    model = model_cases.build_model(op, {k: v for k, v in params.items()
                                         if k not in ("num_past_features", "num_future_features")},
                                    model_cases._seed(name))
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    inputs = model_cases.model_inputs(name, spec.configs[config].model.get("output_dim", 1))
    case_params = {**params, **(criterion or {}), "training_steps": training.STEPS, "learning_rate": LEARNING_RATE}
    used = training.criterion_of(model, case_params)
    padding_free = _lstm_training_padding_free(op, model, params, inputs, used)
    expected = training.train_case(op, model, inputs, case_params)
    checks = (f"{spec.name} {config}, packing {packing}, criterion {used['criterion']}: {training.STEPS} Adam steps "
              f"(lr {LEARNING_RATE}), step k on the batch rolled by k rows; each step's loss, every parameter and "
              "Adam's moments after the last step, the trained model's output")
    return Case(name, op, checks, inputs, case_params, expected=expected, weights=weights, padding_free=padding_free,
                **model_cases.TOL)


def _tft_case(spec):
    """The small configuration with static covariates from the lengths where the model takes them;
    learning_rate left at its default (1e-3)."""
    config = spec.configs["small"]
    name = f"{spec.name}/small_trains_{training.STEPS}_steps"
    params = tft_cases._model_params(spec, config)
    torch.manual_seed(tft_cases._seed(name))
    model = spec.model_class(**params).double().eval()
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    inputs = tft_cases.model_inputs(name, spec, params, config, tft_cases._with_static(spec, config))
    case_params = {**params, **config.loss, "training_steps": training.STEPS}
    expected = training.train_case(spec.op, model, inputs, case_params)
    checks = (f"{spec.name} small: {training.STEPS} Adam steps (default lr), step k on the batch rolled by k rows; "
              "each step's loss, every parameter and Adam's moments after the last step, the trained model's output")
    return Case(name, spec.op, checks, inputs, case_params, expected=expected, weights=weights, **tft_cases.TOL)


def _rejections():
    """Bad training params: refused in one line naming the param (the op changes nothing)."""
    spec = MODEL_SPECS["model.transformer_lstm"]
    good = _lstm_case(spec, "small", "always")
    without_target = {k: v for k, v in good.inputs.items() if k != "target"}
    bad = {
        "training_steps_zero": ({"training_steps": 0}, good.inputs, False, "params.training_steps"),
        "training_steps_over_the_bound": ({"training_steps": 1001}, good.inputs, False, "params.training_steps"),
        "training_steps_not_an_integer": ({"training_steps": 2.5}, good.inputs, False, "params.training_steps"),
        "learning_rate_zero": ({"learning_rate": 0.0}, good.inputs, False, "params.learning_rate"),
        "learning_rate_negative": ({"learning_rate": -1e-3}, good.inputs, False, "params.learning_rate"),
        "training_without_a_target": ({}, without_target, False, "params.training_steps"),
        "training_with_backward": ({}, good.inputs, True, "--backward"),
        "learning_rate_without_training": ({"training_steps": None}, good.inputs, False, "learning_rate"),
    }
    out = []
    for what, (changed, inputs, backward, mentions) in bad.items():
        params = {k: v for k, v in {**good.params, **changed}.items() if v is not None}
        out.append(Case(f"{spec.name}/rejects_{what}", spec.op, f"{spec.name} refuses {mentions}: {what.replace('_', ' ')}",
                        inputs, params, error_mentions=mentions, backward=backward, weights=good.weights))
    return out


def cases():
    out = []
    for spec in specs("lstm"):
        out += [_lstm_case(spec, "small", packing) for packing in ("always", "never")]
        if MODEL_SPECS[spec.op].model_class.default_criterion["criterion"] not in losses.OWN_CRITERIA:
            out.append(_lstm_case(spec, "small", "always", model_cases.MASKED_LOSS))
        # A module shared by two owners: its parameters must be stepped once per step, not twice.
        out += [_lstm_case(spec, config, "always") for config in spec.configs if "shared" in config]
    return out + [_tft_case(spec) for spec in specs("tft")] + _rejections()
