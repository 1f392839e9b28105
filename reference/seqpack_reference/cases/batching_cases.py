"""Golden cases for batching: collate (each alignment pair, equal and varying lengths, with and
without lengths and masks, the original's guess and its flaw, windows of unequal length, one
sample, random batches, rejections), length-grouped batches of a data set and a data-parallel
epoch's rank batches (family rank_batches: each sampler at 1 to 4 ranks)."""
from __future__ import annotations

import zlib

import torch

from .. import batching as ref
from ..golden import Case


def _generator(name: str) -> torch.Generator:
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def _steps(window, length, layout, features, dtype, gen, lead_zero=0):
    """(window, features): `length` non-zero steps on the `layout` side, zeros elsewhere; the
    first `lead_zero` real steps are zero (the flaw's trigger)."""
    x = (torch.rand((window, features), generator=gen, dtype=torch.float64) + 0.5).to(dtype)
    start = window - length if layout == "right" else 0
    keep = torch.zeros(window, dtype=torch.bool)
    keep[start:start + length] = True
    keep[start:start + min(lead_zero, length)] = False
    return x * keep.unsqueeze(-1).to(dtype)


def _sample(gen, enc, dec, *, te=6, td=4, fe=3, fd=2, layout="right", dtype=torch.float64, lengths=True,
            masks=False, target_dims=(1,), length_dtypes=(torch.int64, torch.float32), lead_zero=0):
    """One window as the original's data set makes it: right-aligned encoder (by default), decoder
    and target left-aligned, masks of ones at real steps, lengths of shape (1,)."""
    s = {"encoder_input": _steps(te, enc, layout, fe, dtype, gen, lead_zero),
         "decoder_input": _steps(td, dec, "left", fd, dtype, gen),
         "target": _steps(td, dec, "left", int(torch.tensor(target_dims).prod()), dtype, gen)
         .reshape((td, *target_dims))}
    if masks:
        s["encoder_mask"] = (_steps(te, enc, layout, fe, dtype, gen) != 0).to(dtype)
        s["decoder_mask"] = (_steps(td, dec, "left", fd, dtype, gen) != 0).to(dtype)
    if lengths:
        s["encoder_lengths"] = torch.tensor([enc], dtype=length_dtypes[0])
        s["decoder_lengths"] = torch.tensor([dec], dtype=length_dtypes[1])
    return s


def _inputs(samples):
    return {f"{name}.{i}": t for i, s in enumerate(samples) for name, t in s.items()}


def _collate_case(name, checks, samples, encoder_alignment, sample_alignment):
    params = {"encoder_alignment": encoder_alignment, "sample_alignment": sample_alignment}
    expected = ref.collate(samples, encoder_alignment, sample_alignment)
    return Case(f"collate/{name}", "collate", checks, _inputs(samples), params, expected=expected)


def _alignment_pairs():
    for encoder_alignment in ("left", "right"):
        for sample_alignment in ("right", "left", "auto"):
            yield encoder_alignment, sample_alignment


def _layout(sample_alignment):
    return "left" if sample_alignment == "left" else "right"


def _collate_grid():
    """Every alignment pair x equal / varying lengths x with / without masks x lengths / none."""
    shapes = {
        "varying": ([(3, 2), (6, 4), (1, 3), (4, 1)], True),
        "equal": ([(4, 3), (4, 3), (4, 3)], True),
        "no_lengths": ([(6, 4), (6, 4), (6, 4)], False),
    }
    for encoder_alignment, sample_alignment in _alignment_pairs():
        for shape_name, (pairs, with_lengths) in shapes.items():
            for masks in (False, True):
                if shape_name == "no_lengths" and sample_alignment == "auto":
                    continue  # its own cases below: the original's size(1) slip
                name = f"{encoder_alignment}_from_{sample_alignment}_{shape_name}" + ("_masks" if masks else "")
                gen = _generator(name)
                samples = [_sample(gen, e, d, layout=_layout(sample_alignment), lengths=with_lengths, masks=masks)
                           for e, d in pairs]
                checks = (f"a batch for {encoder_alignment} alignment from {sample_alignment}-aligned windows, "
                          f"{shape_name.replace('_', ' ')}{', with masks' if masks else ''}")
                yield _collate_case(name, checks, samples, encoder_alignment, sample_alignment)


