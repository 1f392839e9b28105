"""Golden cases for the masked losses and calc_loss: float64, the loss and its gradient."""
from __future__ import annotations

import torch

from .. import losses as ref
from ..golden import Case
from .sequence_cases import _generator

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _signed(shape, gen, low=0.5):
    """Values away from zero (MAPE divides by the target)."""
    magnitude = torch.rand(shape, generator=gen, dtype=torch.float64) + low
    return magnitude * (torch.randint(0, 2, shape, generator=gen) * 2 - 1)


def _step_mask(shape, valid, gen):
    """bool mask over (B, T, ...): `valid` is all / none / one / random."""
    if valid == "all":
        return torch.ones(shape, dtype=torch.bool)
    if valid == "none":
        return torch.zeros(shape, dtype=torch.bool)
    mask = torch.zeros(shape, dtype=torch.bool)
    if valid == "one":
        mask.view(-1)[int(torch.randint(0, mask.numel(), (1,), generator=gen))] = True
        return mask
    lengths = torch.randint(1, shape[1] + 1, (shape[0],), generator=gen)
    for i, length in enumerate(lengths.tolist()):
        mask[i, :length] = True
    return mask


def _loss_case(name, op, checks, y_pred, target, mask=None, weights=None, **params):
    fn = ref.LOSSES[op]
    loss, grad = ref.with_gradient(fn, y_pred, target, mask=mask, weights=weights, **params)
    inputs = {"y_pred": y_pred, "target": target}
    if mask is not None:
        inputs["mask"] = mask
    if weights is not None:
        inputs["weights"] = weights
    return Case(name, op, checks, inputs, params, expected={"loss": loss, "grad.y_pred": grad}, backward=True, **TOL)


SCENARIOS = {  # mask validity, with weights
    "plain": (None, False),
    "none_masked": ("all", False),
    "all_masked": ("none", False),
    "one_valid_step": ("one", False),
    "random_mask": ("random", False),
    "weights_only": (None, True),
    "weights_and_mask": ("random", True),
}


def _pointwise_cases():
    out = []
    for op in ("loss.mse", "loss.mae", "loss.huber", "loss.mape", "loss.smape"):
        short = op.removeprefix("loss.")
        for scenario, (valid, weighted) in SCENARIOS.items():
            for reduction in ("mean", "sum", "none"):
                name = f"{short}/{scenario}_{reduction}"
                gen = _generator(name)
                shape = (3, 5, 1) if reduction != "sum" else (4, 6)
                y_pred, target = _signed(shape, gen), _signed(shape, gen)
                mask = _step_mask(shape, valid, gen) if valid else None
                weights = torch.rand(shape[:2], generator=gen, dtype=torch.float64) + 0.25 if weighted else None
                if weights is not None and op != "loss.mse":
                    weights = weights.reshape(shape)  # only MSE gives weights trailing dims itself
                out.append(_loss_case(name, op, f"{short}, {scenario.replace('_', ' ')}, reduction {reduction}",
                                      y_pred, target, mask, weights, reduction=reduction))
    # A NaN prediction at a masked step: the masked error is NaN * 0 = NaN, which the sum (a nansum in
    # the original) skips.
    gen = _generator("mse/nan_at_a_masked_step_sum")
    y_pred, target = _signed((4, 6), gen), _signed((4, 6), gen)
    mask = torch.ones(4, 6, dtype=torch.float64)
    mask[1, 4:] = 0
    y_pred[1, 5] = float("nan")
    out.append(_loss_case("mse/nan_at_a_masked_step_sum", "loss.mse",
                          "mse, reduction sum: a NaN prediction at a masked step is skipped (nansum)", y_pred, target,
                          mask, None, reduction="sum"))
    # sizes from 1 up, several features, and a float mask with partial weights
    for op in ("loss.mse", "loss.mae", "loss.huber", "loss.mape", "loss.smape"):
        short = op.removeprefix("loss.")
        for label, shape in (("size_1", (1, 1, 1)), ("features_3", (2, 4, 3)), ("long", (2, 33, 1))):
            gen = _generator(f"{short}/{label}")
            y_pred, target = _signed(shape, gen), _signed(shape, gen)
            mask = _step_mask(shape, "random", gen)
            out.append(_loss_case(f"{short}/{label}", op, f"{short} on shape {shape} with a random mask",
                                  y_pred, target, mask))
        gen = _generator(f"{short}/float_mask")
        y_pred, target = _signed((3, 4, 1), gen), _signed((3, 4, 1), gen)
        mask = torch.rand((3, 4, 1), generator=gen, dtype=torch.float64).round(decimals=1)
        out.append(_loss_case(f"{short}/float_mask", op, f"{short} with a fractional float64 mask", y_pred, target, mask))
    for delta in (0.25, 3.0):
        gen = _generator(f"huber/delta_{delta}")
        y_pred, target = _signed((3, 6, 1), gen, low=0.0) * 2, _signed((3, 6, 1), gen, low=0.0) * 2
        out.append(_loss_case(f"huber/delta_{delta}", "loss.huber", f"Huber with delta {delta}", y_pred, target,
                              _step_mask((3, 6, 1), "random", gen), delta=delta))
    return out


