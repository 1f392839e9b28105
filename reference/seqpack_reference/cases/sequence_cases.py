"""Golden cases for the sequence utilities: packing rule, alignment, validation, pack, unpack."""
from __future__ import annotations

import zlib

import torch

from .. import sequence as ref
from ..golden import Case

DTYPES = {"f64": torch.float64, "f32": torch.float32, "i64": torch.int64}


def _generator(name: str) -> torch.Generator:
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def _values(shape, dtype, gen):
    """Random non-zero values (so that only padding is zero, unless a case says otherwise)."""
    if dtype.is_floating_point:
        x = torch.rand(shape, generator=gen, dtype=torch.float64) + 0.5
        sign = torch.randint(0, 2, shape, generator=gen) * 2 - 1
        return (x * sign).to(dtype)
    return torch.randint(1, 100, shape, generator=gen).to(dtype)


def _batch(lengths, steps, features, dtype, layout, gen):
    """A batch whose row i holds lengths[i] non-zero steps, left- or right-aligned."""
    x = _values((len(lengths), steps, features), dtype, gen)
    for i, length in enumerate(lengths):
        if layout == "left":
            x[i, length:] = 0
        else:
            x[i, : steps - length] = 0
    return x


def _random_lengths(batch, steps, gen, low=0):
    return [int(v) for v in torch.randint(low, steps + 1, (batch,), generator=gen)]


def _lengths_with_a_row_that_moves(batch, steps, gen):
    """Random lengths in [0, T], drawn again until one lies in (0, T): rows of length 0 or T read
    the same in either alignment, so a batch of only those cannot tell aligning from copying."""
    while True:
        lengths = _random_lengths(batch, steps, gen)
        if any(0 < length < steps for length in lengths):
            return lengths


def _has_ties(lengths) -> bool:
    return len(set(lengths)) != len(lengths)


# ---------------------------------------------------------------- should_use_packing

def _packing_rule_cases():
    specs = {
        "equal_lengths": [5, 5, 5, 5],
        "small_variation_small_batch": [10, 10, 10, 10, 10, 10, 10, 9],  # B = 8 packs anyway
        "small_variation_b7": [20, 20, 20, 20, 20, 20, 19],
        "exactly_ten_percent": [10, 9],           # 0.1 in float32 is not > 0.1
        "just_over_ten_percent": [100, 89],
        "large_variation_b2": [10, 2],
        "single_row": [7],
        "b8_equal": [4] * 8,
        "b8_one_differs": [4] * 7 + [3],
        "with_zero_length": [0, 6, 6],
        "b16_random": None,
    }
    out = []
    for name, lengths in specs.items():
        gen = _generator("rule/" + name)
        if lengths is None:
            lengths = _random_lengths(16, 50, gen, low=1)
        for dtype_name, dtype in (("i64", torch.int64), ("f32", torch.float32)):
            t = torch.tensor(lengths, dtype=dtype)
            out.append(Case(f"should_use_packing/{name}_{dtype_name}", "should_use_packing",
                            f"the original's packing rule on lengths {lengths} as {dtype_name}",
                            {"lengths": t}, expected={"use_packing": torch.tensor(ref.should_use_packing(t))}))
    column = torch.tensor([[12], [3], [7]], dtype=torch.float64)
    out.append(Case("should_use_packing/column_lengths_f64", "should_use_packing",
                    "lengths of shape (B, 1) in float64 are accepted", {"lengths": column},
                    expected={"use_packing": torch.tensor(ref.should_use_packing(column))}))
    out.append(Case("should_use_packing/no_lengths", "should_use_packing", "no lengths: never pack", {},
                    expected={"use_packing": torch.tensor(False)}))
    out.append(Case("should_use_packing/empty_lengths", "should_use_packing", "an empty batch: never pack",
                    {"lengths": torch.zeros(0, dtype=torch.int64)}, expected={"use_packing": torch.tensor(False)}))
    out.append(Case("should_use_packing/rejects_fractional", "should_use_packing",
                    "a length that is not a whole number is rejected", {"lengths": torch.tensor([3.5, 2.0])},
                    error_mentions="row 0"))
    return out


