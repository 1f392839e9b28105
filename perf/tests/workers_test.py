"""The C++ and Python workers answer the engine's protocol: every kind of arm the suite declares
builds, runs and reports; bad requests fail with a message and leave the worker running.

Usage: workers_test.py PERF_WORKER  (unittest; small batches so that it takes seconds)"""
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import engine  # noqa: E402
from seqpack_paths import ROOT  # noqa: E402

PERF_WORKER = Path(sys.argv.pop(1)) if len(sys.argv) > 1 else ROOT / "build" / "release" / "perf" / "perf_worker"


def arm(kind, what, mode, batch=4, **more):
    return {"kind": kind, "what": what, "mode": mode, "distribution": "uniform_half", "batch": batch,
            "encoder_steps": 16, "decoder_steps": 4, **more}


class Workers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.workers = engine.Workers(PERF_WORKER.parent.parent, sys.executable, Path(cls.tmp.name), "quick")
        cls.workers.workers["cpp"].argv = [str(PERF_WORKER)]

    @classmethod
    def tearDownClass(cls):
        cls.workers.close()
        cls.tmp.cleanup()

    def prepare_and_run(self, side, spec, units=2):
        worker = self.workers[side]
        reply = worker.call({"op": "prepare", "id": "a", "arm": spec}, 300)
        self.assertGreater(reply["prepare_s"], 0)
        self.assertGreaterEqual(reply["steps_per_unit"], 1)
        ran = worker.call({"op": "run", "id": "a", "units": units}, 300)
        self.assertGreater(ran["seconds"], 0)
        worker.call({"op": "release", "id": "a"}, 60)
        return reply

    def test_cpp_arms(self):
        for spec in [arm("step", "transformer_lstm", m)
                     for m in ("padded", "packed", "segmented", "stepwise", "padding_free")] + \
                    [arm("step", "attention_lstm", "calibrated"), arm("step", "encoder_decoder_lstm", "padding_free"),
                     arm("step", "attention_lstm", "padding_free"), arm("lstm_step", "lstm", "stepwise"),
                     arm("grouping", "encoder_decoder_lstm", "packed_grouped"),
                     arm("grouping", "transformer_lstm", "padding_free_grouped"),
                     arm("grouping", "transformer_lstm", "padding_free_random"),
                     arm("primitive", "align_pack_fused", "-"), arm("primitive", "collate_auto", "-")]:
            with self.subTest(spec=spec):
                reply = self.prepare_and_run("cpp", spec)
                self.assertEqual(reply["samples"], 4 if spec["kind"] != "grouping" else 4 * 8)  # 8 batches an epoch

    def test_python_arms(self):
        for spec in [arm("step", "transformer_lstm", "padded_eager"), arm("step", "transformer_lstm", "packed_eager"),
                     arm("primitive", "align_auto", "-"), arm("primitive", "collate", "-")]:
            with self.subTest(spec=spec):
                self.prepare_and_run("python", spec)

    def test_the_same_arm_gives_the_same_fill_on_both_sides(self):
        cpp = self.prepare_and_run("cpp", arm("step", "encoder_decoder_lstm", "padded", batch=8))
        python = self.prepare_and_run("python", arm("step", "encoder_decoder_lstm", "padded_eager", batch=8))
        self.assertEqual((cpp["fill_ratio"], cpp["timesteps"]), (python["fill_ratio"], python["timesteps"]))

    def test_the_padding_free_step_reports_the_padded_steps_fill(self):
        # The same batch as the padded arm: the efficiency's fill (report.py) is the padded arm's.
        padded = self.prepare_and_run("cpp", arm("step", "transformer_lstm", "padded", batch=8))
        free = self.prepare_and_run("cpp", arm("step", "transformer_lstm", "padding_free", batch=8))
        self.assertEqual((free["fill_ratio"], free["timesteps"]), (padded["fill_ratio"], padded["timesteps"]))
        self.assertLess(free["fill_ratio"], 1.0)

    def test_modes_a_kind_does_not_run_are_refused(self):
        worker = self.workers["cpp"]
        for spec, words in [(arm("lstm_step", "lstm", "padding_free"), "no padding_free path"),
                            (arm("grouping", "transformer_lstm", "padding_free"), "padding_free"),
                            (arm("grouping", "transformer_lstm", "sideways_grouped"), "<padded|packed|"),
                            (arm("grouping", "transformer_lstm", "padding_free_sorted"), "random|grouped")]:
            with self.subTest(spec=spec), self.assertRaises(engine.WorkerError) as caught:
                worker.call({"op": "prepare", "id": "bad", "arm": spec}, 300)
            self.assertIn("arm mode", str(caught.exception))
            self.assertIn(words, str(caught.exception))

    def test_the_slowdown_switch_is_checked(self):
        # How much a slowed arm slows is measured where timing belongs: gate.py characterise prints
        # the effective slowdowns of its recordings. Here: the switch exists and rejects nonsense.
        worker = self.workers["cpp"]
        spec = arm("lstm_step", "lstm", "padded")
        self.assertTrue(worker.call({"op": "prepare", "id": "slow", "arm": {**spec, "slowdown": 0.2}}, 300)["ok"])
        worker.call({"op": "release", "id": "slow"}, 60)
        for bad in (-0.1, 11.0):
            with self.subTest(slowdown=bad), self.assertRaises(engine.WorkerError) as caught:
                worker.call({"op": "prepare", "id": "bad", "arm": {**spec, "slowdown": bad}}, 300)
            self.assertIn("slowdown", str(caught.exception))

    def test_bad_requests_fail_and_the_worker_goes_on(self):
        for side in ("cpp", "python"):
            worker = self.workers[side]
            for request, words in [({"op": "prepare", "id": "x", "arm": arm("nope", "x", "padded")}, "kind"),
                                   ({"op": "prepare", "id": "x", "arm": arm("step", "transformer_lstm", "sideways")},
                                    "mode"),
                                   ({"op": "run", "id": "never", "units": 1}, "no prepared arm"),
                                   ({"op": "frobnicate", "id": "x"}, "no op")]:
                with self.subTest(side=side, request=request):
                    with self.assertRaises(engine.WorkerError) as caught:
                        worker.call(request, 60)
                    self.assertIn(words, str(caught.exception))
            self.assertEqual(worker.call({"op": "info"}, 60)["ok"], True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
