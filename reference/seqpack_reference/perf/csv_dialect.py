"""The CSV dialect of the C++ side's reader (libfccp's io::CSVReader with trim_chars<' '>,
double_quote_escape<',', '"'> and empty_line_comment), in Python, so that a file both sides read is
read alike: Python's csv module differs on quotes, blank lines and lone carriage returns.

- A line ends at "\\n"; one "\\r" before it is dropped. A line of 2^24 bytes or more is refused
  (text is read as UTF-8 with surrogateescape: every byte is kept, and limits count bytes).
- A line that is empty or holds only spaces and tabs is skipped (the header too is the first other line).
- Fields are split at ","; a '"' opens a quoted stretch that runs to the next '"' not doubled, and
  must close on its line. Each field is trimmed of spaces, then, if it starts and ends with '"',
  unquoted ('""' inside becomes '"').
- A row must have exactly as many fields as the header.
Every refusal is CsvError, whose text says what, on which line.
"""
from __future__ import annotations

from typing import Iterator

LINE_LIMIT = 1 << 24  # libfccp's block: a line with its "\n" must fit in it


class CsvError(ValueError):
    pass


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number from 1, line without its end), blank ones included."""
    parts = text.split("\n")
    if text.endswith("\n"):
        parts.pop()
    for number, line in enumerate(parts, start=1):
        if len(line) * 4 + 1 > LINE_LIMIT and len(line.encode("utf-8", "surrogateescape")) + 1 > LINE_LIMIT:
            raise CsvError(f"line {number} is longer than {LINE_LIMIT - 1} bytes")
        yield number, line[:-1] if line.endswith("\r") else line


def is_blank(line: str) -> bool:
    return line.strip(" \t") == ""


def _unquoted(field: str) -> str:
    field = field.strip(" ")
    if len(field) >= 2 and field[0] == '"' and field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field


def fields(line: str, number: int) -> list[str]:
    out, i, n = [], 0, len(line)
    while True:
        start = i
        while i < n and line[i] != ",":
            if line[i] != '"':
                i += 1
                continue
            while True:  # a quoted stretch: to the next quote, again while quotes are doubled
                i += 1
                while i < n and line[i] != '"':
                    i += 1
                if i >= n:
                    raise CsvError(f"line {number}: a quoted field is not closed")
                i += 1
                if not (i < n and line[i] == '"'):
                    break
        out.append(_unquoted(line[start:i]))
        if i >= n:
            return out
        i += 1


def read(text: str, known: tuple[str, ...]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header's names and an iterator of (line number, fields) over the rows; a name of `known`
    twice in the header is refused (libfccp checks the columns it is asked for, and only those)."""
    numbered = lines(text)
    for number, line in numbered:
        if not is_blank(line):
            header = fields(line, number)
            break
    else:
        raise CsvError("the header is missing")
    for name in known:
        if header.count(name) > 1:
            raise CsvError(f'column "{name}" appears twice in the header')

    def rows():
        for number, line in numbered:
            if is_blank(line):
                continue
            values = fields(line, number)
            if len(values) != len(header):
                raise CsvError(f"line {number}: the header has {len(header)} fields, this line {len(values)}")
            yield number, values
    return header, rows()