def _collate_special():
    gen = _generator("special")
    # The original's guess: a left-aligned window whose first real steps are zero is taken for
    # right-aligned and moved (its data lost); the explicit source keeps it.
    # The first window (L = 4 of T = 6) starts with two zero steps, so its first T-L steps are zero;
    # both modes read the same windows (generate.require_flaws_shown compares them).
    samples = [_sample(gen, 4, 2, layout="left", lead_zero=2), _sample(gen, 6, 4, layout="left"),
               _sample(gen, 4, 3, layout="left")]
    for mode in ("auto", "left"):
        yield _collate_case("flaw_leading_zeros_auto" if mode == "auto" else "left_source_leading_zeros",
                            "left-aligned windows whose first real steps are zero: the guess moves them (auto), "
                            "the explicit source does not", samples, "left", mode)
    # Right-aligned windows whose first real steps are zero: the guess is right for them.
    samples = [_sample(gen, 3, 2, lead_zero=1), _sample(gen, 5, 4, lead_zero=2), _sample(gen, 6, 1)]
    yield _collate_case("auto_right_windows_leading_zeros", "right-aligned windows starting with real zeros, guessed",
                        samples, "left", "auto")
    # Without lengths the original takes size(1) (features) for the batch's steps.
    for fe, fd in ((3, 2), (8, 5)):
        samples = [_sample(gen, 6, 4, fe=fe, fd=fd, lengths=False) for _ in range(3)]
        yield _collate_case(f"auto_no_lengths_features_{fe}_{fd}",
                            "no lengths: the original cuts the encoder to its last size(1) (= feature count) steps "
                            "and the decoder to its first size(1)", samples, "left", "auto")
    # Windows of unequal length (explicit modes pad them on the padding's side).
    for sample_alignment in ("right", "left"):
        for encoder_alignment in ("left", "right"):
            samples = [_sample(gen, 3, 2, te=4, td=3, layout=sample_alignment),
                       _sample(gen, 5, 4, te=7, td=5, layout=sample_alignment),
                       _sample(gen, 2, 1, te=2, td=2, layout=sample_alignment)]
            yield _collate_case(f"unequal_windows_{encoder_alignment}_from_{sample_alignment}",
                                "windows of unequal padded length, zero-padded on the side of their padding",
                                samples, encoder_alignment, sample_alignment)
            samples = [_sample(gen, 3, 2, te=4, td=3, layout=sample_alignment, lengths=False),
                       _sample(gen, 5, 4, te=7, td=5, layout=sample_alignment, lengths=False)]
            yield _collate_case(f"unequal_windows_no_lengths_{encoder_alignment}_from_{sample_alignment}",
                                "windows of unequal length without lengths: the batch is the longest window",
                                samples, encoder_alignment, sample_alignment)
    for encoder_alignment, sample_alignment in _alignment_pairs():
        yield _collate_case(f"one_sample_{encoder_alignment}_from_{sample_alignment}", "a batch of one window",
                            [_sample(gen, 4, 2, masks=True, layout=_layout(sample_alignment))],
                            encoder_alignment, sample_alignment)
    variants = {
        "float32": dict(dtype=torch.float32),
        "int64_values": dict(dtype=torch.int64),
        "target_1d": dict(target_dims=()),
        "target_2x3": dict(target_dims=(2, 3)),
        "float_lengths": dict(length_dtypes=(torch.float64, torch.float64)),
        "int32_lengths": dict(length_dtypes=(torch.int32, torch.int32)),
        "zero_encoder_length": None,
    }
    for name, extra in variants.items():
        for encoder_alignment in ("left", "right"):
            if extra is None:
                samples = [_sample(gen, 0, 2), _sample(gen, 5, 3), _sample(gen, 3, 3)]
            else:
                samples = [_sample(gen, e, d, **extra) for e, d in ((2, 3), (5, 1), (4, 4))]
            yield _collate_case(f"{name}_{encoder_alignment}", f"{name.replace('_', ' ')}, for {encoder_alignment}",
                                samples, encoder_alignment, "right")
    # The original keeps whole windows when every encoder length is 0 (x[-0:]).
    yield _collate_case("auto_all_encoder_lengths_zero", "every encoder length 0: x[-0:] keeps the whole window",
                        [_sample(gen, 0, 2), _sample(gen, 0, 3)], "left", "auto")


