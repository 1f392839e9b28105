"""A bad-input campaign against the `seqpack` command: mutate the goldens' files and check each refusal.

Usage: bad_input_campaign.py SEQPACK_BINARY CASES_ROOT [--quick] [--limit N] [--seed N] [--jobs J]
                             [--timeout S] [--max-memory-mb MB] [--report FILE]

Starting from a few passing ("outputs") cases of every op in CASES_ROOT, it builds hostile variants
of what `seqpack eval` reads: safetensors files truncated or with corrupted headers (built byte by
byte, so that they can be malformed), tensors that are missing, extra, misnamed, of the wrong dtype
or rank, or hold NaN / Inf / negative / fractional / huge lengths; params of the wrong type or out
of range; model weights that do not fit; paths that name a directory, a FIFO, /dev/zero or
nothing; usage mistakes; and `seqpack init` with impossible sizes. `compiled.run` is left out: it
needs AOTInductor packages, which are build products, not goldens.

Each variant runs in a fresh folder and is checked as an outside user would: no crash (signal,
exit >= 128, sanitizer report), no hang (--timeout), exit status 3 (2 for a usage mistake; 4 is a
bug), exactly one stderr line that starts with "seqpack: ", says something and stays under 1,000
characters, and no output file, no *.partial file, and an existing output file left byte-identical.

A variant is counted as bad input only where it is certainly invalid; one that may be legal (a
whole float for an integer, NaN in the data, int64 weights that PyTorch would copy) may exit 0
with its output written or 3 by the same rules, and each passing case is also run unchanged as a
control. --quick runs ~300 variants spread over every op and mutation kind; --limit N runs N so
spread; the full form runs all of them (~3,300 runs, ~2,900 certainly bad; ~20 minutes on two busy
cores). The variants are fixed; --seed picks the sample and which runs start with an output file.
Prints one line per failure, grouped by category, then
`N tried, C crashes, H hangs, W wrong exits, P partial outputs, M bad messages`; exit status 0
when all counts but N are 0.
"""
import argparse
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reference"))
from seqpack_reference.losses import LOSSES  # noqa: E402  (the loss ops, by name)
from seqpack_reference.models import SPECS  # noqa: E402  (the models' descriptors: ops, inputs, params)

QUICK_SIZE = 300
BASES_PER_OP = 2
# Parsing a file happens before an op looks at it, so each container-level mutation (and each
# path or usage mistake) runs against every ROTATION-th op, rotating: every mutation and every op
# stays covered without repeating the same parse for all ops.
ROTATION = 3
MAX_LINE = 1000
LISTED_FAILURES = 50
EXIT_ALLOWED = {"bad": {3}, "usage": {2}, "bad_or_usage": {2, 3}, "either": {0, 3}, "ok": {0}}
COUNTED_BAD = ("bad", "usage", "bad_or_usage")
SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")

# ---------------------------------------------------------------------------------------------
# What the ops take, as far as the checks need it.

SEQUENCE_OPS = {"align_encoder_sequences", "validate_encoder_alignment", "pack_encoder_sequences",
                "pack_decoder_sequences"}
LOSS_OPS = set(LOSSES) | {"calc_loss"}
MODEL_OPS = {spec.op for spec in SPECS}
BACKWARD_OPS = LOSS_OPS | MODEL_OPS
# Tensors an op may go without (removing one is then not certainly wrong).
OPTIONAL_TENSORS = {
    "should_use_packing": {"lengths"}, "validate_encoder_alignment": {"lengths"}, "calc_loss": {"decoder_lengths"},
    **{op: {"mask", "weights"} for op in LOSS_OPS - {"calc_loss"}},
    "collate": {"encoder_lengths", "decoder_lengths", "encoder_mask", "decoder_mask"},
    **{spec.op: spec.optional_inputs | {"target"} for spec in SPECS},
}
# Ops whose lengths must hold one value per row of another input.
BATCH_LINKED = SEQUENCE_OPS | {"get_attention_mask", "calc_loss", "collate"} | MODEL_OPS
# The axis of time in a sequence tensor, and the lengths it must hold.
TIME_LINK = {"sequences": "lengths", "encoder_input": "lengths", "past_sequence": "encoder_lengths",
             "past_covariates": "encoder_lengths", "future_sequence": "decoder_lengths",
             "future_covariates": "decoder_lengths"}
MODEL_SEQUENCES = {"past_sequence", "future_sequence", "past_covariates", "future_covariates"}
REQUIRED_PARAMS = {
    "create_mask": {"size"}, "get_attention_mask": {"max_encoder_length", "max_decoder_length"},
    "packing_policy": {"model", "steps"}, "validate_encoder_alignment": {"expected_alignment"},
    "length_grouped_batches": {"batch_size"}, "rank_batches": {"ranks", "batch_size", "sampler"},
    "calc_loss": {"criterion"},
    **{spec.op: spec.required_params for spec in SPECS},
}
# Params that each op is also given mutated when its goldens leave them out (value: a legal one).
EXTRA_PARAMS = {
    **{op: {"reduction": "mean"} for op in ("loss.mae", "loss.mape", "loss.smape", "calc_loss")},
    "loss.mse": {"reduction": "mean", "regularization": 0.1, "regularization_order": 1},
    "loss.huber": {"reduction": "mean", "delta": 1.0},
    "loss.quantile": {"quantiles": [0.1, 0.5, 0.9]},
    "pack_encoder_sequences": {"batch_first": True, "source": "auto"},
    "pack_decoder_sequences": {"batch_first": True, "enforce_sorted": False},
    "align_encoder_sequences": {"source": "auto", "max_length": 1},
    "unpack_to_fixed_length": {"batch_first": True, "total_length": 1},
    "create_mask": {"inverse": False, "alignment": "left"},
    "get_attention_mask": {"causal_attention": True},
    "length_grouped_batches": {"bucket_batches": 16, "seed": 0, "shuffle": True},
    "rank_batches": {"bucket_batches": 16, "seed": 0, "shuffle": True, "drop_last": False},
    "collate": {"sample_alignment": "right"},
    **{spec.op: {"dropout": 0.0, **({"packing": "never"} if spec.family == "lstm" else {"num_heads": 1})}
       for spec in SPECS},
}
# Sizes: negative is wrong; 2^62 is wrong unless the op can take it without allocating it.
SIZE_KEYS = {"size", "max_length", "max_encoder_length", "max_decoder_length", "total_length", "steps", "batch_size",
             "bucket_batches", "num_past_features", "num_future_features", "d_model", "d_encoder", "d_decoder",
             "num_layers", "num_encoder_layers", "num_decoder_layers", "num_transformer_blocks", "num_heads",
             "output_dim", "d_hidden_continuous", "num_lstm_layers", "ctxt_seq_len", "tgt_seq_len",
             "num_static_features", "d_mlp_hidden"}
# align_encoder_sequences writes (B, T, F) whatever max_length is, and with a left target may
# never compare it with T.
UNBOUNDED_SIZES = {"batch_size", "bucket_batches", "steps", "max_length"}
# Model params that change a weight's shape or count: with the golden's weights, any other value is wrong.
WEIGHT_SHAPE_KEYS = {"num_past_features", "num_future_features", "d_model", "d_encoder", "d_decoder", "num_layers",
                     "num_encoder_layers", "num_decoder_layers", "num_transformer_blocks", "output_dim",
                     "d_hidden_continuous", "num_lstm_layers", "num_static_features"}
