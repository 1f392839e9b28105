"""Several training steps in a row, as a training loop runs them (seqpack's params.training_steps):
Adam over the model's parameters, step k on the batch with its rows rolled by k (so each step packs
its rows in another order), the loss as the case's generator computes it. What a golden of it
expects: each step's loss, and after the last step every parameter and Adam's two moments, and the
trained model's output on the batch (eval mode)."""
from __future__ import annotations

import torch

from . import losses
from .models import MODEL_SPECS

STEPS = 3
DEFAULT_LEARNING_RATE = 1e-3  # seqpack's params.learning_rate default, the original's Adam default
CRITERION_PARAMS = ("criterion", "quantiles", "use_loss_masking")


def rolled(inputs: dict, shift: int) -> dict:
    return {name: torch.roll(value, shift, dims=0) for name, value in inputs.items()}


def train(model, inputs: dict, steps: int, learning_rate: float, loss_of, output_of) -> dict:
    """loss_of(model, inputs) -> the step's loss; output_of(model, inputs) -> the model's output."""
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    losses = []
    for k in range(steps):
        optimizer.zero_grad()
        loss = loss_of(model, rolled(inputs, k))
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    expected = {"loss": torch.stack(losses)}
    for name, p in model.named_parameters():
        state = optimizer.state.get(p, {})
        expected["param." + name] = p.detach().clone()
        expected["exp_avg." + name] = state["exp_avg"].clone() if state else torch.zeros_like(p)
        expected["exp_avg_sq." + name] = state["exp_avg_sq"].clone() if state else torch.zeros_like(p)
    model.eval()
    with torch.no_grad():
        expected["output"] = output_of(model, inputs).detach()
    return expected


def criterion_of(model, params: dict) -> dict:
    """The loss a model op computes: the model's default criterion (and use_loss_masking, where the
    model says), with the case's params over it."""
    base = dict(model.default_criterion)
    if hasattr(model, "default_use_loss_masking"):
        base["use_loss_masking"] = model.default_use_loss_masking
    return {**base, **{k: params[k] for k in CRITERION_PARAMS if k in params}}


def train_case(op: str, model, inputs: dict, params: dict) -> dict:
    """What a model op with params.training_steps writes, computed by PyTorch."""
    forward_inputs = MODEL_SPECS[op].inputs
    criterion = criterion_of(model, params)

    def output_of(m, batch):
        return m(**{k: batch[k] for k in forward_inputs if k in batch})

    def loss_of(m, batch):
        return losses.calc_loss(output_of(m, batch), batch["target"], batch.get("decoder_lengths"), **criterion)

    return train(model, inputs, params["training_steps"], params.get("learning_rate", DEFAULT_LEARNING_RATE),
                 loss_of, output_of)
