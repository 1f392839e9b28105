"""The device dimension: parse_device's rejections on both sides (the C++ worker answers an
arm or an info request for a CUDA device that is not here with the one-line error, as the Python one),
run_matrix.py --device refusing CUDA at once without a traceback and running on the CPU, the run reply's
peak_device_memory_mib, the CPU timer. The CUDA timer and memory are checked only where a GPU is.

Usage: device_test.py PERF_WORKER  (unittest)"""
import csv
import json
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from worker_fixture import PADDED, PERF_WORKER, WorkersTestCase, engine
from seqpack_paths import ROOT
from seqpack_reference.perf import device as devices

import torch
HAS_GPU = torch.cuda.is_available()
NO_GPU = 'device: "cuda" asked for, but this machine has no CUDA GPU (torch::cuda::is_available() is false)'
ARM = {"kind": "step", "what": "transformer_lstm", "distribution": "uniform_half", "batch": 4,
       "encoder_steps": 16, "decoder_steps": 4}


class ParseDevice(unittest.TestCase):
    def test_cpu_and_auto(self):
        self.assertEqual(devices.parse_device("cpu"), torch.device("cpu"))
        self.assertEqual(devices.device_label(devices.parse_device("auto")), "cuda:0" if HAS_GPU else "cpu")

    def test_other_text_is_refused_in_one_line(self):
        for text in ("gpu", "cuda:", "cuda:-1", "cuda:x", "CPU", ""):
            with self.assertRaises(devices.DeviceError) as caught:
                devices.parse_device(text, "--device")
            self.assertEqual(str(caught.exception),
                             f'--device: must be auto, cpu, cuda or cuda:N, not "{text}"')

    @unittest.skipIf(HAS_GPU, "this machine has a GPU: asking for one is not refused")
    def test_cuda_without_a_gpu_is_refused_in_one_line(self):
        with self.assertRaises(devices.DeviceError) as caught:
            devices.parse_device("cuda")
        self.assertEqual(str(caught.exception), NO_GPU)

    def test_the_cpu_timer_and_memory(self):
        timer = devices.DeviceTimer(torch.device("cpu"))
        timer.start()
        time.sleep(0.05)
        self.assertGreaterEqual(timer.stop_seconds(), 0.05)
        self.assertEqual(devices.peak_device_memory_mib(torch.device("cpu")), 0.0)
        self.assertEqual(devices.describe_device(torch.device("cpu")), {"device": "cpu"})


class Workers(WorkersTestCase):
    def test_a_cpu_run_replies_its_peak_device_memory(self):
        for side in ("cpp", "python"):
            with self.subTest(side=side):
                worker = self.workers[side]
                info = worker.call({"op": "info", "device": "cpu"}, 120)
                self.assertEqual(info["device"], {"device": "cpu"})
                prepared = worker.call({"op": "prepare", "id": "a", "arm": {**ARM, "mode": PADDED[side],
                                                                           "device": "cpu"}}, 300)
                self.assertTrue(prepared["ok"], prepared)
                run = worker.call({"op": "run", "id": "a", "units": 1}, 300)
                self.assertTrue(run["ok"], run)
                self.assertEqual(run["peak_device_memory_mib"], 0.0)
                self.assertGreater(run["seconds"], 0.0)
                worker.call({"op": "release", "id": "a"}, 60)

    @unittest.skipIf(HAS_GPU, "this machine has a GPU: a CUDA arm is not refused")
    def test_a_cuda_arm_or_info_is_refused_in_one_line(self):
        for side in ("cpp", "python"):
            with self.subTest(side=side):
                worker = self.workers[side]
                for request in ({"op": "prepare", "id": "b", "arm": {**ARM, "mode": PADDED[side], "device": "cuda"}},
                                {"op": "info", "device": "cuda"}):
                    with self.assertRaises(engine.WorkerError) as refused:  # the worker answered ok: false
                        worker.call(request, 120)
                    self.assertTrue(str(refused.exception).endswith(NO_GPU), str(refused.exception))
                    self.assertNotIn("\n", str(refused.exception))
                self.assertTrue(worker.call({"op": "info"}, 60)["ok"])  # still running

    @unittest.skipUnless(HAS_GPU, "torch.cuda.is_available() is false: no GPU to time or measure")
    def test_a_cuda_run_is_timed_and_its_memory_read(self):
        for side in ("cpp", "python"):
            with self.subTest(side=side):
                worker = self.workers[side]
                info = worker.call({"op": "info", "device": "cuda:0"}, 120)
                self.assertEqual(info["device"]["device"], "cuda:0")
                prepared = worker.call({"op": "prepare", "id": "c", "arm": {**ARM, "mode": PADDED[side],
                                                                           "device": "cuda:0"}}, 300)
                self.assertTrue(prepared["ok"], prepared)
                run = worker.call({"op": "run", "id": "c", "units": 2}, 300)
                self.assertTrue(run["ok"], run)
                self.assertGreater(run["seconds"], 0.0)
                self.assertGreater(run["peak_device_memory_mib"], 0.0)
                worker.call({"op": "release", "id": "c"}, 60)
        timer = devices.DeviceTimer(torch.device("cuda:0"))
        timer.start()
        torch.cuda._sleep(100_000_000)  # ~0.05 s or more of GPU time, queued without the CPU waiting
        self.assertGreater(timer.stop_seconds(), 0.01)
        devices.reset_peak_device_memory(torch.device("cuda:0"))
        block = torch.empty(64 * 2**20, dtype=torch.uint8, device="cuda:0")
        self.assertGreaterEqual(devices.peak_device_memory_mib(torch.device("cuda:0")), 64.0)
        del block
        self.assertEqual(devices.describe_device(torch.device("cuda:0"))["name"],
                         torch.cuda.get_device_properties(0).name)


def run_matrix(*arguments, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "perf" / "run_matrix.py"), "--build",
                           str(PERF_WORKER.parent.parent), "--out", str(out), *arguments],
                          # the point takes ~10 s idle, but starts fresh workers three times (3 launches):
                          # on a loaded machine that took over 300 s once; the ctest's own limit is 600 s
                          capture_output=True, text=True, timeout=540)


class RunMatrix(unittest.TestCase):
    @unittest.skipIf(HAS_GPU, "this machine has a GPU: --device cuda is not refused")
    def test_cuda_is_refused_at_once_in_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.monotonic()
            result = run_matrix("--device", "cuda", out=Path(tmp) / "out")
            self.assertNotEqual(result.returncode, 0)
            self.assertEqual(result.stderr.strip(), f"run_matrix.py: --{NO_GPU}")
            self.assertLess(time.monotonic() - start, 30)
            self.assertFalse((Path(tmp) / "out").exists())  # nothing started, nothing written

    def test_cpu_runs_and_records_the_device(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            # one cheap point: the full profile's primitives at one distribution, B and T (about 20 s)
            result = run_matrix("--device", "cpu", "--profile", "full", "--only", "primitive", "--filter",
                                "primitive/ops/equal/8/64", "--seed", "1", out=out)
            self.assertEqual(result.returncode, 0, result.stderr[-2000:])
            rows = list(csv.DictReader(open(out / "results.csv")))
            self.assertTrue(rows)
            for column in ("precision", "device", "machine", "peak_device_memory_mib"):
                self.assertIn(column, rows[0])
            self.assertEqual({r["device"] for r in rows}, {"cpu"})
            machine = json.loads((out / "machine.json").read_text())
            self.assertEqual(machine["accelerator"], {"device": "cpu"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
