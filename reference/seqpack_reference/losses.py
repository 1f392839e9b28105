"""transformertf's masked losses and calc_loss (nn/ and models/_base_transformer.py at 8842cb8).

Restated operation by operation in the original's order, so that values and gradients are what
the original computes, bit for bit. Inputs the original would crash on or silently broadcast into
a larger tensor are not generated here: seqpack rejects them (see the error cases).
"""
from __future__ import annotations

import torch

DEFAULT_QUANTILES = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]


def _smoothness(error, order, dim):
    def part(start=None, stop=None):
        index = [slice(None)] * error.dim()
        index[dim] = slice(start, stop)
        return error[tuple(index)]

    if order == 1:
        diff = part(1) - part(None, -1)
    elif order == 2:
        diff = part(2) - 2 * part(1, -1) + part(None, -2)
    else:
        diff = part(3) - 3 * part(2, -1) + 3 * part(1, -2) - part(None, -3)
    return diff**2


def mse(y_pred, target, mask=None, weights=None, reduction="mean", regularization=None,
        regularization_order=1, regularization_dim=0, all_masked="nan"):
    target = target.view_as(y_pred)
    if mask is None and weights is None:
        return torch.nn.functional.mse_loss(y_pred, target, reduction=reduction)
    loss = torch.nn.functional.mse_loss(y_pred, target, reduction="none")
    if mask is not None:
        loss = loss * mask
    if weights is not None:
        while weights.dim() < loss.dim():
            weights = weights.unsqueeze(-1)
        loss *= weights
    if regularization is not None:
        loss += regularization * _smoothness(loss, regularization_order, regularization_dim).sum(dim=regularization_dim)
    if reduction == "mean":
        if mask is None:
            return loss.mean()
        count = mask.sum()
        if all_masked == "zero":  # seqpack's option: 0 and a zero gradient instead of 0/0
            count = torch.where(count == 0, torch.ones_like(count), count)
        return loss.sum() / count
    if reduction == "sum":
        return torch.nansum(loss)
    return loss


def _mean_over_valid(loss, mask, weights, reduction):
    if mask is not None and weights is not None:
        loss = loss * weights * mask.float()
    elif mask is not None:
        loss = loss * mask.float()
    elif weights is not None:
        loss = loss * weights
    if reduction == "mean":
        if mask is not None:
            empty = torch.tensor(0.0, dtype=loss.dtype, device=loss.device)
            return loss.sum() / mask.float().sum() if mask.any() else empty
        return torch.mean(loss)
    if reduction == "sum":
        return torch.sum(loss)
    return loss


def mae(y_pred, target, mask=None, weights=None, reduction="mean"):
    return _mean_over_valid(torch.nn.functional.l1_loss(y_pred, target, reduction="none"), mask, weights, reduction)


def huber(y_pred, target, mask=None, weights=None, reduction="mean", delta=1.0):
    loss = torch.nn.functional.huber_loss(y_pred, target, reduction="none", delta=delta)
    return _mean_over_valid(loss, mask, weights, reduction)


def _mean_over_all(diff, mask, weights, reduction):
    if mask is not None and weights is not None:
        diff *= weights * mask.float()
    elif mask is not None:
        diff *= mask.float()
    elif weights is not None:
        diff *= weights
    if reduction == "mean":
        return diff.mean()
    if reduction == "sum":
        return diff.sum()
    return diff


def mape(y_pred, target, mask=None, weights=None, reduction="mean"):
    return _mean_over_all(torch.abs((target - y_pred) / target), mask, weights, reduction)


def smape(y_pred, target, mask=None, weights=None, reduction="mean"):
    diff = 2 * torch.abs(y_pred - target) / (torch.abs(target) + torch.abs(y_pred))
    return _mean_over_all(diff, mask, weights, reduction)