def _mse_extra_cases():
    out = []
    for order in (1, 2, 3):
        for label, shape, dim in (("dim0", (5, 4, 1), 0), ("dim1_square", (4, 4), 1), ("dim1_batch1", (1, 6), 1)):
            name = f"mse/regularization_order{order}_{label}"
            gen = _generator(name)
            y_pred, target = _signed(shape, gen), _signed(shape, gen)
            mask = _step_mask(shape, "random", gen)
            out.append(_loss_case(name, "loss.mse", f"smoothness term of order {order} along dim {dim}, shape {shape}",
                                  y_pred, target, mask, regularization=0.3, regularization_order=order,
                                  regularization_dim=dim))
    gen = _generator("mse/regularization_without_mask")
    y_pred, target = _signed((4, 3, 1), gen), _signed((4, 3, 1), gen)
    out.append(_loss_case("mse/regularization_ignored_without_mask", "loss.mse",
                          "without mask or weights the original skips the smoothness term", y_pred, target,
                          regularization=0.5))
    gen = _generator("mse/regularization_weights")
    y_pred, target = _signed((4, 3, 1), gen), _signed((4, 3, 1), gen)
    out.append(_loss_case("mse/regularization_with_weights", "loss.mse", "smoothness term with weights only",
                          y_pred, target, weights=torch.rand((4, 3), generator=gen, dtype=torch.float64),
                          regularization=0.2, regularization_order=2))
    for valid in ("none", "random"):
        gen = _generator(f"mse/all_masked_zero_{valid}")
        y_pred, target = _signed((3, 4, 1), gen), _signed((3, 4, 1), gen)
        out.append(_loss_case(f"mse/all_masked_option_zero_{valid}", "loss.mse",
                              f"all_masked='zero' with mask {valid}: 0 and zero gradient when nothing is valid, "
                              "the original's value otherwise",
                              y_pred, target, _step_mask((3, 4, 1), valid, gen), all_masked="zero"))
    gen = _generator("mse/target_reshaped")
    y_pred = _signed((3, 4, 1), gen)
    out.append(_loss_case("mse/target_viewed_as_prediction", "loss.mse",
                          "a (B, T) target is viewed as the (B, T, 1) prediction", y_pred, _signed((3, 4), gen),
                          _step_mask((3, 4, 1), "random", gen)))
    return out


