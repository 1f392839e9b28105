"""perf/distributions.csv read in Python, giving the same lengths as perf/lib/length_distributions.cpp:
row i takes the quantile (i + 0.5) / B, rounded half up and clamped to [1, T], then the rows are
shuffled by the same 64-bit LCG. A distribution may also come from a lengths file
("file:PATH[@clip|@scale]", docs/your-data.md), read by the same rules as the C++ side's."""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from . import csv_dialect

KINDS = {"equal", "uniform", "linspace", "bimodal", "pareto"}
MASK64 = (1 << 64) - 1
FILE_PREFIX = "file:"  # a distribution read from a lengths file, as perf/lib/length_distributions.h
MAX_FILE_LENGTH = 1_000_000_000
MAX_FILE_BYTES = 256 << 20  # a lengths file is read whole
NO_LENGTHS = "has no lengths (a header and at least one row are needed)"
MAX_MESSAGE_BYTES = 900  # seqpack::InvalidArgument::kMaxMessageBytes
RULES = ("clip", "scale")  # how a file's length n maps onto T steps: min(n, T), or n T / (its longest)


class Refusal(ValueError):
    """A refusal worded as the C++ side's InvalidArgument prints it (seqpack::printable): control
    bytes escaped, cut at MAX_MESSAGE_BYTES, the file's own bytes (read as UTF-8 with
    surrogateescape) echoed as they are, or U+FFFD where they are not UTF-8."""

    def __init__(self, text: str):
        data, out, used = text.encode("utf-8", "surrogateescape"), bytearray(), 0
        escapes = {0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t"}
        while used < len(data) and len(out) < MAX_MESSAGE_BYTES:
            byte = data[used]
            out += escapes.get(byte, b"\\x%02x" % byte if byte < 0x20 or byte == 0x7F else bytes([byte]))
            used += 1
        if used < len(data):
            out += f"... ({len(data) - used} more bytes)".encode()
        super().__init__(out.decode("utf-8", "replace"))


def read_distributions(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["kind"] not in KINDS:
            raise ValueError(f"{path}: distribution {row['name']} has an unknown kind {row['kind']!r}")
        row["param1"], row["param2"] = float(row["param1"]), float(row["param2"])
    return rows


def parse_length(spec: str, column: str, text: str, row: int) -> int:
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    significant = digits.lstrip("0")  # int() refuses over 4,300 digits; an int64_t has at most 19
    value = int(significant or "0") if digits.isascii() and digits.isdigit() and len(significant) <= 19 else None
    if value is None or not -2**63 <= (-value if negative else value) < 2**63:  # C++'s int64_t
        raise Refusal(f'{spec}: row {row}: {column} "{text}" is not an integer')
    value = -value if negative else value
    if not 1 <= value <= MAX_FILE_LENGTH:
        raise Refusal(f"{spec}: row {row}: {column} {value} is outside [1, {MAX_FILE_LENGTH}]")
    return value


def read_lengths_file(spec: str, root: Path) -> dict:
    """The distribution of a lengths file (its "length" column and, optionally, "decoder_length":
    positive integers up to MAX_FILE_LENGTH, at least one row); a bad spec or file is ValueError naming
    the spec and the rule, as the C++ side's read_lengths_file."""
    path, rule = spec[len(FILE_PREFIX):], "clip"
    if "@" in path:
        path, rule = path.rsplit("@", 1)
        if rule not in RULES:
            raise Refusal(f'{spec}: unknown rule "{rule}" after @ (clip or scale)')
    if not path:
        raise Refusal(f"{spec}: names no file (file:PATH[@clip|@scale])")
    file = path if path.startswith("/") else f"{root}/{path}"  # as written, not tidied: as the C++ side
    try:
        readable = os.path.isfile(file)
        size = os.stat(file).st_size if readable else 0
    except OSError:
        readable = False
    if not readable:
        raise Refusal(f"{spec}: {file} is not a readable file")
    if size > MAX_FILE_BYTES:
        raise Refusal(f"{spec}: is larger than {MAX_FILE_BYTES} bytes")
    try:
        with open(file, "rb") as f:
            data = f.read()
    except OSError:
        raise Refusal(f"{spec}: {file} is not a readable file") from None
    if not data:
        raise Refusal(f"{spec}: {NO_LENGTHS}")
    nul = data.find(b"\0")
    if nul >= 0:  # the C++ reader takes a line as a C string, which a NUL would end silently
        raise Refusal(f"{spec}: holds a NUL byte at offset {nul}: a lengths file is text")
    sample, decoder = [], []
    try:
        text = data.decode("utf-8", "surrogateescape")  # every byte kept; not UTF-8 only where it is not
        if text.startswith("\ufeff"):  # libfccp skips a UTF-8 byte-order mark at the start
            text = text[1:]
        header, rows = csv_dialect.read(text, ("length", "decoder_length"))
        if "length" not in header:
            raise Refusal(f'{spec}: has no column "length"')
        at, decoder_at = header.index("length"), header.index("decoder_length") if "decoder_length" in header else None
        for row, values in rows:
            sample.append(parse_length(spec, "length", values[at], row))
            if decoder_at is not None:
                decoder.append(parse_length(spec, "decoder_length", values[decoder_at], row))
    except csv_dialect.CsvError as error:
        raise Refusal(f"{spec}: cannot be read as CSV: {error}") from None
    if not sample:
        raise Refusal(f"{spec}: {NO_LENGTHS}")
    return {"name": spec, "kind": "empirical", "param1": 0.0, "param2": 0.0, "scale": rule == "scale",
            "sample": sorted(sample), "decoder_sample": sorted(decoder)}


def resolve(name: str, named: dict, root: Path) -> dict:
    """The distribution an arm names: a row of perf/distributions.csv (named: name -> row), or a lengths
    file; ValueError ("arm distribution: ...") if neither."""
    if name in named:
        return named[name]
    if name.startswith(FILE_PREFIX):
        return read_lengths_file(name, root)
    raise Refusal(f"arm distribution: no distribution {name!r} in perf/distributions.csv, and not file:PATH")


def _empirical(d, sample, u, t):
    """The empirical quantile u of a sorted sample (its lower one: element floor(u n)), mapped onto T."""
    length = float(sample[min(len(sample) - 1, int(u * len(sample)))])
    return length * t / float(sample[-1]) if d["scale"] else min(length, t)


def _unrounded(d, row, batch, steps):
    t, u = float(steps), (row + 0.5) / batch
    kind = d["kind"]
    if kind == "equal":
        return t
    if kind == "uniform":
        return (d["param1"] + (d["param2"] - d["param1"]) * u) * t
    if kind == "linspace":
        return t if batch == 1 else 1.0 + (t - 1.0) * row / (batch - 1)
    if kind == "bimodal":
        return (d["param1"] if u < d["param2"] else 1.0) * t
    if kind == "empirical":
        return _empirical(d, d["sample"], u, t)
    return d["param1"] * math.pow(1.0 - u, -1.0 / d["param2"]) * t


def _rounded(length: float, steps: int) -> int:
    """A length rounded half up and clamped to [1, T], as the C++ side's batch_lengths."""
    return min(max(int(min(math.floor(length + 0.5), steps)), 1), steps)


def window_length(d: dict, length: int, steps: int) -> int:
    """One series' length in a window of T steps, by a lengths file's rule (as its batches map them)."""
    return _rounded(length * float(steps) / float(d["sample"][-1]) if d["scale"] else min(float(length), steps), steps)


def batch_lengths(d: dict, batch: int, steps: int, seed: int = 0) -> list[int]:
    lengths = [_rounded(_unrounded(d, i, batch, steps), steps) for i in range(batch)]
    state = (seed * 2654435761 + 12345) & MASK64
    for i in range(batch - 1, 0, -1):
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK64
        j = (state >> 33) % (i + 1)
        lengths[i], lengths[j] = lengths[j], lengths[i]
    return lengths


def batch_decoder_lengths(d: dict, batch: int, steps: int, seed: int = 0) -> list[int]:
    """A window's decoder lengths: from the file's decoder column where it has one, else as batch_lengths."""
    if d.get("decoder_sample"):
        d = {**d, "sample": d["decoder_sample"]}
    return batch_lengths(d, batch, steps, seed)


def fill_ratio(lengths: list[int], steps: int) -> float:
    return sum(lengths) / (steps * len(lengths))
