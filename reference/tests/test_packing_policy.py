"""packing_policy.py: the cost model's regressors, by hand."""
import math

from seqpack_reference import packing_policy


def test_packing_policy_features_by_hand():
    # B = 4, T = 7, lengths 7 3 5 1: fill 16 / 28 = 4 / 7, lengths not all equal.
    ln_b, ln_fill = math.log(4), math.log(4 / 7)
    assert packing_policy.features(4, 7, [7, 3, 5, 1]) == [1.0, ln_b, ln_fill, ln_b * ln_fill, 0.0, 0.0]
    # Every row of length 0: the fill is floored at 0.01 so that its log stays finite.
    ln_b, ln_fill = math.log(2), math.log(0.01)
    assert packing_policy.features(2, 5, [0, 0]) == [1.0, ln_b, ln_fill, ln_b * ln_fill, 1.0, ln_b]