def _collate_random():
    for k in range(8):
        name = f"random_{k}"
        gen = _generator(name)
        encoder_alignment, sample_alignment = list(_alignment_pairs())[k % 6]
        batch = int(torch.randint(1, 9, (1,), generator=gen))
        te, td = int(torch.randint(4, 33, (1,), generator=gen)), int(torch.randint(2, 9, (1,), generator=gen))
        masks = bool(k % 2)
        samples = []
        for _ in range(batch):
            enc = int(torch.randint(1, te + 1, (1,), generator=gen))
            dec = int(torch.randint(1, td + 1, (1,), generator=gen))
            samples.append(_sample(gen, enc, dec, te=te, td=td, fe=4, fd=3, layout=_layout(sample_alignment),
                                   masks=masks))
        yield _collate_case(name, f"random batch of {batch}, T {te}/{td}, {encoder_alignment} from "
                                  f"{sample_alignment}", samples, encoder_alignment, sample_alignment)


def _collate_errors():
    gen = _generator("errors")

    def error(name, checks, samples, mention, params=None):
        return Case(f"collate/error_{name}", "collate", checks, _inputs(samples),
                    params or {"encoder_alignment": "left", "sample_alignment": "right"}, error_mentions=mention)

    yield error("empty", "an empty list of samples", [], "samples")
    yield error("features_disagree", "encoder feature counts that disagree",
                [_sample(gen, 3, 2), _sample(gen, 3, 2, fe=4)], "samples[1].encoder_input")
    yield error("decoder_features_disagree", "decoder feature counts that disagree",
                [_sample(gen, 3, 2), _sample(gen, 3, 2, fd=5)], "samples[1].decoder_input")
    yield error("length_longer_than_window", "an encoder length larger than its window",
                [_sample(gen, 3, 2), {**_sample(gen, 3, 2), "encoder_lengths": torch.tensor([7])}],
                "samples[1].encoder_lengths")
    yield error("decoder_length_longer", "a decoder length larger than its window",
                [{**_sample(gen, 3, 2), "decoder_lengths": torch.tensor([5.0])}], "samples[0].decoder_lengths")
    yield error("negative_length", "a negative length", [{**_sample(gen, 3, 2), "encoder_lengths": torch.tensor([-1])}],
                "samples[0].encoder_lengths")
    yield error("fractional_length", "a length that is not an integer",
                [{**_sample(gen, 3, 2), "decoder_lengths": torch.tensor([1.5])}], "samples[0].decoder_lengths")
    yield error("parts_disagree", "lengths in one sample only",
                [_sample(gen, 3, 2), _sample(gen, 6, 4, lengths=False)], "samples[1].encoder_lengths")
    yield error("missing_target", "a sample without its target",
                [{k: v for k, v in _sample(gen, 3, 2).items() if k != "target"}], "target.0")
    yield error("all_decoder_lengths_zero", "every decoder length 0", [_sample(gen, 3, 0), _sample(gen, 2, 0)],
                "decoder_lengths")
    yield error("all_encoder_lengths_zero", "every encoder length 0 (explicit source)",
                [_sample(gen, 0, 2), _sample(gen, 0, 1)], "encoder_lengths")
    yield error("mask_steps", "an encoder mask with other steps than its input",
                [{**_sample(gen, 3, 2, masks=True), "encoder_mask": torch.ones(5, 3, dtype=torch.float64)}],
                "samples[0].encoder_mask")
    yield error("dtype_disagrees", "samples of different dtypes",
                [_sample(gen, 3, 2), _sample(gen, 3, 2, dtype=torch.float32)], "samples[1].encoder_input")
    yield error("rank", "an encoder input that is not (steps, features)",
                [{**_sample(gen, 3, 2), "encoder_input": torch.ones(6, dtype=torch.float64)}],
                "samples[0].encoder_input")
    yield error("auto_unequal_windows", "the original cannot stack windows of unequal length",
                [_sample(gen, 3, 2, te=4), _sample(gen, 5, 2, te=7)], "samples[1].encoder_input",
                {"encoder_alignment": "left", "sample_alignment": "auto"})
    yield error("unknown_alignment", "an unknown encoder_alignment", [_sample(gen, 3, 2)], "params.encoder_alignment",
                {"encoder_alignment": "middle", "sample_alignment": "right"})
    yield error("gap_in_numbering", "samples numbered 0 and 2 (1 missing)",
                [_sample(gen, 3, 2)] + [{}] + [_sample(gen, 3, 2)], "decoder_input.2")


