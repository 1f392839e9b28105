"""Both workers measure memory the same way: the C++ probe (perf/lib/allocation_probe.h) and the
Python one (seqpack_reference/perf/allocation_probe.py) report the same peak for the same known
allocation pattern, and it is the pattern's own peak, 8 MiB.

Usage: allocation_probe_test.py ALLOCATION_PROBE_CHECK_BINARY
"""
import subprocess
import sys
import unittest
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reference"))
from seqpack_reference.perf.allocation_probe import unit_peak_bytes  # noqa: E402

MIB = 1 << 20
BINARY = None


def pattern():
    """As allocation_probe_check.cpp: per unit 3 MiB, 5 MiB, the 3 freed, 1 MiB; keeps 5 + 1."""
    kept = []

    def unit(units):
        for _ in range(units):
            a = torch.empty(3 * MIB, dtype=torch.uint8)
            b = torch.empty(5 * MIB, dtype=torch.uint8)
            del a
            c = torch.empty(1 * MIB, dtype=torch.uint8)
            kept[:] = [b, c]
    unit(1)
    return unit


class SameOnBothSides(unittest.TestCase):
    def test_python_counts_the_pattern_peak(self):
        self.assertEqual(unit_peak_bytes(pattern()), 8 * MIB)

    def test_cpp_counts_the_same(self):
        out = subprocess.run([BINARY], capture_output=True, text=True, check=True).stdout
        self.assertEqual(int(out.strip()), 8 * MIB)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
