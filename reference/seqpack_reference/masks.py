"""transformertf's padding and attention masks (models/_base_transformer.py at 8842cb8), restated.

Built element by element from the definitions, as the plain side that seqpack is checked against.
Lengths of shape (B, 1) are flattened first: seqpack's create_mask returns (B, size) for them (the
original returns (B, 1, size)).
"""
from __future__ import annotations

import torch


def _lengths(lengths: torch.Tensor) -> list[int]:
    return [int(v) for v in lengths.reshape(-1).tolist()]


def create_mask(size: int, lengths: torch.Tensor, alignment: str = "left", inverse: bool = False) -> torch.Tensor:
    """bool (B, size): true at padding (or, with inverse, at the valid steps)."""
    if alignment not in ("left", "right"):
        raise ValueError(f"alignment must be 'left' or 'right', got '{alignment}'")
    rows = _lengths(lengths)
    mask = torch.zeros(len(rows), size, dtype=torch.bool)
    for i, length in enumerate(rows):
        for j in range(size):
            padded = j >= length if alignment == "left" else j < size - length
            mask[i, j] = padded != inverse
    return mask


def get_attention_mask(encoder_lengths, decoder_lengths, max_encoder_length, max_decoder_length,
                       causal_attention=True, encoder_alignment="left", decoder_alignment="left"):
    """bool (B, Td, Te + Td): true where decoder step i may not attend that column."""
    encoder = create_mask(max_encoder_length, encoder_lengths, encoder_alignment)
    decoder = create_mask(max_decoder_length, decoder_lengths, decoder_alignment)
    batch = encoder.shape[0]
    mask = torch.zeros(batch, max_decoder_length, max_encoder_length + max_decoder_length, dtype=torch.bool)
    for b in range(batch):
        for i in range(max_decoder_length):
            mask[b, i, :max_encoder_length] = encoder[b]
            for j in range(max_decoder_length):
                # causal: a step may attend only the steps before it (not itself)
                mask[b, i, max_encoder_length + j] = j >= i if causal_attention else decoder[b, j]
    return mask