def _batches_cases():
    gen = _generator("batches")
    lengths = {
        "uniform": torch.randint(1, 65, (300,), generator=gen),
        "heavy_tailed": torch.clamp((4 / torch.rand(257, generator=gen)).floor(), max=128).to(torch.int64),
        "ties": torch.tensor([5, 3, 5, 3, 5, 3, 1, 1, 2, 2, 5, 5]),
        "float_n1": torch.randint(1, 20, (40, 1), generator=gen).to(torch.float32),
    }
    settings = [
        ("b8_buckets4", dict(batch_size=8, bucket_batches=4)),
        ("b16_default", dict(batch_size=16)),
        ("b5_no_shuffle", dict(batch_size=5, bucket_batches=2, shuffle=False)),
        ("b7_drop_last", dict(batch_size=7, bucket_batches=3, drop_last=True, seed=3)),
        # 300 and 12 samples fill their last batch of 6: drop_last must keep it.
        ("b6_drop_last_full_last_batch", dict(batch_size=6, drop_last=True, seed=5)),
        ("b8_random", dict(batch_size=8, group_by_length=False, seed=11)),
        ("b64_whole", dict(batch_size=64, bucket_batches=100)),
    ]
    for data_name, values in lengths.items():
        for setting_name, params in settings:
            batches, ratio = ref.length_grouped_batches(values, **params)
            expected = {f"batch.{i}": torch.tensor(b, dtype=torch.int64) for i, b in enumerate(batches)}
            expected["fill_ratio"] = torch.tensor(ratio, dtype=torch.float64)
            yield Case(f"batches/{data_name}_{setting_name}", "length_grouped_batches",
                       f"{'length-grouped' if params.get('group_by_length', True) else 'random'} batches of "
                       f"{data_name} lengths, {setting_name}", {"lengths": values}, params, expected=expected,
                       atol=1e-12)
    for name, values, params, mention in [
        ("batch_size_0", lengths["ties"], {"batch_size": 0}, "batch_size"),
        ("bucket_batches_0", lengths["ties"], {"batch_size": 2, "bucket_batches": 0}, "bucket_batches"),
        ("empty", torch.zeros(0, dtype=torch.int64), {"batch_size": 2}, "lengths"),
        ("negative", torch.tensor([3, -1, 2]), {"batch_size": 2}, "lengths"),
        ("fractional", torch.tensor([3.0, 1.5]), {"batch_size": 2}, "lengths"),
    ]:
        yield Case(f"batches/error_{name}", "length_grouped_batches", f"rejects {name.replace('_', ' ')}",
                   {"lengths": values}, params, error_mentions=mention)


def _rank_batches_case(name, values, params):
    steps, rank_fill, fill = ref.rank_batches(values, **params)
    expected = {"batches": torch.tensor(steps, dtype=torch.int64),
                "rank_fill_ratio": torch.tensor(rank_fill, dtype=torch.float64),
                "fill_ratio": torch.tensor(fill, dtype=torch.float64)}
    return Case(f"rank_batches/{name}", "rank_batches",
                f"{params['sampler']} rank batches at R = {params['ranks']}, {name}", {"lengths": values}, params,
                expected=expected, atol=1e-12)


