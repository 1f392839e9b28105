"""The C++ and Python sides of the benchmarks give every batch the same lengths: the named
distributions, the real data sets' lengths files under both rules, a file with decoder lengths; and
both refuse each bad lengths file with the same line (a CSV syntax error: the same start of it).

Usage: distributions_agree.py LENGTHS_DUMP_BINARY"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "reference"))
from seqpack_reference.perf.distributions import (  # noqa: E402
    batch_decoder_lengths, batch_lengths, read_distributions, read_lengths_file)

GOOD = ["file:perf/datasets/japanese_vowels.csv", "file:perf/datasets/japanese_vowels.csv@scale",
        "file:perf/datasets/plaid.csv@clip", "file:perf/datasets/plaid.csv@scale"]
# file name -> (its text, the rule its refusal must state); the C++ reader's own words for a CSV
# syntax error differ from Python's, so those compare up to "as CSV:".
BAD = {
    "no_column.csv": ("size\n3\n", 'has no column "length"'),
    "empty.csv": ("", "has no lengths (a header and at least one row are needed)"),
    "header_only.csv": ("length\n", "has no lengths (a header and at least one row are needed)"),
    "word.csv": ("length\n3\nten\n", 'row 3: length "ten" is not an integer'),
    "fraction.csv": ("length\n2.5\n", 'row 2: length "2.5" is not an integer'),
    "plus.csv": ("length\n+4\n", 'row 2: length "+4" is not an integer'),
    "zero.csv": ("length\n4\n0\n", "row 3: length 0 is outside [1, 1000000000]"),
    "negative.csv": ("length\n-5\n", "row 2: length -5 is outside [1, 1000000000]"),
    "too_long.csv": ("length\n1000000001\n", "row 2: length 1000000001 is outside [1, 1000000000]"),
    "huge.csv": ("length\n99999999999999999999\n", 'row 2: length "99999999999999999999" is not an integer'),
    "bad_decoder.csv": ("length,decoder_length\n4,0\n", "row 2: decoder_length 0 is outside [1, 1000000000]"),
    "short_row.csv": ("length,decoder_length\n4\n", "cannot be read as CSV:"),
}


def compare(cpp: dict, d: dict, name: str) -> tuple[int, list[str]]:
    checked, problems = 0, []
    for key, lengths in cpp["encoder"].items():
        batch, steps, seed = (int(v) for v in key.split("/"))
        checked += 2
        if batch_lengths(d, batch, steps, seed) != lengths:
            problems.append(f"{name} encoder {key}")
        if batch_decoder_lengths(d, batch, steps, seed) != cpp["decoder"][key]:
            problems.append(f"{name} decoder {key}")
    return checked, problems


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        decoder = Path(tmp) / "decoder.csv"
        decoder.write_text("series,length,decoder_length\n" + "".join(f"s{i},{3 + i % 40},{1 + i % 7}\n" for i in range(90)))
        good = GOOD + [f"file:{decoder}@clip", f"file:{decoder}@scale"]
        bad = {}
        for name, (text, rule) in BAD.items():
            (Path(tmp) / name).write_text(text)
            bad[f"file:{tmp}/{name}"] = rule
        bad["file:"] = "names no file (file:PATH[@clip|@scale])"
        bad["file:perf/datasets/plaid.csv@stretch"] = 'unknown rule "stretch" after @ (clip or scale)'
        bad[f"file:{tmp}/absent.csv"] = f"{tmp}/absent.csv is not a readable file"
        bad[f"file:{tmp}"] = f"{tmp} is not a readable file"
        cpp = json.loads(subprocess.run([binary, *good, *bad], capture_output=True, text=True, check=True).stdout)
        problems, checked = [], 0
        for d in read_distributions(ROOT / "perf" / "distributions.csv"):
            n, found = compare(cpp[d["name"]], d, d["name"])
            checked, problems = checked + n, problems + found
        for spec in good:
            if "error" in cpp[spec]:
                problems.append(f"{spec}: C++ refuses it: {cpp[spec]['error']}")
                continue
            n, found = compare(cpp[spec], read_lengths_file(spec, ROOT), spec)
            checked, problems = checked + n, problems + found
        for spec, rule in bad.items():
            want = f"{spec}: {rule}"
            try:
                read_lengths_file(spec, ROOT)
                python = "accepted"
            except ValueError as error:
                python = str(error)
            for side, said in (("C++", cpp[spec].get("error", "accepted")), ("Python", python)):
                if not (said.startswith(want) if rule.endswith("as CSV:") else said == want):
                    problems.append(f"{side} on {spec}: want {want!r}, got {said!r}")
    print(f"distributions: {checked} batches compared, {len(bad)} bad lengths files refused alike; "
          f"{len(problems)} problems {problems[:8]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
