"""masks.py: padding masks and the attention mask, by hand."""
import torch

from seqpack_reference import masks

T, F = True, False


def test_create_mask_marks_the_padding():
    lengths = torch.tensor([1, 3])
    assert masks.create_mask(4, lengths).tolist() == [[F, T, T, T], [F, F, F, T]]
    assert masks.create_mask(4, lengths, alignment="right").tolist() == [[T, T, T, F], [T, F, F, F]]
    assert masks.create_mask(4, lengths, inverse=True).tolist() == [[T, F, F, F], [T, T, T, F]]


def test_create_mask_gives_b_by_size_for_column_lengths():
    # seqpack's choice: (B, 1) lengths give (B, size), as (B,) ones do (the original: (B, 1, size)).
    assert masks.create_mask(3, torch.tensor([[2], [0]])).tolist() == [[F, F, T], [T, T, T]]


def test_causal_attention_mask_hides_the_step_itself():
    # Encoder length 2 of 3: column 2 is padding. Causal, as the original: decoder step i attends
    # decoder steps before i only, so step 0 attends no decoder step and neither step attends itself.
    mask = masks.get_attention_mask(torch.tensor([2]), torch.tensor([2]), 3, 2, causal_attention=True)
    assert mask.tolist() == [[[F, F, T, T, T],
                              [F, F, T, F, T]]]


def test_noncausal_attention_mask_hides_the_decoder_padding():
    mask = masks.get_attention_mask(torch.tensor([3]), torch.tensor([1]), 3, 2, causal_attention=False)
    assert mask.tolist() == [[[F, F, F, F, T],
                              [F, F, F, F, T]]]


def test_right_aligned_encoder_masks_the_leading_steps():
    mask = masks.get_attention_mask(torch.tensor([1]), torch.tensor([1]), 3, 1, causal_attention=False,
                                    encoder_alignment="right")
    assert mask.tolist() == [[[T, T, F, F]]]
