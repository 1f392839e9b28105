"""Where the performance suite's files are, for the scripts in perf/ (run as scripts, with perf/ on
sys.path): the repository, perf/, and the reference package (importable from here on)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERF_DIR = ROOT / "perf"
if str(ROOT / "reference") not in sys.path:
    sys.path.insert(0, str(ROOT / "reference"))

from seqpack_reference.perf import distributions as _distributions  # noqa: E402


def read_distributions() -> list[dict]:
    return _distributions.read_distributions(PERF_DIR / "distributions.csv")