def _quantile_cases():
    out = []
    seven = ref.DEFAULT_QUANTILES
    specs = [  # name, quantiles, target rank, weights kind, mask validity[, y_pred's last dim if not n_quantiles]
        ("default_plain", None, 3, None, None),
        ("default_target_2d", None, 2, None, None),
        ("default_mask", None, 3, None, "random"),
        ("default_all_masked", None, 3, None, "none"),
        ("default_one_valid", None, 2, None, "one"),
        ("default_weights_bt", None, 2, "bt", None),
        ("default_weights_bt1", None, 3, "bt1", None),
        ("default_weights_btq", None, 3, "btq", None),
        ("default_weights_scalar", None, 3, "scalar", None),
        ("default_weights_and_mask", None, 3, "bt1", "random"),
        ("median_only", [0.5], 3, None, "random"),
        ("one_quantile_weights", [0.9], 2, "bt", "random"),
        ("unsorted_custom", [0.9, 0.1, 0.5], 3, None, "random"),
        ("extremes", [0.0, 1.0], 3, "bt1", None),
        ("seven_unsorted", list(reversed(seven)), 2, "bt", "random"),
        # The original broadcasts y_pred's last dim m against n quantiles: n = 1 scores m columns at
        # one quantile, m = 1 scores one column at n quantiles.
        ("one_quantile_over_7_columns", [0.5], 2, None, None, 7),
        ("one_quantile_over_7_columns_mask", [0.5], 2, None, "random", 7),
        ("one_quantile_over_7_columns_weights_and_mask", [0.25], 3, "bt1", "random", 7),
        ("seven_quantiles_one_column_mask", None, 2, "bt", "random", 1),
    ]
    for name, quantiles, target_rank, weights_kind, valid, *columns in specs:
        full = f"quantile/{name}"
        gen = _generator(full)
        q = len(quantiles) if quantiles else 7
        batch, steps = 3, 5
        y_pred = _signed((batch, steps, columns[0] if columns else q), gen)
        target = _signed((batch, steps, 1) if target_rank == 3 else (batch, steps), gen)
        mask_shape = target.shape
        mask = _step_mask(mask_shape, valid, gen) if valid else None
        weights = {
            None: None,
            "bt": torch.rand((batch, steps), generator=gen, dtype=torch.float64),
            "bt1": torch.rand((batch, steps, 1), generator=gen, dtype=torch.float64),
            "btq": torch.rand((batch, steps, q), generator=gen, dtype=torch.float64),
            "scalar": torch.tensor(0.7, dtype=torch.float64),
        }[weights_kind]
        params = {} if quantiles is None else {"quantiles": quantiles}
        out.append(_loss_case(full, "loss.quantile",
                              f"quantile loss, {q} quantiles {quantiles or 'default'}, y_pred {list(y_pred.shape)}, "
                              f"target rank {target_rank}, weights {weights_kind}, mask {valid}", y_pred, target, mask,
                              weights, **params))
    # What the original refuses: a last dim that broadcasts with neither n_quantiles nor 1 (torch
    # fails), and per-column weights for one quantile spread over columns (the original's check).
    y, t = torch.ones(2, 3, 2, dtype=torch.float64), torch.full((2, 3), 2.0, dtype=torch.float64)
    out.append(Case("quantile/rejects_columns_that_do_not_broadcast", "loss.quantile",
                    "y_pred ending in 2 columns cannot be scored at 3 quantiles",
                    {"y_pred": y, "target": t}, {"quantiles": [0.1, 0.5, 0.9]}, error_mentions="n_quantiles = 3",
                    backward=True))
    y = torch.ones(2, 3, 7, dtype=torch.float64)
    out.append(Case("quantile/rejects_column_weights_for_one_quantile", "loss.quantile",
                    "one quantile over 7 columns takes weights ending in 1, not 7",
                    {"y_pred": y, "target": t, "weights": torch.ones(2, 3, 7, dtype=torch.float64)},
                    {"quantiles": [0.5]}, error_mentions="weights", backward=True))
    return out


def _calc_loss_case(name, checks, y_pred, target, decoder_lengths, **params):
    loss, grad = ref.with_gradient(ref.calc_loss, y_pred, target, decoder_lengths, **params)
    inputs = {"y_pred": y_pred, "target": target}
    if decoder_lengths is not None:
        inputs["decoder_lengths"] = decoder_lengths
    return Case(name, "calc_loss", checks, inputs, params, expected={"loss": loss, "grad.y_pred": grad},
                backward=True, **TOL)


