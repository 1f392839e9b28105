"""A data-parallel worker (the C++ perf/worker/ddp_worker.cpp or the Python
seqpack_reference.perf.ddp_worker) under torchrun with two ranks, started as the engine starts it
(perf/data_parallel.py):

1. its averaged training equals one process on the joined shards (DDP's promise), padded and
   packed, TransformerLSTM and AttentionLSTM, float64, within 1e-10, and the steps moved the
   parameters;
2. rank 0 speaks the engine's protocol for both ranks (every rank's per-step times in a run);
3. an idle rank waits past the store's timeout; a rank's error comes back as one line naming it and
   the group goes on; a rank that dies ends the group at once, nothing hangs, and the coordinator
   can say which rank it was;
4. (C++) bad options and environments are refused in one line;
5. (Python) every way out of a rank ends its gloo group before the interpreter exits (no gloo thread
   left), and a rank that fails mid-training exits with status 1, not an abort.

Usage: data_parallel_workers_test.py cpp|python [BUILD_DIR]  (unittest; tiny arms, about a minute)"""
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import data_parallel  # noqa: E402
from seqpack_paths import ROOT  # noqa: E402

SIDE = sys.argv.pop(1) if len(sys.argv) > 1 else "python"
BUILD = Path(sys.argv.pop(1)) if len(sys.argv) > 1 else ROOT / "build" / "release"
RANKS = 2
GROUP_TIMEOUT_S = 60  # a group that has not answered or ended by then hangs
STEPS_PER_UNIT = 8    # data_parallel_steps in the data_parallel profile
# The paths each side runs (perf/comparisons.py), one per sampler in the protocol test.
MODES = {"cpp": ("padded_random", "packed_grouped_per_rank", "padding_free_grouped_global"),
         "python": ("padded_eager_random", "packed_eager_grouped_per_rank", "packed_eager_grouped_global")}


def environment(**more):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SEQPACK_DDP_") and k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", SEQPACK_PROFILE="data_parallel", SEQPACK_DDP_TIMEOUT_S=str(GROUP_TIMEOUT_S))
    env.update(more)
    return env


def torchrun() -> tuple[list[str], Path]:
    return data_parallel.launcher(SIDE, RANKS, BUILD, sys.executable)


def one_process() -> tuple[list[str], Path]:
    """The same worker as a plain process, without torchrun."""
    argv, cwd = torchrun()
    worker = argv[argv.index("--nproc-per-node") + 2:]
    return (worker[1:] if SIDE == "cpp" else [sys.executable, *worker]), cwd


def arm(mode, **more):
    return {"kind": "data_parallel", "what": "transformer_lstm", "mode": mode, "distribution": "uniform_half",
            "batch": 2, "encoder_steps": 16, "decoder_steps": 4, **more}


# Runs the Python worker's main() and says, once it has returned, which gloo threads are still running:
# none, if the worker ended its process group itself rather than leaving it to the interpreter's exit.
PROBE = """import os, sys
from seqpack_reference.perf import ddp_worker
status = ddp_worker.main(sys.argv[1:])
print(f"rank {os.environ['RANK']} exits {status} with gloo threads {ddp_worker.gloo_threads()}", file=sys.stderr,
      flush=True)
sys.exit(status)
"""


class Group:
    """The ranks of one torchrun, spoken to through rank 0's stdin and stdout."""

    def __init__(self, log: Path, **env):
        self.log = open(log, "w")
        argv, cwd = torchrun()
        self.process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True, env=environment(**env))

    def send(self, request: dict):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def reply(self) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], GROUP_TIMEOUT_S)
        if not ready:
            raise TimeoutError(f"no reply in {GROUP_TIMEOUT_S} s")
        line = self.process.stdout.readline()
        if not line:
            raise EOFError(f"the group ended (torchrun exit {self.process.wait(GROUP_TIMEOUT_S)})")
        return json.loads(line)

    def call(self, request: dict) -> dict:
        self.send(request)
        return self.reply()

    def close(self) -> int:
        """End of stdin stops every rank; torchrun's exit status."""
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            return self.process.wait(GROUP_TIMEOUT_S)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.stdout.close()
            self.log.close()


