"""sequence.py: alignment, the original's auto guess and its flaw, packing, the packing rule."""
import pytest
import torch

from seqpack_reference import sequence


def column(*rows):
    """(B, T, 1) float64 from rows of numbers."""
    return torch.tensor(rows, dtype=torch.float64).unsqueeze(-1)


def test_align_a_left_aligned_2x4_batch_to_the_right():
    # Rows of length 2 and 3, padding at the end; to the right their real steps end at step 3.
    x = column([1, 2, 0, 0], [3, 4, 5, 0])
    for source in ("left", "auto"):
        out = sequence.align_encoder_sequences(x, torch.tensor([2, 3]), alignment="right", source=source)
        assert torch.equal(out, column([0, 0, 1, 2], [0, 3, 4, 5])), source


def test_align_a_right_aligned_batch_to_the_left():
    x = column([0, 0, 1, 2], [0, 3, 4, 5])
    for source in ("right", "auto"):
        out = sequence.align_encoder_sequences(x, torch.tensor([2, 3]), alignment="left", source=source)
        assert torch.equal(out, column([1, 2, 0, 0], [3, 4, 5, 0])), source


def test_auto_takes_a_left_row_with_leading_zeros_for_right_aligned():
    # The original's flaw: a left-aligned row of length 3 whose first real step is 0 has T - L = 1
    # leading zero, so the guess calls it right-aligned and leaves it where it is; the explicit
    # source moves its three real steps (0, 0, 7) to the end.
    x = column([0, 0, 7, 0])
    lengths = torch.tensor([3])
    flawed = sequence.align_encoder_sequences(x, lengths, alignment="right", source="auto")
    assert torch.equal(flawed, column([0, 0, 7, 0]))
    right = sequence.align_encoder_sequences(x, lengths, alignment="right", source="left")
    assert torch.equal(right, column([0, 0, 0, 7]))


def test_max_length_sets_where_right_aligned_rows_end():
    # Length 2 ending at step max_length = 3: steps 1 and 2.
    out = sequence.align_encoder_sequences(column([1, 2, 0, 0]), torch.tensor([2]), max_length=3,
                                           alignment="right", source="left")
    assert torch.equal(out, column([0, 1, 2, 0]))


def test_rows_of_length_zero_come_out_zero():
    out = sequence.align_encoder_sequences(column([5, 6, 7]), torch.tensor([0]), alignment="right", source="left")
    assert torch.equal(out, column([0, 0, 0]))


def test_validate_encoder_alignment_names_the_row():
    x = column([1, 2, 0, 0], [1, 2, 3, 0])
    sequence.validate_encoder_alignment(x, torch.tensor([2, 3]), "left")
    with pytest.raises(ValueError, match="row 1"):
        sequence.validate_encoder_alignment(x, torch.tensor([2, 2]), "left")
    with pytest.raises(ValueError, match="row 0"):
        sequence.validate_encoder_alignment(x, torch.tensor([2, 3]), "right")


def test_pack_a_tiny_batch_by_hand():
    # Lengths 3, 1, 2: sorted longest first the rows are 0, 2, 1; at step 0 all three are live,
    # at step 1 rows 0 and 2, at step 2 row 0 alone.
    x = column([1, 2, 3], [4, 0, 0], [5, 6, 0])
    packed = sequence.pack_decoder_sequences(x, torch.tensor([3, 1, 2]))
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.data.reshape(-1).tolist() == [1, 5, 4, 2, 6, 3]
    assert packed.sorted_indices.tolist() == [0, 2, 1]
    assert packed.unsorted_indices.tolist() == [0, 2, 1]
    padded, lengths = sequence.unpack_to_fixed_length(packed, total_length=4)
    assert torch.equal(padded, column([1, 2, 3, 0], [4, 0, 0, 0], [5, 6, 0, 0]))
    assert lengths.tolist() == [3, 1, 2]


def test_pack_encoder_aligns_a_right_aligned_batch_first():
    # The same rows as above, right-aligned: aligned to the left they pack as above.
    x = column([1, 2, 3], [0, 0, 4], [0, 5, 6])
    packed = sequence.pack_encoder_sequences(x, torch.tensor([3, 1, 2]))
    assert packed.data.reshape(-1).tolist() == [1, 5, 4, 2, 6, 3]


def test_pack_refuses_a_length_over_t():
    with pytest.raises(ValueError, match="lengths: row 1"):
        sequence.pack_decoder_sequences(column([1, 2], [3, 4]), torch.tensor([2, 3]))


@pytest.mark.parametrize("lengths, packs", [
    (None, False),
    ([10, 10], False),          # all equal: nothing to save
    ([10, 9], False),           # (10 - 9) / 10 = 0.1 is not above 0.1, and 2 rows < 8
    ([10, 8], True),            # (10 - 8) / 10 = 0.2 > 0.1
    ([10] * 7 + [9], True),     # 8 rows with any variation
])
def test_should_use_packing_is_the_original_rule(lengths, packs):
    assert sequence.should_use_packing(None if lengths is None else torch.tensor(lengths)) is packs