def _calc_loss_cases():
    out = []
    criteria = [
        ("MSELoss", {}, 1), ("MAELoss", {}, 1), ("HuberLoss", {"delta": 0.5}, 1), ("MAPELoss", {}, 1),
        ("SMAPELoss", {}, 1), ("QuantileLoss", {}, 7), ("QuantileLoss", {"quantiles": [0.1, 0.5, 0.9]}, 3),
        ("torch.nn.MSELoss", {}, 1), ("torch.nn.MSELoss", {"reduction": "none"}, 1),
        ("torch.nn.L1Loss", {"reduction": "none"}, 1), ("torch.nn.HuberLoss", {"reduction": "none", "delta": 2.0}, 1),
        ("torch.nn.SmoothL1Loss", {"reduction": "none", "beta": 0.5}, 1),
    ]
    for criterion, kwargs, outputs in criteria:
        tag = criterion.replace("torch.nn.", "torch_") + ("_" + "_".join(kwargs) if kwargs else "")
        for masking in (True, False):
            name = f"calc_loss/{tag}_{'masked' if masking else 'unmasked'}"
            gen = _generator(name)
            lengths = torch.tensor([[4], [1], [6], [2]], dtype=torch.float32)
            y_pred = _signed((4, 6, outputs), gen)
            target = _signed((4, 6, 1), gen)
            out.append(_calc_loss_case(name, f"calc_loss with {criterion} {kwargs}, use_loss_masking={masking}",
                                       y_pred, target, lengths, criterion=criterion, use_loss_masking=masking, **kwargs))
    shapes = [  # prediction rank vs target rank, lengths form
        ("squeezed_target", (3, 5), (3, 5, 1), torch.tensor([5, 2, 3])),
        ("target_2d", (3, 5), (3, 5), torch.tensor([[1], [5], [4]])),
        ("features_3", (2, 4, 3), (2, 4, 3), torch.tensor([2.0, 4.0], dtype=torch.float64)),
        ("all_masked", (2, 4, 1), (2, 4, 1), torch.tensor([0, 0])),
        ("no_lengths", (2, 4, 1), (2, 4, 1), None),
        ("batch_1_length_1", (1, 1, 1), (1, 1, 1), torch.tensor([1])),
    ]
    for label, pred_shape, target_shape, lengths in shapes:
        for criterion in ("MSELoss", "torch.nn.L1Loss"):
            name = f"calc_loss/{label}_{criterion.replace('torch.nn.', 'torch_')}"
            gen = _generator(name)
            params = {"criterion": criterion}
            if criterion.startswith("torch"):
                params["reduction"] = "none"
            out.append(_calc_loss_case(name, f"calc_loss shapes: prediction {pred_shape}, target {target_shape}, "
                                       f"lengths {None if lengths is None else lengths.tolist()}, {criterion}",
                                       _signed(pred_shape, gen), _signed(target_shape, gen), lengths, **params))
    gen = _generator("calc_loss/all_masked_zero")
    out.append(_calc_loss_case("calc_loss/all_masked_option_zero", "calc_loss with MSELoss, all_masked='zero'",
                               _signed((2, 3, 1), gen), _signed((2, 3, 1), gen), torch.tensor([0, 0]),
                               criterion="MSELoss", all_masked="zero"))
    return out


def _random_cases():
    out = []
    for index in range(10):
        name = f"random/loss_{index}"
        gen = _generator(name)
        op = list(ref.LOSSES)[index % len(ref.LOSSES)]
        batch, steps = (int(v) for v in torch.randint(1, 9, (2,), generator=gen))
        q = 7 if op == "loss.quantile" else 1
        y_pred, target = _signed((batch, steps, q), gen), _signed((batch, steps, 1), gen)
        mask = _step_mask((batch, steps, 1), "random", gen)
        out.append(_loss_case(name, op, f"random batch {batch}x{steps} for {op}", y_pred, target, mask))
    return out


