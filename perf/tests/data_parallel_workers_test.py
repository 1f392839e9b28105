"""The data-parallel workers under torchrun, 2 ranks (docs/data-parallel.md):

1. equivalence: N steps on 2 ranks give the parameters of one process trained on the 2 ranks'
   concatenated shards (DDP's averaging), padded and packed, float64, within 1e-10;
2. the protocol through rank 0 (info, prepare, run with every rank's per-step times, release);
3. failures: an error on one rank comes back as one line naming the rank, and the group stays up;
   a rank that dies ends the whole group at once (torchrun), nothing hangs.

Usage: data_parallel_workers_test.py python | cpp BUILD_DIR   (unittest)"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import data_parallel  # noqa: E402

SIDE = sys.argv[1] if len(sys.argv) > 1 else "python"
BUILD = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE.parents[1] / "build" / "release"
del sys.argv[1:]
ENV = dict(os.environ, OMP_NUM_THREADS="1", SEQPACK_PROFILE="quick", SEQPACK_DDP_TIMEOUT_S="60")
TIMEOUT_S = 180  # a group that has not finished by then is hanging


def group_command(ranks: int) -> tuple[list[str], Path]:
    return data_parallel.launcher(SIDE, ranks, BUILD, sys.executable)


def single_command() -> tuple[list[str], Path]:
    """The same worker in one plain process (no torchrun)."""
    argv, cwd = group_command(1)
    worker = argv[argv.index("--nproc-per-node") + 2:]
    return ([w for w in worker if w != "--no-python"] if SIDE == "cpp" else [sys.executable] + worker), cwd


class Equivalence(unittest.TestCase):
    def train(self, argv, cwd, out, model, path, steps=3):
        subprocess.run(argv + ["--equivalence", str(out), "--model", model, "--path", path, "--steps", str(steps)],
                       cwd=cwd, env=ENV, check=True, timeout=TIMEOUT_S, capture_output=True)
        return load_file(str(out))

    def test_two_ranks_equal_one_process_on_the_joined_shards(self):
        with tempfile.TemporaryDirectory() as tmp:
            for model in ("transformer_lstm", "attention_lstm"):
                for path in ("padded", "packed"):
                    with self.subTest(model=model, path=path):
                        ranks = self.train(*group_command(2), Path(tmp) / "ranks.safetensors", model, path)
                        argv, cwd = single_command()
                        joined = self.train(argv + ["--as-ranks", "2"], cwd, Path(tmp) / "one.safetensors", model,
                                            path)
                        initial = self.train(argv + ["--as-ranks", "2"], cwd, Path(tmp) / "initial.safetensors",
                                             model, path, steps=0)
                        self.assertEqual(sorted(ranks), sorted(joined))
                        worst = max((ranks[k] - joined[k]).abs().max().item() for k in ranks)
                        self.assertLess(worst, 1e-10, f"{model} {path}: parameters differ by {worst:.3g}")
                        self.assertTrue(all(r.dtype == torch.float64 for r in ranks.values()))
                        moved = max((ranks[k] - initial[k]).abs().max().item() for k in ranks)
                        self.assertGreater(moved, 1e-4, "the steps changed nothing: the comparison would be empty")


class Protocol(unittest.TestCase):
    ARM = {"kind": "data_parallel", "what": "transformer_lstm", "mode": "", "distribution": "heavy_tailed",
           "batch": 4, "encoder_steps": 16, "decoder_steps": 4}
    MODE = {"python": "packed_eager_grouped_global", "cpp": "padding_free_grouped_global"}

    def start(self, **env):
        argv, cwd = group_command(2)
        self.log = tempfile.TemporaryFile("w+")
        return subprocess.Popen(argv, cwd=cwd, env=dict(ENV, **env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=self.log, text=True, bufsize=1)

    def call(self, worker, request):
        worker.stdin.write(json.dumps(request) + "\n")
        worker.stdin.flush()
        line = worker.stdout.readline()
        return json.loads(line) if line else None

    def finish(self, worker):
        worker.stdin.close()
        self.assertEqual(worker.wait(timeout=TIMEOUT_S), 0)
        self.log.close()

    def test_rank_zero_answers_for_every_rank(self):
        worker = self.start()
        info = self.call(worker, {"op": "info"})
        self.assertEqual((info["ok"], info["ranks"], info["threads"]), (True, 2, 1))
        arm = dict(self.ARM, mode=self.MODE[SIDE])
        prepared = self.call(worker, {"op": "prepare", "id": "a", "arm": arm})
        self.assertTrue(prepared["ok"], prepared)
        steps = prepared["steps_per_unit"]
        self.assertEqual(prepared["samples"], 2 * 4 * steps)
        self.assertEqual(len(prepared["rank_fill_ratio"]), 2)
        self.assertTrue(all(0 < f <= 1 for f in prepared["rank_fill_ratio"]))
        ran = self.call(worker, {"op": "run", "id": "a", "units": 2})
        self.assertTrue(ran["ok"], ran)
        self.assertEqual(len(ran["rank_timings"]), 2)
        for timings in ran["rank_timings"]:
            for name in ("compute", "wait", "step"):
                self.assertEqual(len(timings[name]), 2 * steps)
                self.assertTrue(all(t >= 0 for t in timings[name]))
            self.assertTrue(all(c + w <= s * 1.001 + 1e-4 for c, w, s in
                                zip(timings["compute"], timings["wait"], timings["step"])))
        shares = data_parallel.metrics(ran["rank_timings"])
        self.assertTrue(0 <= shares["straggler_waste"] < 1 and 0 < shares["compute_share"] <= 1)
        bad = self.call(worker, {"op": "prepare", "id": "b", "arm": dict(arm, mode="padded_sideways")})
        self.assertFalse(bad["ok"])
        self.assertIn("arm mode", bad["error"])
        self.assertTrue(self.call(worker, {"op": "release", "id": "a"})["ok"])
        self.finish(worker)

    def test_an_error_on_one_rank_names_it_and_the_group_goes_on(self):
        worker = self.start(SEQPACK_DDP_FAIL_RANK="1", SEQPACK_DDP_FAIL_AT="prepare")
        reply = self.call(worker, {"op": "prepare", "id": "a", "arm": dict(self.ARM, mode=self.MODE[SIDE])})
        self.assertFalse(reply["ok"])
        self.assertTrue(reply["error"].startswith("rank 1: "), reply["error"])
        self.assertNotIn("\n", reply["error"])
        self.assertTrue(self.call(worker, {"op": "info"})["ok"])
        self.finish(worker)

    def test_a_rank_that_dies_ends_the_group_without_a_hang(self):
        worker = self.start(SEQPACK_DDP_FAIL_RANK="1", SEQPACK_DDP_FAIL_AT="exit")
        self.assertTrue(self.call(worker, {"op": "prepare", "id": "a", "arm": dict(self.ARM, mode=self.MODE[SIDE])})
                        ["ok"])
        started = time.monotonic()
        self.assertIsNone(self.call(worker, {"op": "run", "id": "a", "units": 1}))  # no answer: the group is gone
        self.assertNotEqual(worker.wait(timeout=TIMEOUT_S), 0)
        self.assertLess(time.monotonic() - started, 60)
        self.log.seek(0)
        with tempfile.NamedTemporaryFile("w+", suffix=".log") as copy:
            copy.write(self.log.read())
            copy.flush()
            self.assertEqual(data_parallel.why_the_group_stopped(Path(copy.name)),
                             "rank 1 exited with status 3, and torchrun stopped the others")
        self.log.close()


if __name__ == "__main__":
    unittest.main()