def quantile(y_pred, target, mask=None, weights=None, quantiles=None):
    levels = torch.tensor(sorted(quantiles if quantiles is not None else DEFAULT_QUANTILES),
                          device=y_pred.device)  # float32
    n = len(levels)
    if mask is not None and weights is not None:
        weights = weights * mask.float()
    elif mask is not None:
        weights = mask.float()
    elif weights is None:
        weights = 1.0
    if target.ndim <= 2:
        target = target.unsqueeze(-1)
    if isinstance(weights, torch.Tensor) and weights.dim() > 0:
        if weights.ndim == y_pred.ndim - 1:
            weights = weights.unsqueeze(-1).expand(*weights.shape, n)
        elif weights.ndim == y_pred.ndim and weights.shape[-1] == 1:
            weights = weights.expand(*weights.shape[:-1], n)
        # weights ending in n_quantiles: used as they are (the original means to, but einops refuses)
    error = (target.expand(*target.shape[:-1], n) - y_pred) * weights
    loss = torch.max((levels - 1) * error, levels * error)
    return torch.sum(loss, dim=1).mean()


LOSSES = {"loss.mse": mse, "loss.mae": mae, "loss.huber": huber, "loss.mape": mape, "loss.smape": smape,
          "loss.quantile": quantile}

TORCH_CRITERIA = {
    "torch.nn.MSELoss": lambda reduction="mean": torch.nn.MSELoss(reduction=reduction),
    "torch.nn.L1Loss": lambda reduction="mean": torch.nn.L1Loss(reduction=reduction),
    "torch.nn.HuberLoss": lambda reduction="mean", delta=1.0: torch.nn.HuberLoss(reduction=reduction, delta=delta),
    "torch.nn.SmoothL1Loss": lambda reduction="mean", beta=1.0: torch.nn.SmoothL1Loss(reduction=reduction, beta=beta),
}
OWN_CRITERIA = {"MSELoss": mse, "MAELoss": mae, "L1Loss": mae, "HuberLoss": huber, "MAPELoss": mape,
                "SMAPELoss": smape, "QuantileLoss": quantile}


def calc_loss(y_pred, target, decoder_lengths=None, criterion="MSELoss", use_loss_masking=True, **kwargs):
    """The original's calc_loss for a model whose criterion is `criterion` built with `kwargs`."""
    if y_pred.dim() == target.dim() - 1:
        target = target.squeeze(-1)
    mask = None
    if use_loss_masking and decoder_lengths is not None:
        if decoder_lengths.dim() == 2 and decoder_lengths.shape[1] == 1:
            decoder_lengths = decoder_lengths.squeeze(-1)
        steps = torch.arange(target.shape[1], device=decoder_lengths.device).unsqueeze(0)
        mask = steps < decoder_lengths.unsqueeze(-1)  # create_mask(T, lengths, "left", inverse=True)
        if target.dim() > 2 and mask.dim() == 2:
            while mask.dim() < target.dim():
                mask = mask.unsqueeze(-1)
            if mask.shape[-1] == 1 and target.shape[-1] > 1:
                mask = mask.expand_as(target)
    if criterion in OWN_CRITERIA:
        return OWN_CRITERIA[criterion](y_pred, target, mask=mask, **kwargs)
    loss = TORCH_CRITERIA[criterion](**kwargs)(y_pred, target)
    if mask is not None and loss.dim() > 0:
        masked = loss * mask.float()
        empty = torch.tensor(0.0, dtype=loss.dtype, device=loss.device)
        return masked.sum() / mask.float().sum() if mask.any() else empty
    return loss


def with_gradient(fn, y_pred, *args, **kwargs):
    """(loss, d loss.sum() / d y_pred); a loss without a graph has zero gradient."""
    leaf = y_pred.detach().clone().requires_grad_(True)
    loss = fn(leaf, *args, **kwargs)
    if loss.requires_grad:
        loss.sum().backward()
        return loss.detach(), leaf.grad
    return loss.detach(), torch.zeros_like(leaf)
