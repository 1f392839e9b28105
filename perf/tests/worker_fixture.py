"""What the tests that talk to both workers share: the C++ worker's path (the test's first argument),
one engine.Workers pair kept for a test class, and each side's name for the padded mode."""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import engine  # noqa: E402
from seqpack_paths import ROOT  # noqa: E402

PERF_WORKER = Path(sys.argv.pop(1)) if len(sys.argv) > 1 else ROOT / "build" / "release" / "perf" / "perf_worker"
PADDED = {"cpp": "padded", "python": "padded_eager"}


class WorkersTestCase(unittest.TestCase):
    """Starts the C++ and the Python worker once for the class (self.workers[side]), stops them after."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.workers = engine.Workers(PERF_WORKER.parent.parent, sys.executable, Path(cls.tmp.name), "full")  # full holds every kind's settings
        cls.workers.workers["cpp"].argv = [str(PERF_WORKER)]

    @classmethod
    def tearDownClass(cls):
        cls.workers.close()
        cls.tmp.cleanup()