class DataParallel(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def group(self, name, **env) -> Group:
        group = Group(self.dir / f"{name}.log", **env)
        self.addCleanup(lambda: group.process.poll() is None and group.process.kill())
        return group

    def log_of(self, name) -> str:
        return (self.dir / f"{name}.log").read_text()[-3000:]

    def run_checked(self, argv, cwd, **env):
        done = subprocess.run(argv, cwd=cwd, env=environment(**env), capture_output=True, text=True,
                              timeout=3 * GROUP_TIMEOUT_S)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])

    def test_averaged_training_equals_one_process_on_the_joined_shards(self):
        for model in ("transformer_lstm", "attention_lstm"):
            for path in ("padded", "packed"):
                with self.subTest(model=model, path=path):
                    out = {name: self.dir / f"{model}_{path}_{name}.safetensors" for name in ("ddp", "one", "start")}
                    common = ["--model", model, "--path", path]
                    ranks, cwd = torchrun()
                    single, _ = one_process()
                    self.run_checked([*ranks, "--equivalence", str(out["ddp"]), *common, "--steps", "3"], cwd)
                    self.run_checked([*single, "--equivalence", str(out["one"]), *common, "--steps", "3",
                                      "--as-ranks", str(RANKS)], cwd)
                    self.run_checked([*single, "--equivalence", str(out["start"]), *common, "--steps", "0",
                                      "--as-ranks", str(RANKS)], cwd)
                    ddp, one, start = (load_file(str(out[name])) for name in ("ddp", "one", "start"))
                    self.assertEqual(sorted(ddp), sorted(one))
                    self.assertGreater(len(ddp), 0)
                    moved = 0.0
                    for name, value in one.items():
                        self.assertEqual(str(value.dtype), "torch.float64")
                        self.assertEqual(value.dtype, ddp[name].dtype)
                        difference = (ddp[name] - value).abs().max().item()
                        self.assertLessEqual(difference, 1e-10, f"{name} differs by {difference}")
                        moved = max(moved, (value - start[name]).abs().max().item())
                    self.assertGreater(moved, 1e-6, "training changed no parameter: the comparison would be empty")

    def test_rank_zero_speaks_the_protocol_for_both_ranks(self):
        group = self.group("protocol")
        info = group.call({"op": "info"})
        self.assertEqual((info["ok"], info["side"], info["ranks"], info["threads"]), (True, SIDE, RANKS, 1))
        for mode in MODES[SIDE]:
            with self.subTest(mode=mode):
                prepared = group.call({"op": "prepare", "id": mode, "arm": arm(mode)})
                self.assertTrue(prepared["ok"], prepared)
                self.assertGreater(prepared["prepare_s"], 0)
                self.assertEqual(prepared["samples"], 2 * RANKS * STEPS_PER_UNIT)
                self.assertEqual(prepared["steps_per_unit"], STEPS_PER_UNIT)
                self.assertEqual(len(prepared["rank_fill_ratio"]), RANKS)
                self.assertTrue(0 < prepared["fill_ratio"] <= 1)
                self.assertGreater(prepared["timesteps"], 0)
                ran = group.call({"op": "run", "id": mode, "units": 2})
                self.assertTrue(ran["ok"], ran)
                self.assertGreater(ran["seconds"], 0)
                self.assertGreater(ran["peak_memory_mib"], 0)
                self.assertEqual(len(ran["rank_timings"]), RANKS)
                for times in ran["rank_timings"]:
                    self.assertEqual({k: len(v) for k, v in times.items()},
                                     {k: 2 * STEPS_PER_UNIT for k in ("compute", "wait", "step")})
                    for compute, wait, step in zip(times["compute"], times["wait"], times["step"]):
                        self.assertTrue(0 < compute and 0 <= wait and compute + wait <= step, times)
                shares = data_parallel.metrics(ran["rank_timings"])
                self.assertTrue(0 <= shares["straggler_waste"] < 1 and 0 < shares["compute_share"] < 1, shares)
                self.assertEqual(group.call({"op": "release", "id": mode}), {"ok": True})
        for request, words in [({"op": "prepare", "id": "x", "arm": arm("padded_sideways")}, "arm mode"),
                               ({"op": "prepare", "id": "x", "arm": arm("segmented_random")}, "arm mode"),
                               ({"op": "prepare", "id": "x", "arm": {**arm(MODES[SIDE][0]), "kind": "step"}},
                                "arm kind: the data-parallel worker runs data_parallel"),
                               ({"op": "run", "id": "never", "units": 1}, "no prepared arm"),
                               ({"op": "frobnicate"}, "no op")]:
            with self.subTest(request=request):
                reply = group.call(request)
                self.assertFalse(reply["ok"])
                self.assertTrue(reply["error"].startswith("rank 0: "), reply["error"])
                self.assertIn(words, reply["error"])
        self.assertTrue(group.call({"op": "info"})["ok"])
        self.assertEqual(group.close(), 0, self.log_of("protocol"))

    def test_an_idle_rank_waits_past_the_store_timeout(self):
        # 5 s bounds the collectives too: enough for two ranks that reach one at different moments
        # on a loaded machine.
        group = self.group("idle", SEQPACK_DDP_TIMEOUT_S="5")
        self.assertTrue(group.call({"op": "info"})["ok"])
        time.sleep(12)  # rank 1 waits for the next request through two store timeouts
        self.assertTrue(group.call({"op": "prepare", "id": "a", "arm": arm(MODES[SIDE][0])})["ok"])
        self.assertTrue(group.call({"op": "run", "id": "a", "units": 1})["ok"])
        self.assertEqual(group.close(), 0, self.log_of("idle"))

    def test_a_rank_that_fails_to_prepare_is_named_and_the_group_goes_on(self):
        group = self.group("prepare", SEQPACK_DDP_FAIL_RANK="1", SEQPACK_DDP_FAIL_AT="prepare")
        for _ in range(2):
            reply = group.call({"op": "prepare", "id": "a", "arm": arm(MODES[SIDE][0])})
            self.assertFalse(reply["ok"])
            self.assertTrue(reply["error"].startswith("rank 1: "), reply["error"])
            self.assertIn("SEQPACK_DDP_FAIL_AT", reply["error"])
            self.assertNotIn("\n", reply["error"])
        self.assertTrue(group.call({"op": "info"})["ok"])
        self.assertIn("no prepared arm", group.call({"op": "run", "id": "a", "units": 1})["error"])
        self.assertEqual(group.close(), 0, self.log_of("prepare"))

    def test_a_rank_that_dies_ends_the_group(self):
        group = self.group("exit", SEQPACK_DDP_FAIL_RANK="1", SEQPACK_DDP_FAIL_AT="exit")
        self.assertTrue(group.call({"op": "prepare", "id": "a", "arm": arm(MODES[SIDE][0])})["ok"])
        start = time.monotonic()
        group.send({"op": "run", "id": "a", "units": 1})
        with self.assertRaises(EOFError):
            group.reply()
        self.assertNotEqual(group.close(), 0)
        self.assertLess(time.monotonic() - start, GROUP_TIMEOUT_S)
        self.assertEqual(data_parallel.why_the_group_stopped(self.dir / "exit.log"),
                         "rank 1 exited with status 3, and torchrun stopped the others")

    @unittest.skipIf(SIDE != "python", "the probe runs the Python worker's main()")
    def test_every_way_out_ends_the_gloo_group_before_the_interpreter_exits(self):
        # gloo threads still running at the exit meet the interpreter's finalization and the C++ static
        # destructors, and under load a rank then sometimes aborted (SIGABRT, "terminate called without
        # an active exception") after its work had succeeded.
        probe = self.dir / "probe.py"
        probe.write_text(PROBE)
        argv, cwd = torchrun()
        ranks = [*argv[:argv.index("seqpack_reference.perf.ddp_worker") - 1], str(probe)]
        env = {"PYTHONPATH": str(cwd)}
        equivalence = ["--equivalence", str(self.dir / "probe.safetensors"), "--model", "attention_lstm", "--path",
                       "packed", "--steps", "3"]

        def run(argv, stdin=subprocess.DEVNULL, **more):
            start = time.monotonic()
            done = subprocess.run(argv, cwd=cwd, env=environment(**env, **more), stdin=stdin, capture_output=True,
                                  text=True, timeout=3 * GROUP_TIMEOUT_S)
            self.assertNotIn("terminate called", done.stderr)
            self.assertNotIn("SIGABRT", done.stderr)
            self.assertLess(time.monotonic() - start, 2 * GROUP_TIMEOUT_S, done.stderr[-3000:])
            return done

        with self.subTest(way="the equivalence written"):
            done = run([*ranks, *equivalence])
            self.assertEqual(done.returncode, 0, done.stderr[-3000:])
            for rank in range(RANKS):
                self.assertIn(f"rank {rank} exits 0 with gloo threads []", done.stderr)
        with self.subTest(way="the coordinator gone, after a run"):
            requests = self.dir / "requests.jsonl"
            requests.write_text("".join(json.dumps(r) + "\n" for r in (
                {"op": "prepare", "id": "a", "arm": arm(MODES[SIDE][1])}, {"op": "run", "id": "a", "units": 1})))
            with open(requests) as stdin:
                done = run(ranks, stdin=stdin)
            self.assertEqual(done.returncode, 0, done.stderr[-3000:])
            self.assertEqual([json.loads(line)["ok"] for line in done.stdout.splitlines()], [True, True], done.stdout)
            for rank in range(RANKS):
                self.assertIn(f"rank {rank} exits 0 with gloo threads []", done.stderr)
        with self.subTest(way="a rank that fails mid-training"):
            # Rank 1 raises after its first step, while rank 0 waits for it in the next collective: rank 1
            # ends its group (rank 0's collective then fails at once, not at the timeout) and exits 1.
            done = run([*ranks, *equivalence], SEQPACK_DDP_FAIL_RANK="1", SEQPACK_DDP_FAIL_AT="step")
            self.assertNotEqual(done.returncode, 0)
            self.assertIn("rank 1 fails after its first step on purpose", done.stderr)
            self.assertIn("rank 1 exits 1 with gloo threads []", done.stderr)
            (self.dir / "fail.log").write_text(done.stderr)
            self.assertRegex(data_parallel.why_the_group_stopped(self.dir / "fail.log"),
                             r"^rank [01] exited with status 1, ")

    @unittest.skipIf(SIDE != "cpp", "the Python worker's options are argparse's, its environment torch's to check")
    def test_bad_options_and_environments_are_refused(self):
        worker = str(BUILD / "perf" / "ddp_worker")
        out = str(self.dir / "never.safetensors")
        for argv, env, words in [
                ([worker, "--equivalence", out, "--model", "tft"], {}, "--model: must be an LSTM-family model"),
                ([worker, "--equivalence", out, "--path", "sideways"], {}, "--path: must be padded or packed"),
                ([worker, "--equivalence", out, "--steps", "-1"], {}, "--steps: must be in [0, 1000]"),
                ([worker, "--equivalence", out, "--as-ranks", "0"], {}, "--as-ranks: must be in [1, 64]"),
                ([worker, "--equivalence", out, "--as-ranks", "2"], {"WORLD_SIZE": "2"},
                 "--as-ranks: is for a run without torchrun"),
                ([worker], {}, "WORLD_SIZE: is not set"),
                ([worker], {"WORLD_SIZE": "2", "RANK": "2"}, "RANK: must be an integer in [0, 1]"),
                ([worker], {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "localhost", "MASTER_PORT": "x"},
                 "MASTER_PORT: must be an integer"),
                ([worker], {"WORLD_SIZE": "1", "RANK": "0", "MASTER_ADDR": "localhost", "MASTER_PORT": "1",
                            "SEQPACK_DDP_TIMEOUT_S": "soon"}, "SEQPACK_DDP_TIMEOUT_S: must be seconds"),
                ([worker], {"OMP_NUM_THREADS": "0"}, "OMP_NUM_THREADS: must be an integer in [1, 1024]")]:
            with self.subTest(argv=argv[1:], env=env):
                done = subprocess.run(argv, env=environment(**env), capture_output=True, text=True, timeout=60)
                self.assertEqual(done.returncode, 1, done.stderr)
                said = [line for line in done.stderr.splitlines() if line.startswith("ddp_worker:")]
                self.assertEqual(len(said), 1, done.stderr)  # one line (libgomp may add its own)
                self.assertIn(words, said[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