# ---------------------------------------------------------------- align_encoder_sequences

def _align_case(name, checks, x, lengths_t, **params):
    try:
        expected = {"aligned": ref.align_encoder_sequences(x, lengths_t, **params)}
        return Case(name, "align_encoder_sequences", checks, {"sequences": x, "lengths": lengths_t}, params,
                    expected)
    except (RuntimeError, ValueError):
        return Case(name, "align_encoder_sequences", checks, {"sequences": x, "lengths": lengths_t}, params,
                    error_mentions="max_length")


def _align_cases():
    out = []
    shapes = [  # (B, T, F); T >= 2 so that a row can be shorter than T and still hold data
        ("b4_t6_f2", 4, 6, 2), ("b1_t5_f1", 1, 5, 1), ("b3_t2_f2", 3, 2, 2), ("b8_t10_f3", 8, 10, 3),
    ]
    for layout in ("left", "right"):
        for source in ("auto", layout):
            for target in ("left", "right"):
                # Rows already on the target's side stay where they are: that is the point of these.
                identity = "identity_" if target == layout else ""
                for dname, dtype in DTYPES.items():
                    for sname, batch, steps, features in shapes:
                        name = f"align/{identity}{source}_from_{layout}_to_{target}_{sname}_{dname}"
                        gen = _generator(name)
                        lengths = _lengths_with_a_row_that_moves(batch, steps, gen)
                        x = _batch(lengths, steps, features, dtype, layout, gen)
                        out.append(_align_case(name, f"{layout}-aligned rows to {target}, source {source}", x,
                                               torch.tensor(lengths), alignment=target, source=source))
    # T = 1: every row has length 0 or 1, so no alignment moves anything.
    gen = _generator("align/identity_t1")
    x = _batch([1, 0, 1], 1, 2, torch.float64, "left", gen)
    out.append(_align_case("align/identity_t1_right_target", "with T = 1 a left-aligned batch is already right-aligned",
                           x, torch.tensor([1, 0, 1]), alignment="right", source="left"))
    # max_length below, equal to and above T.
    for source in ("auto", "left", "right"):
        layout = "left" if source == "auto" else source
        for label, end in (("below_t", 6), ("equal_t", 8), ("above_t", 10)):
            # Right-aligned rows ending at max_length = T are where they belong already.
            identity = "_identity" if (source, label) == ("right", "equal_t") else ""
            name = f"align/max_length_{label}_{source}"
            gen = _generator(name)
            lengths = [3, 6, 1, 5]
            x = _batch(lengths, 8, 2, torch.float64, layout, gen)
            out.append(_align_case(name + identity, f"max_length {end} with T = 8, source {source}", x,
                                   torch.tensor(lengths), max_length=end, alignment="right", source=source))
    gen = _generator("align/rejects_row_longer_than_max_length_left")
    x = _batch([3, 7, 1], 8, 2, torch.float64, "left", gen)
    out.append(Case("align/rejects_row_longer_than_max_length_left", "align_encoder_sequences",
                    "an explicit source refuses a row longer than max_length (auto copies it)",
                    {"sequences": x, "lengths": torch.tensor([3, 7, 1])},
                    {"max_length": 5, "alignment": "right", "source": "left"}, error_mentions="max_length"))
    # auto with max_length below the longest row: the original copies that row unchanged.
    gen = _generator("align/auto_row_longer_than_max_length")
    x = _batch([7, 2, 4], 8, 2, torch.float64, "left", gen)
    out.append(_align_case("align/auto_row_longer_than_max_length",
                           "auto: a row longer than max_length is copied unchanged", x, torch.tensor([7, 2, 4]),
                           max_length=5, alignment="right", source="auto"))
    # The flaw: a left-aligned row of length L whose first T-L steps are real zeros is taken for
    # right-aligned. Row 0 (L = 4, T = 6) is zero, zero, data, data, padding, padding. Each auto
    # case has a twin on the same batch with the explicit left source, which reads row 0 right;
    # generate.require_flaws_shown refuses a flaw case that expects what its twin expects.
    lengths = [4, 5, 2]
    x = _batch(lengths, 6, 2, torch.float64, "left", _generator("align/flaw_leading_zeros"))
    x[0, :2] = 0.0
    for target in ("left", "right"):
        out.append(_align_case(f"align/auto_flaw_leading_zeros_to_{target}",
                               "auto reproduces the original's flaw: row 0 is left-aligned, L = 4 of T = 6, with two "
                               "leading zero steps, and is taken for right-aligned", x, torch.tensor(lengths),
                               alignment=target, source="auto"))
        identity = "_identity" if target == "left" else ""  # left rows read as left, kept on the left
        out.append(_align_case(f"align/left_source_leading_zeros_to_{target}{identity}",
                               "an explicit left source reads row 0 correctly despite its leading zeros", x,
                               torch.tensor(lengths), alignment=target, source="left"))
    # Steps zero in one feature but not in the other are data, not padding: auto must not take a
    # left-aligned row whose first T-L steps are all partly zero for right-aligned (the original's
    # guess needs every value of those steps zero). Each has a twin with the explicit left source.
    lengths = [4, 3, 5]
    x = _batch(lengths, 6, 2, torch.float64, "left", _generator("align/partly_zero_leading_steps"))
    for row, length in enumerate(lengths):
        x[row, : 6 - length, 0] = 0.0
    for source in ("auto", "left"):
        out.append(_align_case(f"align/{source}_source_partly_zero_leading_steps_to_right",
                               "left-aligned rows whose first T-L steps are zero in feature 0 only: data, so the "
                               "rows move right", x, torch.tensor(lengths), alignment="right", source=source))
    # Right-aligned rows whose first data step is zero in feature 1 only: auto still reads them as
    # right-aligned (their padding is all zero) and moves the whole row, that step included.
    lengths = [2, 4, 3]
    x = _batch(lengths, 6, 2, torch.float64, "right", _generator("align/partly_zero_first_data_step"))
    for row, length in enumerate(lengths):
        x[row, 6 - length, 1] = 0.0
    for source in ("auto", "right"):
        out.append(_align_case(f"align/{source}_source_partly_zero_first_data_step_to_left",
                               "right-aligned rows whose first data step is zero in feature 1 only: the step "
                               "moves with its row", x, torch.tensor(lengths), alignment="left", source=source))
    # Rows of length 0 and of length T, tied lengths, float and (B, 1) lengths.
    for source in ("auto", "left", "right"):
        layout = "right" if source == "right" else "left"
        name = f"align/zero_and_full_rows_{source}"
        gen = _generator(name)
        lengths = [0, 7, 3, 7, 0]
        x = _batch(lengths, 7, 3, torch.float32, layout, gen)
        out.append(_align_case(name, "rows of length 0 become zeros; rows of length T stay whole", x,
                               torch.tensor(lengths), alignment="right" if layout == "left" else "left",
                               source=source))
    for source in ("auto", "left"):
        name = f"align/tied_float_column_lengths_{source}"
        gen = _generator(name)
        lengths = [4, 4, 2, 4]
        x = _batch(lengths, 6, 1, torch.float64, "left", gen)
        out.append(_align_case(name, "tied lengths given as a float (B, 1) tensor", x,
                               torch.tensor(lengths, dtype=torch.float32).unsqueeze(1), source=source))
    # Errors.
    x = _batch([2, 3], 4, 1, torch.float64, "left", _generator("align/rejects_length_above_t"))
    out.append(Case("align/rejects_length_above_t", "align_encoder_sequences", "a length above T is rejected",
                    {"sequences": x, "lengths": torch.tensor([2, 5])}, {"source": "left"},
                    error_mentions="row 1"))
    out.append(Case("align/rejects_negative_length", "align_encoder_sequences", "a negative length is rejected",
                    {"sequences": x, "lengths": torch.tensor([-1, 3])}, {"source": "left"},
                    error_mentions="row 0"))
    out.append(Case("align/rejects_unknown_alignment", "align_encoder_sequences", "alignment must be left or right",
                    {"sequences": x, "lengths": torch.tensor([2, 3])}, {"alignment": "center"},
                    error_mentions="alignment"))
    return out


