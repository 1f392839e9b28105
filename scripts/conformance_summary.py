"""Turns the conformance run's JUnit XML into a per-operation summary.

Usage: conformance_summary.py RESULTS_DIR CTEST_JUNIT_XML OUT_MARKDOWN   (prints the table too)
RESULTS_DIR holds the runner's per-case XML (one file per family of cases); ctest's own JUnit adds
the tests that are not golden cases (the freshness check, the command-line check).
"""
import json
import platform
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import torch

CASES = Path(__file__).resolve().parent.parent / "conformance" / "cases"


def testcases(results_dir, ctest_junit):
    for path in sorted(Path(results_dir).glob("*.xml")):
        yield from ET.parse(path).getroot().iter("testcase")
    for case in ET.parse(ctest_junit).getroot().iter("testcase"):
        if not case.get("name", "").startswith("conformance."):  # those are counted case by case above
            yield case


def main(results_dir, ctest_junit, out_path):
    ops = {}  # test name fragment -> op, from the case folders
    for case_json in CASES.rglob("case.json"):
        name = str(case_json.parent.relative_to(CASES))
        ops["".join(c if c.isalnum() else "_" for c in name)] = json.loads(case_json.read_text())["op"]
    passed, failed, failures = Counter(), Counter(), []
    for case in testcases(results_dir, ctest_junit):
        name = case.get("name", "")
        op = ops.get(name.rsplit("/", 1)[-1], name.split(".", 1)[0])
        if case.find("failure") is not None or case.find("error") is not None:
            failed[op] += 1
            failures.append(name)
        else:
            passed[op] += 1
    rows = [f"| {op} | {passed[op]} | {failed[op]} |" for op in sorted(set(passed) | set(failed))]
    total_pass, total_fail = sum(passed.values()), sum(failed.values())
    lines = [
        "# seqpack conformance summary", "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, {platform.machine()}, "
        f"{len(ops)} golden cases", "",
        "| operation | passed | failed |", "|---|---|---|", *rows,
        f"| **total** | **{total_pass}** | **{total_fail}** |", "",
    ]
    if failures:
        lines += ["Failed:", *[f"- {name}" for name in failures], ""]
    Path(out_path).write_text("\n".join(lines))
    print("\n".join(lines[4:]))
    print(f"written to {out_path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
