"""Batching, restated sample by sample: transformertf's collate (EncoderDecoderDataModule._collate_impl
at 8842cb8) and length-grouped batches.

`sample_alignment="auto"` follows the original step for step (encoders cut with x[-m:], the batch
length from size(1) when no lengths are given, default_collate, then the row-by-row guess when the
batch is for left alignment). "left"/"right" are seqpack's explicit modes: padding is cut from the
side it is on, short windows are padded with zeros, and the realignment names its source.
"""
from __future__ import annotations

import torch
from torch.utils.data.dataloader import default_collate

from .sequence import align_encoder_sequences

OPTIONAL_PARTS = ("encoder_lengths", "decoder_lengths", "encoder_mask", "decoder_mask")


def _fit(x: torch.Tensor, steps: int, keep_end: bool) -> torch.Tensor:
    """x cut or zero-padded to `steps`, keeping its end or its start."""
    have = x.shape[0]
    if have >= steps:
        return x[have - steps:] if keep_end else x[:steps]
    out = torch.zeros((steps, *x.shape[1:]), dtype=x.dtype)
    if keep_end:
        out[steps - have:] = x
    else:
        out[:have] = x
    return out


def _original_collate(samples, encoder_alignment):
    """The original's _collate_impl, with its align replaced by the reference's guessing one."""
    if all("encoder_lengths" in s for s in samples):
        max_enc_len = int(max(s["encoder_lengths"] for s in samples))
    else:
        max_enc_len = int(samples[0]["encoder_input"].size(1))
    if all("decoder_lengths" in s for s in samples):
        max_tgt_len = int(max(s["decoder_lengths"] for s in samples))
    else:
        max_tgt_len = int(samples[0]["decoder_input"].size(1))
    assert max_tgt_len > 0
    cut = []
    for s in samples:
        c = {"encoder_input": s["encoder_input"][-max_enc_len:], "decoder_input": s["decoder_input"][:max_tgt_len],
             "target": s["target"][:max_tgt_len]}
        for name in ("encoder_lengths", "decoder_lengths"):
            if name in s:
                c[name] = s[name]
        if "encoder_mask" in s:
            c["encoder_mask"] = s["encoder_mask"][-max_enc_len:]
        if "decoder_mask" in s:
            c["decoder_mask"] = s["decoder_mask"][:max_tgt_len]
        cut.append(c)
    batch = default_collate(cut)
    if encoder_alignment == "left" and batch.get("encoder_lengths") is not None:
        lengths = batch["encoder_lengths"]
        lengths = lengths.squeeze(-1) if lengths.dim() > 1 else lengths
        if not (lengths == lengths[0]).all():
            batch["encoder_input"] = align_encoder_sequences(batch["encoder_input"], lengths, max_enc_len, "left")
            if "encoder_mask" in batch:
                batch["encoder_mask"] = align_encoder_sequences(batch["encoder_mask"], lengths, max_enc_len, "left")
    return batch


def collate(samples, encoder_alignment="left", sample_alignment="right"):
    """One batch from a list of sample dicts (time-first tensors; lengths of one element)."""
    if sample_alignment == "auto":
        batch = _original_collate(samples, encoder_alignment)
        for name in ("encoder_lengths", "decoder_lengths"):
            if name in batch:
                batch[name] = batch[name].reshape(len(samples), 1)
        return batch
    keep_end = sample_alignment == "right"
    enc_lengths = [int(s["encoder_lengths"].reshape(-1)[0]) for s in samples] if "encoder_lengths" in samples[0] else None
    dec_lengths = [int(s["decoder_lengths"].reshape(-1)[0]) for s in samples] if "decoder_lengths" in samples[0] else None
    enc_steps = max(enc_lengths) if enc_lengths else max(s["encoder_input"].shape[0] for s in samples)
    dec_steps = max(dec_lengths) if dec_lengths else max(s["decoder_input"].shape[0] for s in samples)
    batch = {
        "encoder_input": torch.stack([_fit(s["encoder_input"], enc_steps, keep_end) for s in samples]),
        "decoder_input": torch.stack([_fit(s["decoder_input"], dec_steps, False) for s in samples]),
        "target": torch.stack([_fit(s["target"], dec_steps, False) for s in samples]),
    }
    if "encoder_mask" in samples[0]:
        batch["encoder_mask"] = torch.stack([_fit(s["encoder_mask"], enc_steps, keep_end) for s in samples])
    if "decoder_mask" in samples[0]:
        batch["decoder_mask"] = torch.stack([_fit(s["decoder_mask"], dec_steps, False) for s in samples])
    for name in ("encoder_lengths", "decoder_lengths"):
        if name in samples[0]:
            batch[name] = torch.stack([s[name].reshape(1) for s in samples])
    if enc_lengths and len(set(enc_lengths)) > 1 and sample_alignment != encoder_alignment:
        lengths = torch.tensor(enc_lengths)
        for name in ("encoder_input", "encoder_mask"):
            if name in batch:
                batch[name] = align_encoder_sequences(batch[name], lengths, enc_steps, encoder_alignment,
                                                      source=sample_alignment)
    return batch