# ---------------------------------------------------------------- validate_encoder_alignment

def _validate_cases():
    out = []
    for layout in ("left", "right"):
        for expected in ("left", "right"):
            for label, lengths in (("varied", [2, 5, 3]), ("full_rows", [5, 5, 5]), ("with_zero_row", [0, 3, 4])):
                name = f"validate/{layout}_batch_expected_{expected}_{label}"
                gen = _generator(name)
                x = _batch(lengths, 5, 2, torch.float64, layout, gen)
                lengths_t = torch.tensor(lengths)
                inputs = {"encoder_input": x, "lengths": lengths_t}
                params = {"expected_alignment": expected}
                try:
                    ref.validate_encoder_alignment(x, lengths_t, expected)
                    out.append(Case(name, "validate_encoder_alignment", f"{layout} batch checked as {expected}",
                                    inputs, params, expected={}))
                except ValueError as error:
                    row = str(error).rsplit("row ", 1)[1]
                    out.append(Case(name, "validate_encoder_alignment",
                                    f"{layout} batch checked as {expected} fails at row {row}", inputs, params,
                                    error_mentions=f"row {row}"))
    x = _batch([1, 2], 3, 1, torch.float64, "left", _generator("validate/no_lengths"))
    out.append(Case("validate/no_lengths", "validate_encoder_alignment", "without lengths nothing is checked",
                    {"encoder_input": x}, {"expected_alignment": "right"}, expected={}))
    # One value in the padding step next to the data, and nothing else wrong: the check must reach
    # the first padding step (left: step L; right: step T - L - 1).
    for expected in ("left", "right"):
        name = f"validate/{expected}_data_in_the_first_padding_step"
        x = _batch([2, 3, 1], 5, 2, torch.float64, expected, _generator(name))
        x[1, 3 if expected == "left" else 1] = 0.5
        out.append(Case(name, "validate_encoder_alignment",
                        f"row 1 ({expected}-aligned, L = 3 of T = 5) with data in its first padding step fails",
                        {"encoder_input": x, "lengths": torch.tensor([2, 3, 1])}, {"expected_alignment": expected},
                        error_mentions="row 1"))
    # A padding step non-zero in one feature only is data in the padding; a data step at the edge
    # zero in one feature only is data. Both alignments.
    for expected in ("left", "right"):
        lengths = [2, 3, 1]
        name = f"validate/{expected}_one_feature_in_the_first_padding_step"
        x = _batch(lengths, 5, 2, torch.float64, expected, _generator(name))
        x[1, 3 if expected == "left" else 1, 1] = 0.5
        out.append(Case(name, "validate_encoder_alignment",
                        f"row 1 ({expected}-aligned, L = 3 of T = 5) with a value in one feature of its first "
                        "padding step fails", {"encoder_input": x, "lengths": torch.tensor(lengths)},
                        {"expected_alignment": expected}, error_mentions="row 1"))
        name = f"validate/{expected}_partly_zero_edge_data_steps"
        x = _batch(lengths, 5, 2, torch.float64, expected, _generator(name))
        for row, length in enumerate(lengths):  # the data step next to the padding, zero in feature 0
            x[row, length - 1 if expected == "left" else 5 - length, 0] = 0.0
        ref.validate_encoder_alignment(x, torch.tensor(lengths), expected)
        out.append(Case(name, "validate_encoder_alignment",
                        f"{expected}-aligned rows whose data step next to the padding is zero in feature 0 only pass",
                        {"encoder_input": x, "lengths": torch.tensor(lengths)}, {"expected_alignment": expected},
                        expected={}))
    tiny = _batch([2, 2], 4, 1, torch.float64, "left", _generator("validate/tiny_padding_counts_as_zero"))
    tiny[:, 2:] = 1e-9  # allclose to zero: still padding
    out.append(Case("validate/tiny_padding_counts_as_zero", "validate_encoder_alignment",
                    "padding within allclose's 1e-8 of zero passes", {"encoder_input": tiny,
                                                                     "lengths": torch.tensor([2, 2])},
                    {"expected_alignment": "left"}, expected={}))
    return out


