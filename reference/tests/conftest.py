"""reference/'s own tests: `python -m pytest -q reference/tests` from the repository root (ctest
runs it as reference.pytest). Expected values are worked out by hand in each test, or follow from a
rule the test states; none is computed by the function under test."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
torch.use_deterministic_algorithms(True)
