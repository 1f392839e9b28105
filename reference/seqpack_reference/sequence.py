"""transformertf's sequence utilities (utils/sequence.py at 8842cb8), restated row by row.

The loops are deliberate: this is the plain, obviously-correct side that seqpack's vectorised
C++ is checked against. `source="auto"` is the original's guess, flaw included; "left"/"right"
are seqpack's explicit modes.
"""
from __future__ import annotations

import torch
import torch.nn.utils.rnn as rnn_utils


def _int_lengths(lengths: torch.Tensor) -> list[int]:
    return [int(v) for v in lengths.reshape(-1).tolist()]


def _is_zero(x: torch.Tensor) -> bool:
    return bool(torch.allclose(x, torch.zeros_like(x)))


def should_use_packing(lengths: torch.Tensor | None) -> bool:
    if lengths is None or lengths.numel() == 0:
        return False
    lo, hi = lengths.min(), lengths.max()
    if lo == hi:
        return False
    variation = (hi - lo).float() / hi.float()
    return bool(variation > 0.1 or lengths.numel() >= 8)


def guessed_right_aligned(row: torch.Tensor, length: int) -> bool:
    """The original's guess: L < T and the first T-L steps are all (allclose) zero."""
    steps = row.shape[0]
    return length < steps and _is_zero(row[: steps - length])


def align_encoder_sequences(sequences, lengths, max_length=None, alignment="right", source="auto"):
    if alignment not in ("left", "right"):
        raise ValueError(f"alignment must be left or right, got {alignment}")
    steps = sequences.shape[1]
    end = max_length or steps
    aligned = torch.zeros_like(sequences)
    for i, length in enumerate(_int_lengths(lengths)):
        if length <= 0:
            continue
        row = sequences[i]
        if source == "auto":
            right = guessed_right_aligned(row, length)
            if alignment == "right":
                if right or end - length <= 0:
                    aligned[i] = row
                else:
                    # The original writes into [end-L, end) of a T-long row: a shape error past T.
                    if end > steps:
                        raise RuntimeError(f"max_length {end} exceeds T = {steps} for left-aligned row {i}")
                    aligned[i, end - length : end] = row[:length]
            else:
                start = steps - length if right else 0
                aligned[i, :length] = row[start : start + length]
        else:
            start = steps - length if source == "right" else 0
            data = row[start : start + length]
            if alignment == "left":
                aligned[i, :length] = data
            else:
                if end > steps or length > end:
                    raise ValueError(f"max_length {end} must lie in [L, T] for row {i}")
                aligned[i, end - length : end] = data
    return aligned


def validate_encoder_alignment(encoder_input, lengths, expected_alignment):
    if lengths is None:
        return
    steps = encoder_input.shape[1]
    for i, length in enumerate(_int_lengths(lengths)):
        if length >= steps:
            continue
        row = encoder_input[i]
        if expected_alignment == "left" and not _is_zero(row[length:]):
            raise ValueError(f"Expected left alignment but found non-zero values at the end of row {i}")
        if expected_alignment == "right" and not _is_zero(row[: steps - length]):
            raise ValueError(f"Expected right alignment but found non-zero values at the beginning of row {i}")


def _check_pack_lengths(sequences, lengths, batch_first):
    # PyTorch builds a corrupt pack for L > T (pytorch#144207); seqpack's policy refuses it.
    steps = sequences.shape[1 if batch_first else 0]
    for i, length in enumerate(_int_lengths(lengths)):
        if length > steps:
            raise ValueError(f"lengths: row {i} has length {length} > T = {steps}")


def pack_decoder_sequences(sequences, lengths, batch_first=True, enforce_sorted=False):
    _check_pack_lengths(sequences, lengths, batch_first)
    return rnn_utils.pack_padded_sequence(
        sequences, lengths.reshape(-1).cpu().long(), batch_first=batch_first, enforce_sorted=enforce_sorted
    )


def pack_encoder_sequences(sequences, lengths, align_first=True, batch_first=True, enforce_sorted=False,
                           source="auto"):
    if align_first:
        # The original aligns as if batch-first whatever batch_first says; the evident intent is
        # to align each row, so a time-major batch is aligned through its transpose.
        batch_major = sequences if batch_first else sequences.transpose(0, 1)
        aligned = align_encoder_sequences(batch_major, lengths, alignment="left", source=source)
        sequences = aligned if batch_first else aligned.transpose(0, 1)
    return pack_decoder_sequences(sequences, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)


def unpack_to_fixed_length(packed, batch_first=True, total_length=None):
    return rnn_utils.pad_packed_sequence(packed, batch_first=batch_first, total_length=total_length)