# ---------------------------------------------------------------- pack and unpack

def _packed_dict(packed):
    out = {"data": packed.data, "batch_sizes": packed.batch_sizes}
    if packed.sorted_indices is not None:
        out["sorted_indices"] = packed.sorted_indices
        out["unsorted_indices"] = packed.unsorted_indices
    return out


def _pack_cases():
    out = []
    configs = [  # label, B, T, F, lengths or None (random >= 1)
        ("b4_t6_f2", 4, 6, 2, None), ("b1_t5_f1", 1, 5, 1, None), ("b3_t1_f2", 3, 1, 2, [1, 1, 1]),
        ("b6_t8_f3_distinct", 6, 8, 3, [3, 8, 1, 6, 2, 5]), ("b5_t7_f1_ties", 5, 7, 1, [4, 7, 4, 2, 7]),
        ("b10_t12_f2", 10, 12, 2, None), ("b4_t5_f2_full", 4, 5, 2, [5, 5, 5, 5]),
    ]
    for op in ("pack_decoder_sequences", "pack_encoder_sequences"):
        for label, batch, steps, features, lengths in configs:
            for dname, dtype in DTYPES.items():
                for batch_first in (True, False):
                    name = f"{op.split('_')[1]}/{label}_{dname}_{'batch_first' if batch_first else 'time_major'}"
                    gen = _generator(name)
                    # One row of length 1 packs into batch_sizes [1], its lengths unchanged: start at 2.
                    lens = lengths or _random_lengths(batch, steps, gen, low=2 if batch == 1 else 1)
                    layout = "right" if op == "pack_encoder_sequences" and label.endswith("f2") else "left"
                    x = _batch(lens, steps, features, dtype, layout, gen)
                    if not batch_first:
                        x = x.transpose(0, 1).contiguous()
                    params = {"batch_first": batch_first}
                    lengths_t = torch.tensor(lens)
                    if op == "pack_encoder_sequences":
                        packed = ref.pack_encoder_sequences(x, lengths_t, batch_first=batch_first)
                    else:
                        packed = ref.pack_decoder_sequences(x, lengths_t, batch_first=batch_first)
                    out.append(Case(name, op, f"{layout}-aligned {label} packed like pack_padded_sequence",
                                    {"sequences": x, "lengths": lengths_t}, params, _packed_dict(packed),
                                    compare="packed_by_meaning" if _has_ties(lens) else "exact"))
    # enforce_sorted, explicit sources, float lengths.
    gen = _generator("decoder/enforce_sorted")
    x = _batch([6, 4, 4, 1], 6, 2, torch.float64, "left", gen)
    for lengths, label in (([6, 4, 4, 1], "sorted"), ([4, 6, 4, 1], "unsorted")):
        lengths_t = torch.tensor(lengths)
        name = f"decoder/enforce_sorted_{label}"
        try:
            packed = ref.pack_decoder_sequences(x, lengths_t, enforce_sorted=True)
            out.append(Case(name, "pack_decoder_sequences", "enforce_sorted: no permutation is stored",
                            {"sequences": x, "lengths": lengths_t}, {"enforce_sorted": True}, _packed_dict(packed)))
        except RuntimeError:
            out.append(Case(name, "pack_decoder_sequences", "enforce_sorted rejects unsorted lengths",
                            {"sequences": x, "lengths": lengths_t}, {"enforce_sorted": True},
                            error_mentions="row 0"))
    for source, layout in (("left", "left"), ("right", "right"), ("auto", "right")):
        name = f"encoder/explicit_source_{source}_from_{layout}"
        gen = _generator(name)
        lens = [2, 6, 3, 5]
        x = _batch(lens, 6, 2, torch.float64, layout, gen)
        packed = ref.pack_encoder_sequences(x, torch.tensor(lens), source=source)
        out.append(Case(name, "pack_encoder_sequences", f"encoder from {layout}-aligned rows, source {source}",
                        {"sequences": x, "lengths": torch.tensor(lens)}, {"source": source}, _packed_dict(packed)))
    gen = _generator("encoder/no_align_first")
    x = _batch([2, 6, 3], 6, 2, torch.float64, "left", gen)
    packed = ref.pack_encoder_sequences(x, torch.tensor([2, 6, 3]), align_first=False)
    out.append(Case("encoder/no_align_first", "pack_encoder_sequences", "align_first false packs rows as given",
                    {"sequences": x, "lengths": torch.tensor([2, 6, 3])}, {"align_first": False},
                    _packed_dict(packed)))
    lens_f = torch.tensor([[3.0], [5.0], [1.0]])
    x = _batch([3, 5, 1], 5, 1, torch.float32, "left", _generator("decoder/float_column_lengths"))
    out.append(Case("decoder/float_column_lengths", "pack_decoder_sequences", "float (B, 1) lengths are accepted",
                    {"sequences": x, "lengths": lens_f}, {}, _packed_dict(ref.pack_decoder_sequences(x, lens_f))))
    # PyTorch's own refusals, and the one it misses (L > T).
    x = _batch([2, 3], 3, 1, torch.float64, "left", _generator("decoder/rejects"))
    for label, lengths, mention in (("zero_length", [0, 3], "row 0"), ("length_above_t", [2, 4], "row 1"),
                                    ("fractional_length", [2.5, 3.0], "row 0")):
        out.append(Case(f"decoder/rejects_{label}", "pack_decoder_sequences", f"pack rejects a {label}",
                        {"sequences": x, "lengths": torch.tensor(lengths)}, {}, error_mentions=mention))
    return out