def _cut(order: list[int], batch_size: int) -> list[list[int]]:
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def _sorted_buckets(members: list[int], values: list[int], bucket: int, batch_size: int) -> list[list[int]]:
    """members cut into buckets of `bucket`, each sorted longest first (stable), cut into batches."""
    batches = []
    for start in range(0, len(members), bucket):
        chunk = members[start:start + bucket]
        batches += _cut(sorted(chunk, key=lambda i: -values[i]), batch_size)  # sorted() is stable
    return batches


def length_grouped_batches(lengths, batch_size, bucket_batches=16, shuffle=True, seed=0, drop_last=False,
                           group_by_length=True):
    """Batches of indices: shuffled, bucketed, each bucket sorted by length (longest first, stable),
    cut, the batches shuffled. group_by_length=False: plain random batches."""
    values = [int(v) for v in lengths.reshape(-1).tolist()]
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(values), generator=generator).tolist() if shuffle else list(range(len(values)))
    if not group_by_length:
        batches = _cut(order, batch_size)
    else:
        batches = _sorted_buckets(order, values, batch_size * bucket_batches, batch_size)
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    if group_by_length and shuffle:
        batches = [batches[k] for k in torch.randperm(len(batches), generator=generator).tolist()]
    return batches, fill_ratio(values, batches)


def fill_ratio(values: list[int], batches: list[list[int]]) -> float:
    real = sum(values[i] for b in batches for i in b)
    padded = sum(max(values[i] for i in b) * len(b) for b in batches)
    return 1.0 if padded == 0 else real / padded


RANK_SAMPLERS = ("random", "grouped_per_rank", "grouped_global")


def _data_set_values(lengths) -> list[int]:
    """The lengths as ints, after the rules seqpack's checked_lengths applies (one line per rejection)."""
    if lengths.dim() not in (1, 2) or (lengths.dim() == 2 and lengths.shape[1] != 1):
        raise ValueError(f"lengths: must have shape (N,) or (N, 1) (got {list(lengths.shape)})")
    if lengths.numel() == 0:
        raise ValueError("lengths: must hold at least one sample (got none)")
    values = []
    for row, v in enumerate(lengths.reshape(-1).double().tolist()):
        if v != v or v != int(v) or v < 0:
            raise ValueError(f"lengths: must hold whole non-negative numbers (row {row} is {v})")
        values.append(int(v))
    return values


def _deal(global_batch: list[int], ranks: int) -> list[list[int]]:
    """Rank r gets positions r, r + R, ...: in a batch sorted longest first, a like share of each."""
    return [global_batch[r::ranks] for r in range(ranks)]


def rank_batches(lengths, ranks, batch_size, sampler, bucket_batches=16, shuffle=True, seed=0, drop_last=False):
    """A data-parallel epoch: steps[s][r] is rank r's batch (b indices) at step s; every rank takes
    the same number of steps and, without drop_last, every sample is seen once. Returns (steps,
    rank_fill_ratio, fill_ratio). Seeded as length_grouped_batches, so that seqpack's rank_batches
    (impl/include/seqpack/rank_batches.h) makes the same plan; the samplers: docs/contract.md."""
    if sampler not in RANK_SAMPLERS:
        raise ValueError(f"sampler: must be random, grouped_per_rank or grouped_global (got {sampler!r})")
    for name, value in (("ranks", ranks), ("batch_size", batch_size), ("bucket_batches", bucket_batches)):
        if value < 1:
            raise ValueError(f"{name}: must be at least 1 (got {value})")
    values = _data_set_values(lengths)
    per_step = ranks * batch_size
    if drop_last and len(values) < per_step:
        raise ValueError(f"lengths: with drop_last, must hold at least ranks x batch_size = {per_step} samples "
                         f"(got {len(values)})")
    if not drop_last and len(values) % per_step:
        raise ValueError(f"lengths: the number of samples must be a multiple of ranks x batch_size = {per_step} "
                         f"(got {len(values)}; drop_last drops the rest)")
    steps_count = len(values) // per_step
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(values), generator=generator).tolist() if shuffle else list(range(len(values)))
    order = order[:steps_count * per_step]
    if sampler == "grouped_per_rank":
        per_rank = [_sorted_buckets(order[r::ranks], values, batch_size * bucket_batches, batch_size)
                    for r in range(ranks)]
        if shuffle:
            per_rank = [[batches[k] for k in torch.randperm(steps_count, generator=generator).tolist()]
                        for batches in per_rank]  # one permutation per rank, rank 0 first
        steps = [[per_rank[r][s] for r in range(ranks)] for s in range(steps_count)]
    else:
        if sampler == "random":
            global_batches = _cut(order, per_step)
        else:
            global_batches = _sorted_buckets(order, values, per_step * bucket_batches, per_step)
            if shuffle:
                global_batches = [global_batches[k]
                                  for k in torch.randperm(steps_count, generator=generator).tolist()]
        steps = [_deal(batch, ranks) for batch in global_batches]
    rank_fill = [fill_ratio(values, [step[r] for step in steps]) for r in range(ranks)]
    return steps, rank_fill, fill_ratio(values, [batch for step in steps for batch in step])
