"""create_mask and get_attention_mask from whole-tensor comparisons, for torch.export.

The reference's masks (masks.py) read every length into Python, which torch.export cannot trace
(a data-dependent int per row); these compute the same booleans from the lengths as tensors. The
compiled conformance cases check them: the package's output must match goldens written with the
reference's masks."""
from __future__ import annotations

import torch


def create_mask(size, lengths, alignment="left", inverse=False):
    if alignment not in ("left", "right"):
        raise ValueError(f"alignment must be 'left' or 'right', got '{alignment}'")
    steps = torch.arange(size, device=lengths.device)
    column = lengths.reshape(-1, 1)
    padded = steps >= column if alignment == "left" else steps < size - column
    return padded != inverse


def get_attention_mask(encoder_lengths, decoder_lengths, max_encoder_length, max_decoder_length,
                       causal_attention=True, encoder_alignment="left", decoder_alignment="left"):
    encoder = create_mask(max_encoder_length, encoder_lengths, encoder_alignment)
    batch = encoder.size(0)
    if causal_attention:
        steps = torch.arange(max_decoder_length, device=encoder.device)
        decoder = (steps.unsqueeze(0) >= steps.unsqueeze(1)).expand(batch, -1, -1)  # [i, j]: j >= i
    else:
        decoder = create_mask(max_decoder_length, decoder_lengths, decoder_alignment)
        decoder = decoder.unsqueeze(1).expand(-1, max_decoder_length, -1)
    encoder = encoder.unsqueeze(1).expand(-1, max_decoder_length, -1)
    return torch.cat([encoder, decoder], dim=2)
