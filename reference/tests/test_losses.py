"""losses.py: the masked losses and calc_loss on examples small enough to work out by hand, and
the original's behaviours that the reference keeps on purpose."""
import math

import pytest
import torch

from seqpack_reference import losses


def steps(*rows):
    """(B, T, 1) float64."""
    return torch.tensor(rows, dtype=torch.float64).unsqueeze(-1)


def test_masked_mse_divides_by_the_valid_steps():
    # Squared errors 1, 4, 9, 16; the last is masked: (1 + 4 + 9) / 3.
    mask = steps([1, 1], [1, 0])
    loss = losses.mse(steps([1, 2], [3, 4]), steps([0, 0], [0, 0]), mask=mask)
    assert loss.item() == pytest.approx(14 / 3, abs=1e-15)


def test_mse_of_an_all_masked_batch_is_nan_unless_asked_for_zero():
    y, target, mask = steps([1, 2]), steps([0, 0]), steps([0, 0])
    assert math.isnan(losses.mse(y, target, mask=mask).item())  # the original's 0 / 0
    assert losses.mse(y, target, mask=mask, all_masked="zero").item() == 0.0


def test_mse_smoothness_applies_only_with_a_mask():
    y, target = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    # Without a mask or weights: the plain mean (1 + 4 + 16) / 3 = 7, the regularisation ignored.
    assert losses.mse(y, target, regularization=0.5).item() == pytest.approx(7.0)
    # With one: squared errors [1, 4, 16], first differences [3, 12], squared and summed 153;
    # each element gains 0.5 * 153 = 76.5: [77.5, 80.5, 92.5], mean over 3 valid steps 83.5.
    loss = losses.mse(y, target, mask=torch.ones(3, dtype=torch.float64), regularization=0.5)
    assert loss.item() == pytest.approx(83.5, abs=1e-12)


def test_quantile_loss_on_two_steps():
    # One row, steps (t=1: predictions 0 and 3), (t=2: 2 and 2.5), levels 0.1 and 0.9.
    # Errors target - prediction: column 0: 1, 0; column 1: -2, -0.5.
    # Pinball max((q - 1) e, q e): column 0: 0.1 * 1 + 0 = 0.1; column 1: 0.1 * 2 + 0.1 * 0.5 = 0.25.
    # Summed over time, then the mean over (row, quantile): (0.1 + 0.25) / 2 = 0.175.
    # The original holds the levels in float32: 0.1 is 0.10000000149011612 and 0.9 - 1 is
    # -0.10000002384185791, so column 0 gives 0.10000000149011612 and column 1
    # 0.10000002384185791 * (2 + 0.5) = 0.25000005960464478, even for float64 inputs.
    y_pred = torch.tensor([[[0.0, 3.0], [2.0, 2.5]]], dtype=torch.float64)
    target = steps([1, 2])
    loss = losses.quantile(y_pred, target, quantiles=[0.1, 0.9])
    assert loss.item() == pytest.approx(0.175, abs=1e-7)
    assert loss.item() == pytest.approx((0.10000000149011612 + 0.25000005960464478) / 2, abs=1e-15)
    assert loss.item() != pytest.approx(0.175, abs=1e-12)  # the float32 levels show


def test_quantile_levels_are_sorted_first():
    y_pred = torch.tensor([[[0.0, 3.0], [2.0, 2.5]]], dtype=torch.float64)
    target = steps([1, 2])
    assert losses.quantile(y_pred, target, quantiles=[0.9, 0.1]).item() == \
        losses.quantile(y_pred, target, quantiles=[0.1, 0.9]).item()


def test_mape_divides_by_every_element_even_masked():
    # |t - p| / t = [1, 1]; the second is masked to 0, and the mean is over both elements: 0.5
    # (a mean over the valid steps would give 1).
    loss = losses.mape(steps([2, 4]), steps([1, 2]), mask=steps([1, 0]))
    assert loss.item() == pytest.approx(0.5)


def test_calc_loss_masks_its_own_mse_but_never_torch_nn_mseloss():
    y_pred, target, lengths = steps([1, 3]), steps([0, 0]), torch.tensor([1])
    # Decoder length 1: the mask keeps step 0 only, (1) / 1.
    assert losses.calc_loss(y_pred, target, lengths, criterion="MSELoss").item() == pytest.approx(1.0)
    # torch.nn.MSELoss reduces to a scalar first, so the mask never applies: (1 + 9) / 2.
    assert losses.calc_loss(y_pred, target, lengths, criterion="torch.nn.MSELoss").item() == pytest.approx(5.0)


def test_calc_loss_without_masking_uses_every_step():
    y_pred, target = steps([1, 3]), steps([0, 0])
    loss = losses.calc_loss(y_pred, target, torch.tensor([1]), criterion="MSELoss", use_loss_masking=False)
    assert loss.item() == pytest.approx(5.0)


def test_mae_of_an_all_masked_batch_is_zero():
    loss = losses.mae(steps([1, 2]), steps([0, 0]), mask=steps([0, 0]))
    assert loss.item() == 0.0