def _rank_batches_cases():
    gen = _generator("rank_batches")
    # 96 samples make whole steps at b = 4 and b = 2 for R = 1..4; 101 (prime) never does.
    data_sets = {
        "uniform": torch.randint(1, 65, (96,), generator=gen),
        "heavy_tailed_float": torch.clamp((4 / torch.rand(96, 1, generator=gen)).floor(), max=128),
        "equal": torch.full((48,), 7, dtype=torch.int64),
        "ragged_101": torch.randint(1, 65, (101,), generator=gen).to(torch.int32),
    }
    settings = {
        "uniform": [("b4_buckets2", dict(batch_size=4, bucket_batches=2, seed=1)), ("b4_default", dict(batch_size=4)),
                    ("b2_no_shuffle", dict(batch_size=2, bucket_batches=3, shuffle=False))],
        "heavy_tailed_float": [("b4_buckets2", dict(batch_size=4, bucket_batches=2, seed=2)),
                               ("b2_no_shuffle", dict(batch_size=2, bucket_batches=3, shuffle=False))],
        "equal": [("b4_buckets2", dict(batch_size=4, bucket_batches=2, seed=3))],
        "ragged_101": [("b3_drop_last", dict(batch_size=3, bucket_batches=2, drop_last=True, seed=4)),
                       ("b3_drop_last_no_shuffle", dict(batch_size=3, bucket_batches=2, drop_last=True,
                                                        shuffle=False))],
    }
    for sampler in ref.RANK_SAMPLERS:
        for ranks in (1, 2, 3, 4):
            for data_name, values in data_sets.items():
                for setting_name, params in settings[data_name]:
                    yield _rank_batches_case(f"{sampler}_r{ranks}_{data_name}_{setting_name}", values,
                                             dict(ranks=ranks, sampler=sampler, **params))
    ten = torch.arange(1, 11)
    for name, values, params, mention in [
        ("ranks_0", ten, {"ranks": 0, "batch_size": 5, "sampler": "random"}, "ranks"),
        ("batch_size_0", ten, {"ranks": 2, "batch_size": 0, "sampler": "grouped_global"}, "batch_size"),
        ("bucket_batches_0", ten, {"ranks": 2, "batch_size": 5, "sampler": "grouped_per_rank", "bucket_batches": 0},
         "bucket_batches"),
        ("unknown_sampler", ten, {"ranks": 2, "batch_size": 5, "sampler": "sorted"}, "sampler"),
        ("not_whole_steps", ten, {"ranks": 3, "batch_size": 2, "sampler": "random"}, "multiple of ranks x batch_size"),
        ("drop_last_too_few", ten, {"ranks": 4, "batch_size": 3, "sampler": "grouped_global", "drop_last": True},
         "at least ranks x batch_size"),
        ("empty", torch.zeros(0, dtype=torch.int64), {"ranks": 1, "batch_size": 1, "sampler": "random"}, "lengths"),
        ("negative", torch.tensor([3, -1]), {"ranks": 2, "batch_size": 1, "sampler": "random"}, "lengths"),
        ("fractional", torch.tensor([3.0, 1.5]), {"ranks": 1, "batch_size": 2, "sampler": "random"}, "lengths"),
        ("two_columns", torch.ones(4, 2), {"ranks": 2, "batch_size": 2, "sampler": "random"}, "lengths"),
    ]:
        try:  # the reference rejects it too, naming the same argument and rule
            ref.rank_batches(values, **params)
        except ValueError as error:
            assert mention in str(error), (name, str(error))
        else:
            raise AssertionError(f"rank_batches/error_{name}: the reference accepts it")
        yield Case(f"rank_batches/error_{name}", "rank_batches", f"rejects {name.replace('_', ' ')}",
                   {"lengths": values}, params, error_mentions=mention)


def cases():
    return [*_collate_grid(), *_collate_special(), *_collate_random(), *_collate_errors(), *_batches_cases(),
            *_rank_batches_cases()]
