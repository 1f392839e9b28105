"""Writes every golden case, or checks that the committed ones are what PyTorch gives today.

    python -m seqpack_reference.generate --out conformance/cases     # (re)write
    python -m seqpack_reference.generate --check conformance/cases   # regenerate into a temporary
                                                                     # folder and compare; exit 1 on
                                                                     # any difference
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import shutil
import sys
import tempfile
from pathlib import Path

import torch

from . import cases as case_generators
from .golden import compare_case_folders, write_case

# Every module cases/<name>_cases.py with a cases() function is a generator: a new one needs no line here.
FAMILIES = [importlib.import_module(f"{case_generators.__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(case_generators.__path__), key=lambda info: info.name)
            if info.name.endswith("_cases")]


def require_identity_cases_named(cases) -> None:
    """A case that expects an input back unchanged must say so in its name.

    Rule: a case expects an input unchanged when one of its expected tensors has the same dtype and
    shape as one of its inputs and torch.equal holds between the two. Such a case passes against
    an implementation that returns its input, so it is only allowed where that is the point, and
    its name then contains "identity". Cases that expect an error have no expected tensors.
    """
    unnamed = []
    for case in cases:
        if case.expected is None or "identity" in case.name:
            continue
        for out_name, out in case.expected.items():
            same = [name for name, x in case.inputs.items()
                    if x.dtype == out.dtype and x.shape == out.shape and torch.equal(x, out)]
            if same:
                unnamed.append(f"{case.name}: expected {out_name} equals input {same[0]}")
    if unnamed:
        raise SystemExit("cases that expect an input unchanged but are not named identity:\n  "
                         + "\n  ".join(unnamed))


def require_align_rows_that_move(cases) -> None:
    """An align case named to_left/to_right has a row that can move: 0 < length < T.

    Rows of length 0 or T are the same in either alignment, so a batch of only those cannot tell
    an alignment from a copy.
    """
    still = []
    for case in cases:
        if case.op != "align_encoder_sequences" or case.expected is None:
            continue
        if "to_left" not in case.name and "to_right" not in case.name:
            continue
        steps = case.inputs["sequences"].shape[1]
        if not any(0 < int(length) < steps for length in case.inputs["lengths"].reshape(-1).tolist()):
            still.append(case.name)
    if still:
        raise SystemExit(f"align cases without a row of length in (0, T): {still}")


def require_flaws_shown(cases) -> None:
    """A case named for a flaw must show it: its expected output differs from its twins'.

    A flaw case reads its batch with the original's guess: a param set to "auto". Its twins are
    the cases with the same op and the same inputs whose params differ only in naming an explicit
    side ("left" or "right") where it says "auto": the reading the guess should have made. Every
    flaw case needs a twin, and must expect something other than each twin expects.
    """
    def same_inputs(a, b):
        return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
                                            and torch.equal(a[k], b[k]) for k in a)

    def explicit_twin(flawed, other):
        if other.params.keys() != flawed.params.keys() or other.params == flawed.params:
            return False
        return all(value == other.params[key] or (value == "auto" and other.params[key] in ("left", "right"))
                   for key, value in flawed.params.items())

    problems = []
    for case in (c for c in cases if "flaw" in c.name):
        twins = [other for other in cases
                 if other.op == case.op and other.expected is not None and explicit_twin(case, other)
                 and same_inputs(case.inputs, other.inputs)]
        if case.expected is None or not twins:
            problems.append(f"{case.name}: no expected output or no explicit-source twin")
        for twin in twins:
            if all(torch.equal(case.expected[k], twin.expected[k]) for k in case.expected):
                problems.append(f"{case.name}: expects what {twin.name} expects, so shows no flaw")
    if problems:
        raise SystemExit("flaw cases that show no flaw:\n  " + "\n  ".join(problems))


def all_cases():
    torch.use_deterministic_algorithms(True)
    cases = [case for family in FAMILIES for case in family.cases()]
    names = [case.name for case in cases]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise SystemExit(f"duplicate case names: {sorted(duplicates)}")
    require_identity_cases_named(cases)
    require_align_rows_that_move(cases)
    require_flaws_shown(cases)
    return cases


def write_all(root: Path) -> int:
    cases = all_cases()
    if root.exists():
        shutil.rmtree(root)
    for case in cases:
        write_case(root, case)
    return len(cases)


def case_folders(root: Path) -> set[str]:
    return {str(p.parent.relative_to(root)) for p in root.rglob("case.json")}


def check(committed: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "cases"
        count = write_all(fresh)
        old, new = case_folders(committed), case_folders(fresh)
        problems = [f"{name}: committed but no longer generated" for name in sorted(old - new)]
        problems += [f"{name}: generated but not committed" for name in sorted(new - old)]
        for name in sorted(old & new):
            problems += [f"{name}: {p}" for p in compare_case_folders(committed / name, fresh / name)]
    if problems:
        print(f"golden freshness: {len(problems)} difference(s) with torch {torch.__version__}:")
        print("\n".join("  " + p for p in problems))
        print("regenerate with: python -m seqpack_reference.generate --out conformance/cases")
        return 1
    print(f"golden freshness: all {count} cases match what torch {torch.__version__} generates")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", type=Path, help="write every case under this folder (replacing it)")
    group.add_argument("--check", type=Path, help="compare the cases under this folder with fresh ones")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.check)
    count = write_all(args.out)
    print(f"wrote {count} golden cases under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
