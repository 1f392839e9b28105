"""Golden cases for NaN and Inf: what each op does with non-finite values, as PyTorch computes it.

Float data is never refused for being non-finite: the sequence ops move it unchanged, so a NaN or
Inf at a valid step comes out where that step goes and one in the padding is dropped; the losses
propagate it, even from a masked step, because the original masks by multiplying (0 * NaN is NaN)
rather than by selecting. Lengths are different: a NaN or infinite length has no meaning and is
refused, naming the row, as a fractional or negative one is.
"""
from __future__ import annotations

import torch

from .. import losses as loss_ref
from .. import sequence as sequence_ref
from ..golden import Case
from .loss_cases import _calc_loss_case, _loss_case, _signed
from .sequence_cases import _generator, _packed_dict

NAN, INF = float("nan"), float("inf")


def _with(values, index, value):
    out = values.clone()
    out[index] = value
    return out


def _loss_cases():
    out = []
    lengths = [4, 2, 5]
    mask = torch.zeros(3, 5, 1, dtype=torch.bool)
    for row, length in enumerate(lengths):
        mask[row, :length] = True
    for op in ("loss.mse", "loss.mae", "loss.huber", "loss.mape", "loss.smape"):
        short = op.removeprefix("loss.")
        for label, where, value in (("nan_at_valid_step", (0, 1, 0), NAN), ("nan_at_masked_step", (1, 3, 0), NAN),
                                    ("inf_at_masked_step", (1, 4, 0), INF)):
            name = f"nonfinite/{short}_{label}"
            gen = _generator(name)
            y_pred, target = _signed((3, 5, 1), gen), _signed((3, 5, 1), gen)
            out.append(_loss_case(name, op, f"{short}: {label.replace('_', ' ')} propagates as the original's masking",
                                  _with(y_pred, where, value), target, mask, reduction="mean"))
    name = "nonfinite/calc_loss_nan_past_decoder_length"
    gen = _generator(name)
    y_pred, target = _signed((3, 5, 1), gen), _signed((3, 5, 1), gen)
    out.append(_calc_loss_case(name, "calc_loss: a NaN prediction past a row's decoder length still reaches the loss",
                               _with(y_pred, (1, 4, 0), NAN), target, torch.tensor(lengths),
                               criterion="MSELoss", use_loss_masking=True))
    name = "nonfinite/calc_loss_quantile_inf_target"
    gen = _generator(name)
    y_pred, target = _signed((3, 5, 3), gen), _signed((3, 5, 1), gen)
    out.append(_calc_loss_case(name, "calc_loss: an infinite target in the quantile loss gives an infinite loss",
                               y_pred, _with(target, (0, 0, 0), INF), torch.tensor(lengths),
                               criterion="QuantileLoss", use_loss_masking=True, quantiles=[0.1, 0.5, 0.9]))
    return out


def _sequence_cases():
    out = []
    lengths = torch.tensor([3, 5, 1, 4])
    gen = _generator("nonfinite/pack")
    x = torch.randn(4, 5, 2, generator=gen, dtype=torch.float64)
    x = _with(_with(_with(x, (0, 1, 0), NAN), (1, 4, 1), -INF), (2, 3, 0), NAN)  # (2, 3) is padding
    packed = sequence_ref.pack_decoder_sequences(x, lengths, batch_first=True)
    out.append(Case("nonfinite/pack_decoder_moves_nan_and_inf", "pack_decoder_sequences",
                    "NaN and -Inf at valid steps are packed as they are; a NaN in the padding is dropped",
                    {"sequences": x, "lengths": lengths}, {"batch_first": True}, _packed_dict(packed)))
    right = torch.zeros(4, 5, 2, dtype=torch.float64)
    for row, length in enumerate(lengths.tolist()):
        right[row, 5 - length:] = x[row, :length]
    right = _with(right, (3, 0, 1), INF)  # row 3's padding
    aligned = sequence_ref.align_encoder_sequences(right, lengths, source="right", alignment="left")
    out.append(Case("nonfinite/align_right_to_left_keeps_nan", "align_encoder_sequences",
                    "right-aligned rows holding NaN and -Inf move to the left unchanged",
                    {"sequences": right, "lengths": lengths}, {"source": "right", "alignment": "left"},
                    {"aligned": aligned}))
    for label, value in (("nan", NAN), ("inf", INF), ("minus_inf", -INF)):
        bad = torch.tensor([2.0, value, 1.0], dtype=torch.float64)
        out.append(Case(f"nonfinite/create_mask_rejects_{label}_length", "create_mask",
                        f"a {label.replace('_', ' ')} length is refused, naming its row", {"lengths": bad},
                        {"size": 4}, None, error_mentions="row 1"))
    return out


def cases() -> list[Case]:
    return _loss_cases() + _sequence_cases()