DEPTH_KEYS = {"num_layers", "num_encoder_layers", "num_decoder_layers", "num_transformer_blocks", "num_lstm_layers"}
PROBABILITY_KEYS = {"dropout", "mlp_dropout"}
POSITIVE_FLOAT_KEYS = {"delta", "beta"}

# ---------------------------------------------------------------------------------------------
# safetensors, by hand: an 8-byte little-endian header size, a JSON header, the data.

NUMPY_TYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
               "U8": "u1", "BOOL": "?"}
FLOATS = {"F64", "F32", "F16", "BF16"}


@dataclasses.dataclass(frozen=True)
class Tensor:
    name: str
    dtype: str
    shape: tuple
    raw: bytes

    @property
    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def array(self):
        return np.frombuffer(self.raw, NUMPY_TYPES[self.dtype]).reshape(self.shape).copy()

    def with_array(self, array, dtype=None):
        dtype = dtype or self.dtype
        array = np.array(array, NUMPY_TYPES[dtype], order="C")  # keeps a 0-d array 0-d
        return dataclasses.replace(self, dtype=dtype, shape=tuple(array.shape), raw=array.tobytes())


def parse_safetensors(blob):
    (size,) = struct.unpack_from("<Q", blob)
    header = json.loads(blob[8:8 + size])
    header.pop("__metadata__", None)
    data = blob[8 + size:]
    entries = sorted(header.items(), key=lambda item: item[1]["data_offsets"])
    return [Tensor(name, e["dtype"], tuple(e["shape"]), data[e["data_offsets"][0]:e["data_offsets"][1]])
            for name, e in entries]


def layout(tensors):
    """The header entries (a list, so that a mutation may repeat a name) and the data bytes."""
    entries, offset = [], 0
    for t in tensors:
        entry = {"dtype": t.dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(t.raw)]}
        entries.append([t.name, entry])
        offset += len(t.raw)
    return entries, b"".join(t.raw for t in tensors)


def header_text(entries, indent=None):
    items = [json.dumps(name) + ":" + json.dumps(entry, indent=indent) for name, entry in entries]
    return ("{" + ",".join(items) + "}").encode()


def pack(header, data, pad=True, size=None):
    if pad:
        header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header) if size is None else size) + header + data


def serialize(tensors):
    entries, data = layout(tensors)
    return pack(header_text(entries), data)


# ---------------------------------------------------------------------------------------------
# Mutations. A Source is what a file argument gets: bytes (written to a file) or a Special path.

@dataclasses.dataclass(frozen=True)
class Special:
    kind: str  # dir, fifo, devzero, missing, empty


@dataclasses.dataclass
class Mutation:
    op: str
    kind: str
    desc: str
    expect: str                 # a key of EXIT_ALLOWED
    inputs: object              # bytes, Special or None (no --in)
    params: object              # JSON text, Special or None (no --params)
    weights: object = None
    package: object = None
    flags: tuple = ()
    out: str = "fresh"          # fresh, dir, slash, nodir
    op_arg: str = None          # the op as given on the command line, when not `op`
    command: str = "eval"
    mentions: str = None        # a word the refusal must contain (the argument at fault)
    id: str = ""

    def fingerprint(self):
        parts = [self.command, self.op_arg or self.op, self.flags, self.out]
        for source in (self.inputs, self.params, self.weights, self.package):
            parts.append(hashlib.sha256(source).hexdigest() if isinstance(source, bytes) else repr(source))
        return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclasses.dataclass
class Base:
    op: str
    name: str
    params: dict
    backward: bool
    tensors: list
    weights: list

    def variant(self, kind, desc, expect, **changes):
        defaults = dict(inputs=serialize(self.tensors), params=json.dumps(self.params),
                        weights=serialize(self.weights) if self.weights is not None else None,
                        flags=("--backward",) if self.backward else ())
        for key in ("inputs", "weights"):
            if isinstance(changes.get(key), list):
                changes[key] = serialize(changes[key])
        return Mutation(op=self.op, kind=kind, desc=f"{self.name}: {desc}", expect=expect, **{**defaults, **changes})

    def tensor(self, name):
        return next((t for t in self.tensors if t.name == name), None)


def replaced(tensors, name, new):
    """`tensors` with the one named `name` replaced by `new` (None: removed), order kept."""
    return [new if t.name == name else t for t in tensors if t.name != name or new is not None]


def part(name):
    """A collate sample's part without its index: encoder_lengths.1 -> encoder_lengths."""
    return re.sub(r"\.\d+$", "", name)


def role(name):
    name = part(name)
    if name.endswith("lengths"):
        return "lengths"
    if name in ("batch_sizes", "sorted_indices", "unsorted_indices", "y_pred"):
        return name.replace("unsorted_", "sorted_")
    if name in MODEL_SEQUENCES:
        return "model_sequence"
    return "static" if name == "static_covariates" else "data"


# --- Container-level mutations: each a function of the tensors giving the file's bytes (None: not
# applicable). All are certainly invalid unless listed in VALID_CONTAINERS.