def _unpack_cases():
    out = []
    configs = [("b4_t6_f2", [3, 6, 1, 4], 2), ("b1_t3_f1", [3], 1), ("b5_t7_ties", [2, 7, 2, 5, 7], 3),
               ("b3_t4_full", [4, 4, 4], 1)]
    for label, lengths, features in configs:
        steps = max(lengths)
        for dname, dtype in DTYPES.items():
            for batch_first in (True, False):
                for total in (None, steps + 2):
                    enforce = lengths == sorted(lengths, reverse=True)
                    name = (f"unpack/{label}_{dname}_{'batch_first' if batch_first else 'time_major'}"
                            f"{'' if total is None else '_total_length'}")
                    gen = _generator(name)
                    x = _batch(lengths, steps, features, dtype, "left", gen)
                    packed = ref.pack_decoder_sequences(x, torch.tensor(lengths), enforce_sorted=enforce)
                    padded, out_lengths = ref.unpack_to_fixed_length(packed, batch_first=batch_first,
                                                                     total_length=total)
                    params = {"batch_first": batch_first}
                    if total is not None:
                        params["total_length"] = total
                    out.append(Case(name, "unpack_to_fixed_length", "pad_packed_sequence of a pack",
                                    _packed_dict(packed), params, {"sequences": padded, "lengths": out_lengths}))
    packed = ref.pack_decoder_sequences(torch.ones(2, 5, 1, dtype=torch.float64), torch.tensor([5, 3]))
    out.append(Case("unpack/rejects_short_total_length", "unpack_to_fixed_length",
                    "total_length below the longest row is rejected", _packed_dict(packed), {"total_length": 4},
                    error_mentions="total_length"))
    bad = _packed_dict(packed)
    bad["batch_sizes"] = torch.tensor([2, 2, 2, 1, 2])
    out.append(Case("unpack/rejects_increasing_batch_sizes", "unpack_to_fixed_length",
                    "batch_sizes that grow are rejected", bad, {}, error_mentions="batch_sizes"))
    return out


def cases() -> list[Case]:
    return _packing_rule_cases() + _align_cases() + _validate_cases() + _pack_cases() + _unpack_cases()
