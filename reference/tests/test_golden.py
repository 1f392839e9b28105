"""golden.py's comparison, the one the freshness check and the CLI checks share."""
import pytest
import torch

from seqpack_reference.golden import case_differences, differences

NAN = float("nan")


def test_equal_tensors_and_nan_where_nan_is_expected_agree():
    want = {"x": torch.tensor([1.0, NAN], dtype=torch.float64), "n": torch.tensor([3])}
    assert differences(want, {"x": torch.tensor([1.0, NAN], dtype=torch.float64), "n": torch.tensor([3])}) == []


def test_values_beyond_the_tolerance_differ_and_within_it_agree():
    want = {"x": torch.tensor([1.0], dtype=torch.float64)}
    got = {"x": torch.tensor([1.0 + 1e-9], dtype=torch.float64)}
    assert differences(want, got, rtol=0.0, atol=1e-8) == []
    found = differences(want, got, rtol=0.0, atol=1e-10)
    assert len(found) == 1 and found[0].startswith("x: values differ")


def test_a_number_where_nan_is_expected_differs():
    assert differences({"x": torch.tensor([NAN])}, {"x": torch.tensor([0.0])}, atol=1.0) != []


def test_dtype_shape_and_names_must_match():
    want = {"x": torch.zeros(2, dtype=torch.float64)}
    assert differences(want, {"x": torch.zeros(2, dtype=torch.float32)}, atol=1.0) == \
        ["x: dtype float64 expected, got float32"]
    assert differences(want, {"x": torch.zeros(3, dtype=torch.float64)}) == ["x: shape [2] expected, got [3]"]
    assert differences(want, {"y": torch.zeros(2, dtype=torch.float64)}) != []
    assert differences({"n": torch.tensor([1, 2])}, {"n": torch.tensor([1, 3])}, atol=5.0) == ["n: values differ"]


def test_packs_of_tied_lengths_compare_by_meaning():
    # Rows [1, 2] and [3, 4], both of length 2, packed in either order unpack to the same batch.
    first = {"data": torch.tensor([1.0, 3.0, 2.0, 4.0]), "batch_sizes": torch.tensor([2, 2]),
             "sorted_indices": torch.tensor([0, 1]), "unsorted_indices": torch.tensor([0, 1])}
    second = {"data": torch.tensor([3.0, 1.0, 4.0, 2.0]), "batch_sizes": torch.tensor([2, 2]),
              "sorted_indices": torch.tensor([1, 0]), "unsorted_indices": torch.tensor([1, 0])}
    meta = {"rtol": 0.0, "atol": 0.0, "compare": "packed_by_meaning"}
    assert case_differences(meta, first, second) == []
    assert case_differences({**meta, "compare": "exact"}, first, second) != []
    wrong = {**second, "data": torch.tensor([3.0, 1.0, 4.0, 5.0])}
    assert case_differences(meta, first, wrong) != []


def test_an_unknown_comparison_is_refused():
    with pytest.raises(ValueError, match="compare"):
        differences({}, {}, compare="roughly")