def truncations(tensors):
    blob = serialize(tensors)
    header = struct.unpack_from("<Q", blob)[0]
    data = 8 + header
    offsets = {0: "empty file", 4: "inside the size", 8: "after the size", 9: "inside the header",
               8 + header // 2: "inside the header", data - 1: "inside the header", data + 1: "inside the data",
               data + (len(blob) - data) // 2: "inside the data", len(blob) - 1: "inside the data"}
    return [(f"truncate@{o}", f"truncated to {o} of {len(blob)} bytes ({where})", blob[:o])
            for o, where in sorted(offsets.items()) if o < len(blob)]


def size_field(value):
    def make(tensors):
        entries, data = layout(tensors)
        text = header_text(entries)
        text += b" " * (-len(text) % 8)
        return pack(text, data, size=value(len(text), len(data)))
    return make


def whole_header(text, needs_data=False):
    """The header replaced by `text` (or text(entries)), the data kept; with needs_data, only where
    there is data (else the text may be a valid header)."""
    def make(tensors):
        entries, data = layout(tensors)
        if needs_data and not data:
            return None
        return pack(text(entries) if callable(text) else text, data)
    return make


def edit_entry(edit):
    """Edits the header entry of the first tensor holding bytes (so that its range is not empty)."""
    def make(tensors):
        entries, data = layout(tensors)
        target = next((e for _, e in entries if e["data_offsets"][1] > e["data_offsets"][0]), None)
        if target is None or edit(target, len(data)) is False:
            return None
        return pack(header_text(entries), data)
    return make


def edit_file(edit):
    def make(tensors):
        entries, data = layout(tensors)
        result = edit(entries, data)
        if result is None:
            return None
        header, data = result
        return pack(header, data)
    return make


DELETE = object()


def entry_edit(key, value):
    """Sets `key` of the entry to `value` (or value(entry)), or deletes it."""
    def edit(entry, _):
        if value is DELETE:
            del entry[key]
        else:
            entry[key] = value(entry) if callable(value) else value
    return edit_entry(edit)


def first_dim(value):
    return entry_edit("shape", lambda e: [value] + e["shape"][1:])


def offsets(make):
    return entry_edit("data_offsets", lambda e: make(*e["data_offsets"]))


def overlap(entries, data):
    if len(entries) < 2:
        return None
    entries[1][1]["data_offsets"] = list(entries[0][1]["data_offsets"])
    return header_text(entries), data


def gap(entries, data):
    for _, e in entries:
        e["data_offsets"] = [o + 8 for o in e["data_offsets"]]
    return header_text(entries), bytes(8) + data


def duplicate_name(entries, data):
    name, entry = entries[0]
    copy = dict(entry, data_offsets=[len(data), len(data) + entry["data_offsets"][1] - entry["data_offsets"][0]])
    return header_text(entries + [[name, copy]]), data + data[entry["data_offsets"][0]:entry["data_offsets"][1]]


def many_entries(entries, data):
    empty = {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
    return header_text(entries + [[f"t{i}", empty] for i in range(100_000)]), data


def invalid_utf8(entries, data):
    return header_text(entries).replace(entries[0][0].encode(), entries[0][0].encode() + b"\xff\xfe", 1), data


def nan_literal(entries, data):
    text = header_text(entries)
    return (text.replace(b'"shape":[', b'"shape":[NaN,', 1), data) if b'"shape":[' in text else None


def reversed_data(entries, data):
    offset, chunks = 0, []
    for _, e in reversed(entries):
        begin, end = e["data_offsets"]
        e["data_offsets"] = [offset, offset + end - begin]
        offset += end - begin
        chunks.append(data[begin:end])
    return header_text(entries), b"".join(chunks)


def with_metadata(value):
    return lambda entries, data: (header_text([["__metadata__", value]] + entries), data)


DEEP = b"[" * 100_000 + b"]" * 100_000
CONTAINER_MUTATIONS = [
    ("size=0", "header size field 0", size_field(lambda h, d: 0)),
    ("size=1", "header size field 1", size_field(lambda h, d: 1)),
    ("size-1", "header size field one short", size_field(lambda h, d: h - 1)),
    ("size+1", "header size field one long", size_field(lambda h, d: h + 1)),
    ("size>file", "header size field past the end of the file", size_field(lambda h, d: h + d + 1)),
    ("size=2^32", "header size field 2^32", size_field(lambda h, d: 2 ** 32)),
    ("size=2^63", "header size field 2^63", size_field(lambda h, d: 2 ** 63)),
    ("size=2^64-1", "header size field 2^64 - 1", size_field(lambda h, d: 2 ** 64 - 1)),
    ("header-invalid-json", "header '{' alone", whole_header(b"{")),
    ("header-spaces", "header of spaces only", whole_header(b"        ")),
    ("header-array", "header a JSON array", whole_header(b"[]")),
    ("header-string", "header a JSON string", whole_header(b'"tensors"')),
    ("header-number", "header a JSON number", whole_header(b"42")),
    ("header-null", "header JSON null", whole_header(b"null")),
    ("header-empty-object", "header {} with the data left behind", whole_header(b"{}", needs_data=True)),
    ("header-deep-array", "header 100,000 nested arrays", whole_header(DEEP)),
    ("header-deep-entry", "an entry of 100,000 nested arrays",
     whole_header(lambda entries: b'{"' + entries[0][0].encode() + b'":' + DEEP + b"}")),
    ("header-trailing-garbage", "header followed by garbage inside its size",
     whole_header(lambda entries: header_text(entries) + b"garbage")),
    ("header-invalid-utf8", "header with invalid UTF-8 in a name", edit_file(invalid_utf8)),
    ("header-nan-literal", "header with a NaN literal in a shape", edit_file(nan_literal)),
    ("entry-number", "a tensor entry that is a number",
     whole_header(lambda entries: header_text([[entries[0][0], 5]] + entries[1:]))),
    ("entry-list", "a tensor entry that is a list",
     whole_header(lambda entries: header_text([[entries[0][0], [entries[0][1]]]] + entries[1:]))),
    ("entry-string", "a tensor entry that is a string",
     whole_header(lambda entries: header_text([[entries[0][0], "F32"]] + entries[1:]))),
    ("entry-null", "a tensor entry that is null",
     whole_header(lambda entries: header_text([[entries[0][0], None]] + entries[1:]))),
    ("dtype-missing", "no dtype", entry_edit("dtype", DELETE)),
    ("dtype-unknown", "dtype F128", entry_edit("dtype", "F128")),
    ("dtype-lowercase", "dtype in lower case", entry_edit("dtype", lambda e: e["dtype"].lower())),
    ("dtype-empty", "dtype \"\"", entry_edit("dtype", "")),
    ("dtype-number", "dtype a number", entry_edit("dtype", 5)),
    ("dtype-null", "dtype null", entry_edit("dtype", None)),
    ("dtype-list", "dtype a list", entry_edit("dtype", lambda e: [e["dtype"]])),
    ("shape-missing", "no shape", entry_edit("shape", DELETE)),
    ("shape-1.5", "shape [1.5, ...]", first_dim(1.5)),
    ("shape-8.2e24", "shape [8.2e24, ...]", first_dim(8.2e24)),
    ("shape-3.1e301", "shape [3.1e301, ...]", first_dim(3.1e301)),
    ("shape-whole-floats", "shape of whole floats (4.0)",
     edit_entry(lambda e, _: False if not e["shape"] else e.update(shape=[float(d) for d in e["shape"]]))),
    ("shape-negative", "shape [-1, ...]", first_dim(-1)),
    ("shape-2^61", "shape [2^61, ...]", first_dim(2 ** 61)),
    ("shape-2^32x2^32", "shape [4294967296, 4294967296]", entry_edit("shape", [2 ** 32, 2 ** 32])),
    ("shape-2^64", "shape [2^64, ...]", first_dim(2 ** 64)),
    ("shape-string", "shape a string", entry_edit("shape", "3")),
    ("shape-null", "shape null", entry_edit("shape", None)),
    ("shape-object", "shape an object", entry_edit("shape", {})),
    ("shape-nested", "shape of lists", entry_edit("shape", lambda e: [[d] for d in e["shape"]] or [[1]])),
    ("shape-bigger", "shape one row more than its bytes",
     entry_edit("shape", lambda e: [e["shape"][0] + 1] + e["shape"][1:] if e["shape"] else [2])),
    ("offsets-missing", "no data_offsets", entry_edit("data_offsets", DELETE)),
    ("offsets-reversed", "data_offsets [end, begin]", offsets(lambda begin, end: [end, begin])),
    ("offsets-negative", "data_offsets [-1, end]", offsets(lambda begin, end: [-1, end])),
    ("offsets-fraction", "data_offsets [begin + 0.5, end]", offsets(lambda begin, end: [begin + 0.5, end])),
    ("offsets-whole-floats", "data_offsets of whole floats", offsets(lambda begin, end: [float(begin), float(end)])),
    ("offsets-2^61", "data_offsets [begin, 2^61]", offsets(lambda begin, end: [begin, 2 ** 61])),
    ("offsets-2^64", "data_offsets [2^64, 2^64 + n]", offsets(lambda begin, end: [2 ** 64, 2 ** 64 + end - begin])),
    ("offsets-past-end", "data_offsets past the end of the data",
     edit_entry(lambda e, n: e.update(data_offsets=[n, n + e["data_offsets"][1] - e["data_offsets"][0]]))),
    ("offsets-shifted", "data_offsets shifted by one byte", offsets(lambda begin, end: [begin + 1, end + 1])),
    ("offsets-one", "data_offsets of one number", offsets(lambda begin, end: [begin])),
    ("offsets-three", "data_offsets of three numbers", offsets(lambda begin, end: [begin, end, end])),
    ("offsets-string", "data_offsets a string", entry_edit("data_offsets", "0,8")),
    ("offsets-null", "data_offsets null", entry_edit("data_offsets", None)),
    ("overlap", "two tensors on the same bytes", edit_file(overlap)),
    ("gap", "8 bytes before the first tensor", edit_file(gap)),
    ("trailing-byte", "one trailing byte", edit_file(lambda entries, data: (header_text(entries), data + b"\0"))),
    ("trailing-page", "4096 trailing bytes",
     edit_file(lambda entries, data: (header_text(entries), data + bytes(4096)))),
    ("duplicate-name", "a name twice, on two byte ranges", edit_file(duplicate_name)),
    ("many-entries", "100,000 extra empty tensors", edit_file(many_entries)),
    ("metadata-not-strings", "__metadata__ mapping to a number", edit_file(with_metadata({"format": 5}))),
    ("metadata-list", "__metadata__ a list", edit_file(with_metadata(["pt"]))),
    # Valid variants: the format allows them, so refusing them is no failure but accepting must work.
    ("valid-unpadded", "header without padding",
     lambda tensors: pack(header_text(layout(tensors)[0]), layout(tensors)[1], pad=False)),
    ("valid-reversed-data", "tensors' bytes in reverse order", edit_file(reversed_data)),
    ("valid-metadata", "__metadata__ {\"format\": \"pt\"}", edit_file(with_metadata({"format": "pt"}))),
    ("valid-indented", "an indented header",
     lambda tensors: pack(header_text(layout(tensors)[0], indent=2), layout(tensors)[1])),
]
VALID_CONTAINERS = {"valid-unpadded", "valid-reversed-data", "valid-metadata", "valid-indented"}
PARSES_FINE = {"many-entries"}  # a valid file whose tensors are wrong: the refusal may name them, not the file


def rotated(items, index, share=ROTATION):
    return [item for k, item in enumerate(items) if (k + index) % share == 0]


def container_mutations(base, target, index):
    """Truncations of the file, then the rotating share of CONTAINER_MUTATIONS; target: inputs or weights."""
    tensors = base.tensors if target == "inputs" else base.weights
    flag = "--in" if target == "inputs" else "--weights"
    mentions = "--in" if target == "inputs" else "weights"  # a state_dict's mismatch names "weights"
    made = [(kind, desc, blob) for kind, desc, blob in truncations(tensors)]
    for kind, desc, make in rotated(CONTAINER_MUTATIONS, index):
        blob = make(list(tensors))
        if blob is not None:
            made.append((kind, desc, blob))
    for kind, desc, blob in made:
        valid = kind in VALID_CONTAINERS
        yield base.variant(f"{target}.{kind.split('@')[0]}", f"{flag} {desc}", "either" if valid else "bad",
                           mentions=None if valid or kind in PARSES_FINE else mentions, **{target: blob})


# --- Tensor-level mutations of the inputs.

RENAMES = [("upper", str.upper), ("space", lambda n: n + " "), ("newline", lambda n: n + "\n"),
           ("escape", lambda n: "\x1b[31m" + n), ("nul", lambda n: n + "\x00"), ("long", lambda n: n + "x" * 5000),
           ("empty", lambda n: ""), ("unicode", lambda n: n + "\u00e9")]


def set_first(t, value, dtype=None):
    array = t.array().astype(NUMPY_TYPES[dtype or t.dtype])
    array.flat[0] = value
    return t.with_array(array, dtype)


def lengths_variants(base, t):
    """Values a lengths tensor can never hold, and shapes it cannot have."""
    floating = t.dtype in FLOATS
    signed = t.dtype if t.dtype in ("I64", "I32", "I16", "I8") else "I64"
    values = [("nan", float("nan"), "F64"), ("inf", float("inf"), "F64"), ("-inf", float("-inf"), "F64"),
              ("negative", -1, None if floating else signed), ("fraction", 1.5, None if floating else "F64"),
              ("huge", 1e30 if floating else 2 ** 62, None if floating else "I64"),
              ("int64-min", -2 ** 63, "I64")]
    if t.numel:
        for tag, value, dtype in values:
            yield tag, f"{t.name}[0] = {value}", set_first(t, value, dtype), "bad"
    collate = base.op == "collate"
    yield "bool", f"{t.name} as bool", t.with_array(t.array() != 0, "BOOL"), "either" if collate else "bad"
    yield ("rank3", f"{t.name} of shape [B, 1, 1]", t.with_array(t.array().reshape(-1, 1, 1)),
           "either" if collate else "bad")
    if t.numel:
        yield "rank0", f"{t.name} a scalar", t.with_array(t.array().reshape(-1)[0]), "either" if collate else "bad"
        yield "two-columns", f"{t.name} of shape [B, 2]", t.with_array(np.repeat(t.array().reshape(-1, 1), 2, 1)), "bad"
        if base.op in BATCH_LINKED:
            yield "drop-row", f"{t.name} one row short", t.with_array(t.array()[:-1]), "bad"


def batch_sizes_variants(base, t):
    array = t.array()
    if t.numel:
        yield "negative", "batch_sizes[0] = -1", set_first(t, -1), "bad"
        yield "huge", "batch_sizes[0] = 2^62", set_first(t, 2 ** 62), "bad"
        yield "float", "batch_sizes as float64", t.with_array(array, "F64"), "bad"
        yield "rank2", "batch_sizes of shape [N, 1]", t.with_array(array.reshape(-1, 1)), "bad"
    if t.numel >= 2:
        yield "increasing", "batch_sizes growing at the end", t.with_array(np.append(array[:-1], array[0] + 1)), "bad"


def index_variants(base, t):
    if t.numel:
        yield "out-of-range", f"{t.name}[0] = 99", set_first(t, 99), "bad"
        yield "negative", f"{t.name}[0] = -1", set_first(t, -1), "bad"
        yield "float", f"{t.name} as float64", t.with_array(t.array(), "F64"), "bad"


def y_pred_variants(base, t):
    # The goldens refuse an integer y_pred with --backward; without it the loss may be defined.
    expect = "bad" if base.backward else "either"
    yield "int64", "y_pred as int64", t.with_array(t.array(), "I64"), expect
    yield "bool", "y_pred as bool", t.with_array(t.array() != 0, "BOOL"), expect


def model_sequence_variants(base, t):
    array = t.array()
    yield "int64", f"{t.name} as int64", t.with_array(array, "I64"), "bad"
    yield "bool", f"{t.name} as bool", t.with_array(array != 0, "BOOL"), "bad"
    other = "F32" if t.dtype == "F64" else "F64"
    yield "other-float", f"{t.name} as {other}", t.with_array(array, other), "bad"
    yield "rank2", f"{t.name} with time and features merged", t.with_array(array.reshape(array.shape[0], -1)), "bad"
    yield "rank4", f"{t.name} with a trailing dimension", t.with_array(array[..., None]), "bad"
    yield ("extra-feature", f"{t.name} with one more feature",
           t.with_array(np.concatenate([array, array[..., :1]], -1)), "bad")
    if array.shape[0] >= 1:
        yield "drop-row", f"{t.name} one row short", t.with_array(array[:-1]), "bad"


def static_variants(base, t):
    array = t.array()
    yield "int64", f"{t.name} as int64", t.with_array(array, "I64"), "bad"
    yield "extra-feature", f"{t.name} one column wider", t.with_array(np.concatenate([array, array[:, :1]], 1)), "bad"


def data_variants(base, t):
    """Odd but perhaps legal data: refusing it is fine, a crash or an internal error is not."""
    array = t.array()
    if t.dtype in FLOATS and t.numel:
        yield "nan", f"{t.name}[0] = NaN", set_first(t, float("nan")), "either"
        yield "inf", f"{t.name}[0] = Inf", set_first(t, float("inf")), "either"
    yield "int64", f"{t.name} as int64", t.with_array(array, "I64"), "either"
    yield "rank+1", f"{t.name} with a trailing dimension", t.with_array(array[..., None]), "either"


ROLE_VARIANTS = {"lengths": lengths_variants, "batch_sizes": batch_sizes_variants, "sorted_indices": index_variants,
                 "y_pred": y_pred_variants, "model_sequence": model_sequence_variants, "static": static_variants,
                 "data": data_variants}


def time_axis(base):
    return 0 if base.op.startswith("pack_") and base.params.get("batch_first") is False else 1


def tensor_mutations(base, first=True):
    """Each tensor's values, dtype and shape made wrong, and each removed and renamed; for a
    second base of the same op, only the lengths' values (which differ from case to case)."""
    tensors, names = base.tensors, [t.name for t in base.tensors]
    optional = OPTIONAL_TENSORS.get(base.op, set())
    for t in tensors:
        # Removing a part one sample has and another keeps is wrong even where the part is optional.
        shared = part(t.name) != t.name and sum(part(n) == part(t.name) for n in names) > 1
        required = part(t.name) not in optional or shared
        if (base.backward and t.name == "target") or t.name in ("sorted_indices", "unsorted_indices"):
            required = True  # --backward needs a target; the indices come in pairs (when alone, say so)
        if not first and role(t.name) != "lengths":
            continue
        if first:
            yield base.variant("tensor.missing", f"without {t.name!r}", "bad" if required else "either",
                               inputs=replaced(tensors, t.name, None))
        for tag, value, new, expect in ROLE_VARIANTS[role(t.name)](base, t):
            yield base.variant(f"tensor.{role(t.name)}.{tag}", value, expect, inputs=replaced(tensors, t.name, new))
        linked = base.tensor(TIME_LINK.get(part(t.name), ""))
        if linked is not None and linked.numel and t.numel and linked.array().max() > 1:
            short = t.with_array(np.take(t.array(), [0], axis=time_axis(base)))
            yield base.variant("tensor.too-few-steps", f"{t.name} cut to one step, below {linked.name}", "bad",
                               inputs=replaced(tensors, t.name, short))
    if not first:
        return
    head = tensors[0]
    for tag, rename in RENAMES:
        new = dataclasses.replace(head, name=rename(head.name))
        yield base.variant(f"tensor.rename.{tag}", f"{head.name!r} renamed {new.name[:40]!r}", "bad",
                           inputs=replaced(tensors, head.name, new))
    extra = Tensor("bogus", "F32", (1,), bytes(4))
    yield base.variant("tensor.extra", "an extra tensor 'bogus'", "bad", inputs=tensors + [extra])
    yield base.variant("tensor.extra", "an extra tensor named with a newline and ESC", "bad",
                       inputs=tensors + [dataclasses.replace(extra, name="bo\ngus\x1b[0m")])


# --- Params mutations: each a JSON text for one key's value.

def params_text(params, key, fragment):
    """`params` as JSON with `key` holding the raw JSON `fragment` (which json.dumps cannot write)."""
    marker = "\u0001MUTATED\u0001"
    return json.dumps({**params, key: marker}).replace(json.dumps(marker), fragment)


def int_mutations(key, value, op):
    weights_fixed = op.startswith("model.") and key in WEIGHT_SHAPE_KEYS
    wrong_if_changed = "bad" if weights_fixed or key == "num_heads" else "either"  # 1e3 heads > 64
    size = key in SIZE_KEYS
    yield "fraction", "1.5", "bad"
    yield "whole-float", f"{value}.0", "either"
    yield "exponent", "1e3", wrong_if_changed
    yield "string", json.dumps(str(value)), "bad"
    yield "bool", "true", "bad"
    yield "list", f"[{value}]", "either" if key == "d_mlp_hidden" else "bad"
    yield "2^63", str(2 ** 63), "bad"
    yield "10^30", "1" + "0" * 30, "bad"
    yield "below-int64", str(-2 ** 63 - 1), "bad"
    yield "negative", "-1", "bad" if size else "either"
    yield "2^62", str(2 ** 62), "bad" if size and key not in UNBOUNDED_SIZES else "either"
    if weights_fixed:
        yield "plus-one", str(value + 1), "bad"
        yield "huge", "5000" if key in DEPTH_KEYS else str(10 ** 9), "bad"


def float_mutations(key, value, op):
    yield "string", '"x"', "bad"
    yield "bool", "true", "bad"
    yield "list", "[0.5]", "bad"
    yield "overflow", "1e400", "either"
    if key in PROBABILITY_KEYS:
        for bad in ("-0.5", "1.5", "2.0"):
            yield f"probability{bad}", bad, "bad"
    if key in POSITIVE_FLOAT_KEYS:
        yield "negative", "-1.0", "bad"


def bool_mutations(key, value, op):
    yield "string-yes", '"yes"', "bad"
    yield "string-true", '"true"', "bad"
    yield "number", "1", "either"
    yield "list", "[true]", "bad"


def str_mutations(key, value, op):
    yield "empty", '""', "bad"
    yield "number", "5", "bad"
    yield "unknown", '"no_such_value"', "bad"
    yield "control-chars", json.dumps(value + "\n\x1b[2J\r"), "bad"
    yield "long", json.dumps("y" * 10_000), "bad"
    yield "list", json.dumps([value]), "bad"
    yield "bool", "false", "bad"


def list_mutations(key, value, op):
    yield "string", '"x"', "bad"
    yield "strings", '["a"]', "bad"
    yield "null-item", "[0.5, null]", "bad"
    yield "empty", "[]", "either"
    if key == "d_mlp_hidden":
        yield from (("negative-item", "[-1]", "bad"), ("fraction-item", "[1.5]", "bad"),
                    ("17-items", json.dumps([4] * 17), "bad"))


def value_mutations(key, value, op):
    kind = {bool: bool_mutations, int: int_mutations, float: float_mutations, str: str_mutations,
            list: list_mutations}.get(type(value))
    return kind(key, value, op) if kind else []


def lengths_max(base, name):
    t = base.tensor(name)
    return int(np.nanmax(t.array())) if t is not None and t.numel else 0


def below_lengths(key, lengths_name):
    """Sets `key` one below the longest of `lengths_name`, which then does not fit."""
    def make(base):
        longest = lengths_max(base, lengths_name)
        if longest < 1:
            return []
        return [(f"{key}-below-lengths", f"{key} = {longest - 1}, below the longest {lengths_name}",
                 json.dumps({**base.params, key: longest - 1}), "bad")]
    return make


def huge_size(key):
    """A size whose tensor (at least one row) cannot be allocated."""
    return lambda base: ([(f"{key}-2^40", f"{key} = 2^40", json.dumps({**base.params, key: 2 ** 40}), "bad")]
                         if base.tensors[0].shape and base.tensors[0].shape[0] else [])


def total_length_short(base):
    steps = base.tensor("batch_sizes").numel
    return [("total_length-short", f"total_length = {steps - 1}, below the longest row",
             json.dumps({**base.params, "total_length": steps - 1}), "bad")] if steps else []


def batching_overflow(base):
    return [("batch-overflow", "batch_size = bucket_batches = 2^40 (their product overflows)",
             json.dumps({**base.params, "batch_size": 2 ** 40, "bucket_batches": 2 ** 40}), "either"),
            ("batch-huge", "batch_size 2^62", json.dumps({**base.params, "batch_size": 2 ** 62}), "either"),
            ("bucket-zero", "bucket_batches 0", json.dumps({**base.params, "bucket_batches": 0}), "either")]


SPECIFIC_PARAMS = {
    "create_mask": [below_lengths("size", "lengths"), huge_size("size")],
    "get_attention_mask": [below_lengths("max_encoder_length", "encoder_lengths"),
                           below_lengths("max_decoder_length", "decoder_lengths"), huge_size("max_encoder_length")],
    "packing_policy": [below_lengths("steps", "lengths")],
    "unpack_to_fixed_length": [total_length_short, huge_size("total_length")],
    "length_grouped_batches": [batching_overflow],
    "rank_batches": [batching_overflow],
}
INVALID_JSON = ['{"size": }', "{", '{"a": 1,}', "{'a': 1}", '{"a": NaN}', '{"a": 1} trailing',
                b'{"a": "\xff\xfe"}']  # bytes: invalid UTF-8, through a file
NOT_OBJECTS = ["[]", "42", '"text"', "true", "[" * 10_000 + "]" * 10_000]


def params_mutations(base):
    params = base.params
    keys = {**EXTRA_PARAMS.get(base.op, {}), **params}
    # Every key gets a third of its type's mutations, rotating, so that each mutation still meets a
    # third of the keys: the same JSON check need not run for every key of every op.
    for index, (key, value) in enumerate(sorted(keys.items())):
        for tag, fragment, expect in rotated(list(value_mutations(key, value, base.op)), index):
            # A refusal names the key, except where a legal value only fails to fit the weights.
            mentions = key if expect == "bad" and tag != "plus-one" else None
            yield base.variant(f"params.{type(value).__name__}.{tag}", f"params.{key} = {fragment[:60]}", expect,
                               params=params_text(params, key, fragment), mentions=mentions)
    for key in sorted(params):
        required = key in REQUIRED_PARAMS.get(base.op, ())
        yield base.variant("params.missing", f"without params.{key}", "bad" if required else "either",
                           params=json.dumps({k: v for k, v in params.items() if k != key}),
                           mentions=key if required else None)
    for tag, key in (("unknown-key", "frobnicate"), ("control-key", "size\n\x1b[0m"), ("deep-value", None)):
        text = params_text(params, "nested", "[" * 10_000 + "]" * 10_000) if key is None else \
            json.dumps({**params, key: 1})
        yield base.variant(f"params.{tag}", f"an unknown params key ({tag})", "bad", params=text)
    for text in INVALID_JSON:
        yield base.variant("params.invalid-json", f"params {text[:30]!r}", "bad", params=text, mentions="--params")
    for text in NOT_OBJECTS:
        yield base.variant("params.not-object", f"params {text[:30]!r} (a file)", "bad", params=text,
                           mentions="params")
    yield base.variant("params.null", "params null (a file)", "bad" if REQUIRED_PARAMS.get(base.op) else "either",
                       params="null")
    for make in SPECIFIC_PARAMS.get(base.op, []):
        for kind, desc, text, expect in make(base):
            yield base.variant(f"params.{kind}", desc, expect, params=text)


# --- Weights (model ops).

def weights_mutations(base):
    weights = base.weights
    two_d = next((w for w in weights if len(w.shape) == 2 and w.shape[0] != w.shape[1]), weights[0])
    for index in sorted({0, len(weights) // 2, len(weights) - 1}):
        yield base.variant("weights.missing", f"weights without {weights[index].name!r}", "bad",
                           weights=replaced(weights, weights[index].name, None))
    extra = dataclasses.replace(weights[0], name=weights[0].name + ".extra")
    yield base.variant("weights.extra", f"weights with an extra {extra.name!r}", "bad", weights=weights + [extra])
    renamed = dataclasses.replace(weights[-1], name=weights[-1].name + "_x")
    yield base.variant("weights.misnamed", f"weights with {renamed.name!r}", "bad",
                       weights=replaced(weights, weights[-1].name, renamed))
    yield base.variant("weights.lightning-prefix-typo", "weights named under 'modle.'", "bad",
                       weights=[dataclasses.replace(w, name="modle." + w.name) for w in weights])
    grown = two_d.with_array(np.concatenate([two_d.array(), two_d.array()[:1]], 0))
    yield base.variant("weights.misshaped", f"{two_d.name} one row longer", "bad",
                       weights=replaced(weights, two_d.name, grown))
    if len(two_d.shape) == 2 and two_d.shape[0] != two_d.shape[1]:
        turned = dataclasses.replace(two_d, shape=two_d.shape[::-1])
        yield base.variant("weights.transposed", f"{two_d.name} of shape {list(turned.shape)}", "bad",
                           weights=replaced(weights, two_d.name, turned))
    yield base.variant("weights.inputs-file", "the inputs file as weights", "bad", weights=base.tensors)
    yield base.variant("weights.empty", "weights with no tensors", "bad", weights=[])
    # PyTorch's load_state_dict copies across dtypes; refusing is fine too.
    yield base.variant("weights.int64", f"{two_d.name} as int64", "either",
                       weights=replaced(weights, two_d.name, two_d.with_array(two_d.array(), "I64")))
    other = "F32" if two_d.dtype == "F64" else "F64"
    yield base.variant("weights.mixed-floats", f"{two_d.name} as {other}", "either",
                       weights=replaced(weights, two_d.name, two_d.with_array(two_d.array(), other)))
    yield base.variant("weights.nan", f"{two_d.name}[0] = NaN", "either",
                       weights=replaced(weights, two_d.name, set_first(two_d, float("nan"))))


# --- Paths and usage mistakes, op flags, and `seqpack init`.

PATH_MUTATIONS = [
    ("path.in", "--in names a directory", dict(inputs=Special("dir")), "--in"),
    ("path.in", "--in names a FIFO", dict(inputs=Special("fifo")), "--in"),
    ("path.in", "--in names /dev/zero", dict(inputs=Special("devzero")), "--in"),
    ("path.in", "--in names no file", dict(inputs=Special("missing")), "--in"),
    ("path.in", "--in names an empty file", dict(inputs=b""), "--in"),
    ("path.params", "--params names a directory", dict(params=Special("dir")), "--params"),
    ("path.params", "--params names a FIFO", dict(params=Special("fifo")), "--params"),
    ("path.params", "--params names /dev/zero", dict(params=Special("devzero")), "--params"),
    ("path.params", "--params names no file", dict(params=Special("missing")), "--params"),
    ("path.out", "--out names an existing directory", dict(out="dir"), "--out"),
    ("path.out", "--out ends in '/'", dict(out="slash"), "--out"),
    ("path.out", "--out in a folder that does not exist", dict(out="nodir"), "--out"),
]
WEIGHTS_PATH_MUTATIONS = [
    ("path.weights", f"--weights names {what}", dict(weights=Special(kind)), "--weights")
    for kind, what in (("dir", "a directory"), ("fifo", "a FIFO"), ("devzero", "/dev/zero"), ("missing", "no file"))
]
USAGE_MUTATIONS = [
    ("usage", "no --in", dict(inputs=None), "usage"),
    ("usage", "--in given an empty path", dict(inputs=Special("empty")), "bad_or_usage"),
    ("usage", "an unknown flag", dict(flags=("--frobnicate",)), "usage"),
    ("usage", "--params without its value", dict(params=None, flags=("--params",)), "usage"),
    ("usage", "--max-tensor-bytes 0", dict(flags=("--max-tensor-bytes", "0")), "usage"),
    ("usage", "--max-tensor-bytes -1", dict(flags=("--max-tensor-bytes", "-1")), "usage"),
    ("usage", "--max-tensor-elements 1.5", dict(flags=("--max-tensor-elements", "1.5")), "usage"),
    ("usage", "--max-file-bytes 10^30", dict(flags=("--max-file-bytes", "1" + "0" * 30)), "usage"),
    ("limits", "--max-file-bytes 16, below the input's size", dict(flags=("--max-file-bytes", "16")), "bad"),
]


def invocation_mutations(base, index):
    keep_flags = ("--backward",) if base.backward else ()
    table = PATH_MUTATIONS + USAGE_MUTATIONS + (WEIGHTS_PATH_MUTATIONS if base.weights is not None else [])
    for kind, desc, changes, how in rotated(table, index):
        expect, mentions = (how, None) if how in EXIT_ALLOWED else ("bad", how)
        if "flags" in changes:
            changes = dict(changes, flags=keep_flags + changes["flags"])
        yield base.variant(kind, desc, expect, mentions=mentions, **changes)
    yield base.variant("usage.op", "the op misspelled", "usage", op_arg=base.op + "_nope")
    yield base.variant("usage.op", "the op with a newline and ESC", "usage", op_arg=base.op + "\n\x1b[0m")
    if max(t.numel for t in base.tensors) > 1:
        yield base.variant("limits", "--max-tensor-elements 1, below an input's size", "bad",
                           flags=keep_flags + ("--max-tensor-elements", "1"))
    if base.weights is None:
        yield base.variant("flag.weights", "--weights given to an op without weights", "bad",
                           weights=serialize(base.tensors), mentions="--weights")
    else:
        yield base.variant("flag.weights", "a model without --weights", "bad", weights=None, mentions="--weights")
    if base.op not in BACKWARD_OPS:
        yield base.variant("flag.backward", "--backward on an op without gradients", "bad", flags=("--backward",),
                           mentions="--backward")
    yield base.variant("flag.package", "--package given to an op without packages", "bad",
                       package=serialize(base.tensors), mentions="--package")


def init_mutations(base):
    # The constructor's params only: the loss's are unknown to init.
    params = {k: v for k, v in base.params.items() if k not in ("criterion", "quantiles", "use_loss_masking")}
    depth = next((k for k in sorted(params) if k in DEPTH_KEYS), "num_layers")
    width = "d_model" if "d_model" in params else "d_encoder"
    table = [("init.params", f"init with {depth} = 5000", json.dumps({**params, depth: 5000}), (), "bad"),
             ("init.params", f"init with {width} = 10^9", json.dumps({**params, width: 10 ** 9}), (), "bad"),
             ("init.params", "init with dropout = 1.5", json.dumps({**params, "dropout": 1.5}), (), "bad"),
             ("init.params", "init with an unknown key", json.dumps({**params, "frobnicate": 1}), (), "bad"),
             ("init.params", "init with invalid JSON params", "{", (), "bad"),
             ("init.dtype", "init --dtype float16", json.dumps(params), ("--dtype", "float16"), "bad"),
             ("init.seed", "init --seed x", json.dumps(params), ("--seed", "x"), "usage")]
    for kind, desc, text, flags, expect in table:
        yield base.variant(kind, desc, expect, command="init", inputs=None, weights=None, params=text, flags=flags)


# ---------------------------------------------------------------------------------------------
# Choosing the goldens and building the campaign.

def load_bases(root):
    by_op = defaultdict(list)
    for case_json in sorted(Path(root).rglob("case.json")):
        meta = json.loads(case_json.read_text())
        if meta["expect"] != "outputs" or meta["op"] == "compiled.run":  # compiled.run needs packages
            continue
        folder = case_json.parent
        tensors = parse_safetensors((folder / "inputs.safetensors").read_bytes())
        if not tensors:  # nothing to mutate but the file itself
            continue
        weights_file = folder / "weights.safetensors"
        weights = parse_safetensors(weights_file.read_bytes()) if weights_file.exists() else None
        size = sum(len(t.raw) for t in tensors + (weights or []))
        # Cases whose every tensor holds values (so that values can be mutated), of two rows or more
        # (so that a row can go), with lengths, with the most kinds of tensor, small first.
        rank = (any(t.numel == 0 for t in tensors),
                any(t.shape[:1] in ((), (1,)) for t in tensors if part(t.name) == t.name),  # collate's are (1,)
                all(role(t.name) != "lengths" for t in tensors), -len({part(t.name) for t in tensors}), size,
                str(folder))
        by_op[meta["op"]].append((rank, Base(meta["op"], str(folder.relative_to(root)), meta["params"],
                                             bool(meta.get("backward")), tensors, weights)))
    return {op: [base for _, base in sorted(found, key=lambda item: item[0])[:BASES_PER_OP]]
            for op, found in sorted(by_op.items())}


def build_campaign(root):
    controls, mutations = [], []
    for index, (op, bases) in enumerate(load_bases(root).items()):
        first = bases[0]
        controls.append(first.variant("control", "unchanged", "ok"))
        mutations += container_mutations(first, "inputs", index)
        mutations += invocation_mutations(first, index)
        mutations += params_mutations(first)
        mutations += tensor_mutations(first)
        for base in bases[1:]:  # the values differ from case to case; the names do not
            mutations += tensor_mutations(base, first=False)
        if first.weights is not None:
            mutations += container_mutations(first, "weights", index)
            mutations += weights_mutations(first)
            mutations += init_mutations(first)
    unique, seen, numbers = [], set(), Counter()
    for m in mutations:
        fingerprint = m.fingerprint()
        if fingerprint not in seen:
            seen.add(fingerprint)
            numbers[m.op, m.kind] += 1
            m.id = f"{m.op}/{m.kind}#{numbers[m.op, m.kind]}"
            unique.append(m)
    for c in controls:
        c.id = f"{c.op}/control"
    return controls, unique


def spread(mutations, count, rng):
    """`count` mutations, round-robin over the ops and, within an op, over its mutation kinds."""
    queues = {}
    for op in sorted({m.op for m in mutations}):
        kinds = defaultdict(list)
        for m in mutations:
            if m.op == op:
                kinds[m.kind].append(m)
        groups = [rng.sample(group, len(group)) for _, group in sorted(kinds.items())]
        rng.shuffle(groups)
        queues[op] = [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]
    chosen, depth = [], 0
    while len(chosen) < count and any(depth < len(q) for q in queues.values()):
        chosen += [q[depth] for q in queues.values() if depth < len(q)][:count - len(chosen)]
        depth += 1
    return chosen


# ---------------------------------------------------------------------------------------------
# Running one mutation and judging it.

@dataclasses.dataclass
class Result:
    mutation: Mutation
    argv: list
    exit: object            # int, or "timeout"
    stderr: str
    seconds: float
    failures: list          # (category, detail)


def materialize(folder, name, source):
    if source is None:
        return None
    if isinstance(source, bytes):
        (folder / name).write_bytes(source)
        return str(folder / name)
    path = folder / name
    if source.kind == "dir":
        path.mkdir()
    elif source.kind == "fifo":
        os.mkfifo(path)
    elif source.kind == "devzero":
        return "/dev/zero"
    elif source.kind == "empty":
        return ""
    return str(path)  # missing: never created


def params_argument(folder, params):
    """Inline JSON when it is an object short enough for a command line, else a file."""
    if isinstance(params, str) and params.startswith("{") and len(params) < 4096:
        return params
    return materialize(folder, "params.json", params.encode() if isinstance(params, str) else params)


def out_path(folder, kind):
    if kind == "dir":
        (folder / "taken").mkdir()
        return str(folder / "taken")
    return {"fresh": str(folder / "out.safetensors"), "slash": str(folder / "out.safetensors") + "/",
            "nodir": str(folder / "no_such_folder" / "out.safetensors")}[kind]


def snapshot(folder):
    """Every path under `folder` with its type and, for a file, a hash of its bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        found[str(path.relative_to(folder))] = (hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(mode)
                                                else stat.S_IFMT(mode))
    return found


def command_line(binary, m, work):
    inputs = materialize(work / "in", "inputs.safetensors", m.inputs)
    params = params_argument(work / "in", m.params)
    weights = materialize(work / "in", "weights.safetensors", m.weights)
    package = materialize(work / "in", "model.pt2", m.package)
    out = out_path(work / "out", m.out)
    argv = [binary, m.command, m.op_arg or m.op]
    for flag, value in (("--in", inputs), ("--params", params), ("--weights", weights), ("--package", package)):
        if value is not None:
            argv += [flag, value]
    # Flags last, so that one that lacks its value ends the command line.
    return argv + ["--out", out] + list(m.flags), out


def execute(argv, timeout, memory_mb):
    """(exit status or "timeout", stderr, seconds); the process group is killed on a timeout."""
    if memory_mb:  # through the shell's ulimit: a preexec_fn is unsafe in a threaded program
        argv = ["/bin/sh", "-c", f'ulimit -d {memory_mb * 1024} && exec "$0" "$@"'] + argv
    started = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        _, stderr = process.communicate()
        status = "timeout"
    return status, stderr.decode("utf-8", "replace"), time.monotonic() - started


def message_problem(stderr, mentions):
    lines = stderr.split("\n")
    if len(lines) != 2 or lines[1] != "":
        return f"{len(stderr.splitlines())} lines on stderr, not exactly one"
    line = lines[0]
    if not line.startswith("seqpack: "):
        return "the line does not start with 'seqpack: '"
    said = re.sub(r"^(bad input|usage|internal error[^:]*):", "", line[len("seqpack: "):]).strip()
    if not re.search(r"[A-Za-z0-9]", said):
        return "the line names nothing"
    if len(line) > MAX_LINE:
        return f"the line holds {len(line)} characters (over {MAX_LINE})"
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line):
        return "the line holds control characters"
    if mentions and mentions not in line:
        return f"the line does not name {mentions!r}"
    return None


def judge(m, status, stderr, out, before, after):
    failures = []
    if status == "timeout":
        return [("hang", "killed after the timeout")]
    if status < 0 or status >= 128 or SANITIZER_REPORT.search(stderr):
        failures.append(("crash", f"signal {-status}" if status < 0 else "sanitizer report or exit >= 128"))
    elif status not in EXIT_ALLOWED[m.expect]:
        cannot_run = " (the binary could not be run: rebuilt meanwhile?)" if status in (126, 127) else ""
        failures.append(("wrong exit", f"want {sorted(EXIT_ALLOWED[m.expect])}{cannot_run}"))
    if status == 0:
        stray = [p for p in after if p.endswith(".partial")]
        if not os.path.isfile(out):
            failures.append(("wrong exit", "exit 0 but no output written"))
        if stray:
            failures.append(("partial output", f"left {stray}"))
    else:
        if after != before:
            changed = sorted(set(after.items()) ^ set(before.items()))
            failures.append(("partial output", f"output folder changed: {sorted({p for p, _ in changed})}"))
        if not any(category == "crash" for category, _ in failures):
            problem = message_problem(stderr, m.mentions)
            if problem:
                failures.append(("bad message", problem))
    return failures


def run_one(binary, m, work, timeout, memory_mb, existing):
    (work / "in").mkdir(parents=True)
    (work / "out").mkdir()
    try:
        argv, out = command_line(binary, m, work)
        if existing is not None:
            Path(out).write_bytes(existing)
        before = snapshot(work / "out")
        status, stderr, seconds = execute(argv, timeout, memory_mb)
        failures = judge(m, status, stderr, out, before, snapshot(work / "out"))
        shown = [a.replace(str(work), "$WORK") for a in argv]
        return Result(m, shown, status, stderr, seconds, failures)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------

CATEGORIES = ["crash", "hang", "wrong exit", "partial output", "bad message"]


def report_failures(results):
    failed = [(category, detail, r) for r in results for category, detail in r.failures]
    listed = 0
    for category in CATEGORIES:
        for c, detail, r in failed:
            if c == category and listed < LISTED_FAILURES:
                listed += 1
                print(f"{category}: {r.mutation.id} ({r.mutation.desc[:120]!r}): exit {r.exit}: {detail}: "
                      f"{r.stderr[:200]!r}")
    if len(failed) > listed:
        print(f"... and {len(failed) - listed} more failures (see --report)")
    return Counter(category for r in results for category in {c for c, _ in r.failures})


def binary_stamp(binary):
    info = os.stat(binary)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.st_mtime)), info.st_size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("cases_root")
    parser.add_argument("--quick", action="store_true", help=f"about {QUICK_SIZE} variants over every op")
    parser.add_argument("--limit", type=int, help="run N variants spread over every op and mutation kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, help="seconds per run before it counts as a hang (60; quick 30)")
    parser.add_argument("--max-memory-mb", type=int, default=4096,
                        help="data-segment limit per run (0: none; sanitizers reserve terabytes and need 0)")
    parser.add_argument("--report", help="write every result to this JSON file")
    args = parser.parse_args()
    timeout = args.timeout or (30 if args.quick else 60)
    binary = str(Path(args.binary).resolve())
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        parser.error(f"{binary} is not an executable file (still being built?)")
    rng = random.Random(args.seed)

    controls, mutations = build_campaign(args.cases_root)
    if args.limit is not None or args.quick:
        mutations = spread(mutations, args.limit if args.limit is not None else QUICK_SIZE, rng)
    chosen = controls + mutations
    # A third of the runs start with an output file in place, which a refusal must leave as it was.
    existing = {i: rng.randbytes(64) if rng.random() < 1 / 3 else None for i in range(len(chosen))}
    bad = sum(m.expect in COUNTED_BAD for m in mutations)
    stamp = binary_stamp(binary)
    print(f"campaign: {len(chosen)} runs over {len({m.op for m in chosen})} ops: {bad} certainly bad inputs, "
          f"{len(mutations) - bad} that may be legal, {len(controls)} unchanged controls "
          f"(binary {binary}, modified {stamp[0]})", flush=True)

    started = time.monotonic()
    results = [None] * len(chosen)
    with tempfile.TemporaryDirectory(prefix="seqpack-campaign-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_one, binary, m, Path(tmp) / f"m{i}", timeout, args.max_memory_mb,
                               existing[i] if m.out == "fresh" else None): i for i, m in enumerate(chosen)}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            results[futures[future]] = future.result()
            if done % 200 == 0:
                print(f"  {done}/{len(chosen)} run ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    counts = report_failures(results)
    if binary_stamp(binary) != stamp:
        print(f"warning: {binary} changed during the campaign (now modified {binary_stamp(binary)[0]}); "
              "the results mix two builds")
    if args.report:
        Path(args.report).write_text(json.dumps({
            "binary": binary, "binary_modified": stamp[0], "seed": args.seed,
            "mode": "quick" if args.quick else "full", "limit": args.limit, "seconds": time.monotonic() - started,
            "results": [{"id": r.mutation.id, "op": r.mutation.op, "kind": r.mutation.kind, "desc": r.mutation.desc,
                         "expect": r.mutation.expect, "argv": r.argv, "exit": r.exit, "stderr": r.stderr,
                         "seconds": round(r.seconds, 3), "failures": r.failures} for r in results]}, indent=1))
    print(f"{len(results)} tried, {counts['crash']} crashes, {counts['hang']} hangs, "
          f"{counts['wrong exit']} wrong exits, {counts['partial output']} partial outputs, "
          f"{counts['bad message']} bad messages")
    return 0 if not counts else 1


if __name__ == "__main__":
    sys.exit(main())
