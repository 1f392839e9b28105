"""Writes every golden case, or checks that the committed ones are what PyTorch gives today.

    python -m seqpack_reference.generate --out conformance/cases     # (re)write
    python -m seqpack_reference.generate --check conformance/cases   # regenerate into a temporary
                                                                     # folder and compare; exit 1 on
                                                                     # any difference
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import torch

from .cases import (batching_cases, loss_cases, mask_cases, model_cases, nonfinite_cases, packing_policy_cases,
                    sequence_cases, tft_cases)
from .golden import compare_case_folders, write_case

FAMILIES = [sequence_cases, mask_cases, loss_cases, model_cases, batching_cases, tft_cases, packing_policy_cases,
            nonfinite_cases]


def all_cases():
    torch.use_deterministic_algorithms(True)
    cases = [case for family in FAMILIES for case in family.cases()]
    names = [case.name for case in cases]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise SystemExit(f"duplicate case names: {sorted(duplicates)}")
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
