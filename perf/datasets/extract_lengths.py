"""Writes the lengths files of the real data sets in this folder from the package that ships them
(README.md here says where each comes from and its license). Reads the wheel as a zip archive: the
package need not be installed, and nothing of it but the series' lengths is kept.

    python -m pip download sktime==1.2.0 --no-deps -d /tmp/wheels
    python perf/datasets/extract_lengths.py /tmp/wheels/sktime-1.2.0-py3-none-any.whl
"""
from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# lengths file -> the .ts files (sktime's time-series format) whose series it counts, train then test
DATA_SETS = {
    "japanese_vowels.csv": ["sktime/datasets/data/JapaneseVowels/JapaneseVowels_TRAIN.ts",
                            "sktime/datasets/data/JapaneseVowels/JapaneseVowels_TEST.ts"],
    "plaid.csv": ["sktime/datasets/data/PLAID/PLAID_TRAIN.ts", "sktime/datasets/data/PLAID/PLAID_TEST.ts"],
}


def ts_lengths(text: str) -> list[int]:
    """Each series' length in a .ts file: after "@data", a line per series, its dimensions split by
    ":" (the class label last), each dimension's values by ","; the first dimension's count is the
    length (every dimension of a series has the same length in these files)."""
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip().lower() == "@data":
            break
    else:
        raise ValueError("no @data line")
    return [len(line.split(":")[0].split(",")) for line in lines if line.strip()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", type=Path, help="sktime's wheel (pip download sktime==1.2.0 --no-deps)")
    args = parser.parse_args(argv)
    with zipfile.ZipFile(args.wheel) as wheel:
        for out, members in DATA_SETS.items():
            lengths = [n for member in members for n in ts_lengths(wheel.read(member).decode("utf-8-sig"))]
            (HERE / out).write_text("length\n" + "".join(f"{n}\n" for n in lengths))
            print(f"{out}: {len(lengths)} series, lengths {min(lengths)}..{max(lengths)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
