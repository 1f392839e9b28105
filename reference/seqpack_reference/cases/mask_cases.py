"""Golden cases for create_mask and get_attention_mask."""
from __future__ import annotations

import torch

from .. import masks as ref
from ..golden import Case
from .sequence_cases import _generator


def _lengths(values, dtype, column=False):
    t = torch.tensor(values, dtype=dtype)
    return t.reshape(-1, 1) if column else t


def _create_mask_cases():
    out = []
    batches = {
        "varied": ([3, 0, 5, 1], 5),
        "full_and_empty": ([6, 0, 6], 6),
        "single_row": ([2], 4),
        "size_one": ([1, 0, 1], 1),
        "size_zero": ([0, 0], 0),
        "random": (None, 12),
    }
    for label, (values, size) in batches.items():
        if values is None:
            values = [int(v) for v in torch.randint(0, size + 1, (9,), generator=_generator("mask/" + label))]
        for alignment in ("left", "right"):
            for inverse in (False, True):
                for dtype_name, dtype, column in (("i64", torch.int64, False), ("f32col", torch.float32, True)):
                    lengths = _lengths(values, dtype, column)
                    out.append(Case(
                        f"create_mask/{label}_{alignment}{'_inverse' if inverse else ''}_{dtype_name}", "create_mask",
                        f"{alignment} {'valid-step' if inverse else 'padding'} mask of size {size} for lengths "
                        f"{values} given as {dtype_name}",
                        {"lengths": lengths}, {"size": size, "alignment": alignment, "inverse": inverse},
                        expected={"mask": ref.create_mask(size, lengths, alignment, inverse)}))
    errors = [
        ("rejects_length_above_size", [2, 6], {"size": 5}, "row 1"),
        ("rejects_negative_length", [2, -1], {"size": 5}, "negative"),
        ("rejects_fractional_length", [2.5, 1.0], {"size": 5}, "whole numbers"),
        ("rejects_unknown_alignment", [2, 1], {"size": 5, "alignment": "centre"}, "params.alignment"),
        ("rejects_negative_size", [0], {"size": -1}, "size"),
        ("rejects_missing_size", [1], {}, "params.size"),
    ]
    for name, values, params, mention in errors:
        out.append(Case(f"create_mask/{name}", "create_mask", f"bad input is rejected ({name})",
                        {"lengths": torch.tensor(values)}, params, error_mentions=mention))
    return out


def _attention_mask_cases():
    out = []
    shapes = {
        "small": ([3, 1, 4], [2, 3, 1], 4, 3),
        "single_row": ([2], [1], 3, 2),
        "one_step_each": ([1, 0], [1, 1], 1, 1),
        "random": (None, None, 10, 6),
    }
    for label, (enc, dec, te, td) in shapes.items():
        if enc is None:
            gen = _generator("attention/" + label)
            enc = [int(v) for v in torch.randint(0, te + 1, (5,), generator=gen)]
            dec = [int(v) for v in torch.randint(1, td + 1, (5,), generator=gen)]
        for causal in (True, False):
            for enc_align in ("left", "right"):
                for dec_align in ("left", "right"):
                    if causal and dec_align == "right" and label != "small":
                        continue  # a causal mask ignores the decoder's alignment; one case shows it
                    params = {"max_encoder_length": te, "max_decoder_length": td, "causal_attention": causal,
                              "encoder_alignment": enc_align, "decoder_alignment": dec_align}
                    enc_t, dec_t = torch.tensor(enc), torch.tensor(dec, dtype=torch.float32).reshape(-1, 1)
                    mask = ref.get_attention_mask(enc_t, dec_t, te, td, causal, enc_align, dec_align)
                    out.append(Case(
                        f"attention_mask/{label}_{'causal' if causal else 'full'}_enc_{enc_align}_dec_{dec_align}",
                        "get_attention_mask",
                        f"{'causal' if causal else 'non-causal'} attention mask, encoder {enc_align} {enc} of {te}, "
                        f"decoder {dec_align} {dec} of {td}",
                        {"encoder_lengths": enc_t, "decoder_lengths": dec_t}, params, expected={"mask": mask}))
    base = {"max_encoder_length": 4, "max_decoder_length": 3}
    errors = [
        ("rejects_batch_mismatch", [3, 1], [2], base, "decoder_lengths"),
        ("rejects_encoder_length_above_max", [5, 1], [2, 2], base, "encoder_lengths"),
        ("rejects_decoder_length_above_max", [3, 1], [2, 4], base, "decoder_lengths"),
        ("rejects_unknown_alignment", [3, 1], [2, 2], {**base, "encoder_alignment": "middle"}, "encoder_alignment"),
        ("rejects_missing_max_length", [3, 1], [2, 2], {"max_encoder_length": 4}, "max_decoder_length"),
    ]
    for name, enc, dec, params, mention in errors:
        out.append(Case(f"attention_mask/{name}", "get_attention_mask", f"bad input is rejected ({name})",
                        {"encoder_lengths": torch.tensor(enc), "decoder_lengths": torch.tensor(dec)}, params,
                        error_mentions=mention))
    return out


def cases():
    return _create_mask_cases() + _attention_mask_cases()