def _error_cases():
    y, t = torch.ones(2, 3, 1, dtype=torch.float64), torch.full((2, 3, 1), 2.0, dtype=torch.float64)
    out = []
    specs = [
        ("mse_mask_does_not_broadcast", "loss.mse", {"mask": torch.ones(2, 4, 1, dtype=torch.bool)}, {}, "mask"),
        ("mae_weights_do_not_broadcast", "loss.mae", {"weights": torch.ones(2, 1)}, {}, "weights"),
        ("mae_mask_would_grow_the_loss", "loss.mae", {"mask": torch.ones(2, 3, 3, dtype=torch.bool)}, {}, "mask"),
        ("huber_unknown_reduction", "loss.huber", {}, {"reduction": "avg"}, "params.reduction"),
        ("huber_non_positive_delta", "loss.huber", {}, {"delta": 0.0}, "delta"),
        ("smape_target_shape", "loss.smape", {"target": torch.ones(2, 3, dtype=torch.float64)}, {}, "target"),
        ("mse_target_size", "loss.mse", {"target": torch.ones(2, 4, dtype=torch.float64)}, {}, "target"),
        ("mse_regularization_order", "loss.mse", {"mask": torch.ones(2, 3, 1)},
         {"regularization": 0.1, "regularization_order": 4}, "regularization_order"),
        ("mse_regularization_dim_does_not_broadcast", "loss.mse", {"mask": torch.ones(2, 3, 1)},
         {"regularization": 0.1, "regularization_dim": 1}, "regularization_dim"),
        ("mse_unknown_all_masked", "loss.mse", {}, {"all_masked": "maybe"}, "all_masked"),
        ("quantile_dim_mismatch", "loss.quantile", {"y_pred": torch.ones(2, 3, 5, dtype=torch.float64)}, {},
         "n_quantiles"),
        ("quantile_weights_last_dim", "loss.quantile",
         {"y_pred": torch.ones(2, 3, 7, dtype=torch.float64), "weights": torch.ones(2, 3, 4)}, {}, "weights"),
        ("quantile_out_of_range", "loss.quantile", {"y_pred": torch.ones(2, 3, 2, dtype=torch.float64)},
         {"quantiles": [0.5, 1.5]}, "quantiles"),
        ("quantile_empty_list", "loss.quantile", {}, {"quantiles": []}, "quantiles"),
        ("integer_prediction", "loss.mae", {"y_pred": torch.ones(2, 3, 1, dtype=torch.int64)}, {}, "y_pred"),
        ("unknown_parameter", "loss.mae", {}, {"delta": 2.0}, "delta"),
    ]
    for name, op, overrides, params, mention in specs:
        inputs = {"y_pred": y, "target": t, **overrides}
        out.append(Case(f"loss_errors/{name}", op, f"bad input is rejected ({name})", inputs, params,
                        error_mentions=mention, backward=True))
    calc = [
        ("length_above_steps", {"decoder_lengths": torch.tensor([2, 4])}, {"criterion": "MSELoss"}, "row 1"),
        ("length_batch_mismatch", {"decoder_lengths": torch.tensor([2, 2, 2])}, {"criterion": "MSELoss"},
         "decoder_lengths"),
        ("fractional_length", {"decoder_lengths": torch.tensor([1.5, 2.0])}, {"criterion": "MAELoss"}, "whole"),
        ("unknown_criterion", {}, {"criterion": "LogCoshLoss"}, "params.criterion"),
        ("missing_criterion", {}, {}, "params.criterion"),
        ("parameter_of_another_criterion", {}, {"criterion": "MSELoss", "quantiles": [0.5]}, "quantiles"),
    ]
    for name, overrides, params, mention in calc:
        out.append(Case(f"loss_errors/calc_loss_{name}", "calc_loss", f"bad input is rejected ({name})",
                        {"y_pred": y, "target": t, **overrides}, params, error_mentions=mention, backward=True))
    return out


def cases():
    return (_pointwise_cases() + _mse_extra_cases() + _quantile_cases() + _calc_loss_cases() + _random_cases()
            + _error_cases())
