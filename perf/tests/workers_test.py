"""The C++ and Python workers answer the engine's protocol: every kind of arm the suite declares
builds, runs and reports; bad requests fail with a message and leave the worker running.

Usage: workers_test.py PERF_WORKER  (unittest; small batches so that it takes seconds)"""
import unittest

from worker_fixture import PADDED, WorkersTestCase, engine


def arm(kind, what, mode, batch=4, **more):
    return {"kind": kind, "what": what, "mode": mode, "distribution": "uniform_half", "batch": batch,
            "encoder_steps": 16, "decoder_steps": 4, **more}


TFT_FAMILY = ("tft", "pftft", "xtft")
# The TFT family at the original's d_model 300 takes seconds a step on 2 cores: the tests build it small.
SMALL_TFT = {"d_model": 16, "num_heads": 2, "d_hidden_continuous": 4}
SMALL_LSTM, SMALL_LSTM_ED = {"d_model": 16, "num_heads": 2}, {"d_encoder": 16, "d_decoder": 16}


class Workers(WorkersTestCase):
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
                     arm("step", "transformer_lstm", "jagged_eager"),
                     arm("primitive", "align_auto", "-"), arm("primitive", "collate", "-")]:
            with self.subTest(spec=spec):
                self.prepare_and_run("python", spec)

    def test_the_same_arm_gives_the_same_fill_on_both_sides(self):
        cpp = self.prepare_and_run("cpp", arm("step", "encoder_decoder_lstm", "padded", batch=8))
        python = self.prepare_and_run("python", arm("step", "encoder_decoder_lstm", "padded_eager", batch=8))
        self.assertEqual((cpp["fill_ratio"], cpp["timesteps"]), (python["fill_ratio"], python["timesteps"]))

    def test_a_lengths_file_is_a_distribution_on_both_sides(self):
        spec = dict(distribution="file:perf/datasets/japanese_vowels.csv@scale", batch=8)
        cpp = self.prepare_and_run("cpp", arm("step", "attention_lstm", "padding_free", **spec))
        python = self.prepare_and_run("python", arm("step", "attention_lstm", "packed_eager", **spec))
        self.assertEqual((cpp["fill_ratio"], cpp["timesteps"]), (python["fill_ratio"], python["timesteps"]))
        self.assertLess(cpp["fill_ratio"], 0.9)
        for side, mode in (("cpp", "padded"), ("python", "padded_eager")):
            with self.subTest(side=side), self.assertRaises(engine.WorkerError) as caught:
                self.workers[side].call({"op": "prepare", "id": "bad", "arm": arm(
                    "step", "attention_lstm", mode, distribution="file:perf/datasets/no_such.csv")}, 300)
            self.assertIn("file:perf/datasets/no_such.csv: ", str(caught.exception))
            self.assertIn("is not a readable file", str(caught.exception))

    def test_the_jagged_peer_is_a_transformer_lstm_step_only(self):
        for spec in (arm("step", "attention_lstm", "jagged_eager"), arm("forward", "transformer_lstm", "jagged_eager")):
            with self.subTest(spec=spec), self.assertRaises(engine.WorkerError) as caught:
                self.workers["python"].call({"op": "prepare", "id": "bad", "arm": spec}, 300)
            self.assertIn("arm mode", str(caught.exception))
            self.assertIn("transformer_lstm only", str(caught.exception))

    def test_both_sides_measure_the_same_arms_memory_alike(self):
        # The same model holds the same parameters and Adam moments on both sides; what a step holds
        # above its start differs between the implementations, but is of one size (within a quarter).
        replies = {side: self.workers[side].call({"op": "prepare", "id": "m", "memory": True,
                                                  "arm": arm("step", "encoder_decoder_lstm", mode, batch=8)}, 300)
                   for side, mode in (("cpp", "padded"), ("python", "padded_eager"))}
        self.assertEqual(replies["cpp"]["held_mib"], replies["python"]["held_mib"])
        self.assertGreater(replies["cpp"]["held_mib"], 0)
        self.assertLess(abs(replies["cpp"]["unit_peak_mib"] / replies["python"]["unit_peak_mib"] - 1), 0.25)
        for side in replies:
            self.workers[side].call({"op": "release", "id": "m"}, 60)

    def test_the_padding_free_step_stores_no_padding(self):
        # Its step peak against the padded one's, at a fill well below 1: below the fill plus the
        # gradients' share (what every path holds alike), and far below padded.
        peaks = {mode: self.workers["cpp"].call({"op": "prepare", "id": mode, "memory": True,
                                                 "arm": arm("step", "transformer_lstm", mode, batch=32,
                                                            distribution="heavy_tailed", encoder_steps=64,
                                                            decoder_steps=16)}, 300)
                 for mode in ("padded", "padding_free")}
        fill = peaks["padded"]["fill_ratio"]
        self.assertLess(fill, 0.5)
        self.assertLess(peaks["padding_free"]["unit_peak_mib"], 0.5 * peaks["padded"]["unit_peak_mib"])
        for mode in peaks:
            self.workers["cpp"].call({"op": "release", "id": mode}, 60)

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
        # How much a slowed arm slows is measured where timing belongs: gate.py check --slowdown times
        # the slowed head arms against the base in the same rounds. Here: the switch exists and rejects nonsense.
        worker = self.workers["cpp"]
        spec = arm("lstm_step", "lstm", "padded")
        self.assertTrue(worker.call({"op": "prepare", "id": "slow", "arm": {**spec, "slowdown": 0.2}}, 300)["ok"])
        worker.call({"op": "release", "id": "slow"}, 60)
        for bad in (-0.1, 11.0):
            with self.subTest(slowdown=bad), self.assertRaises(engine.WorkerError) as caught:
                worker.call({"op": "prepare", "id": "bad", "arm": {**spec, "slowdown": bad}}, 300)
            self.assertIn("slowdown", str(caught.exception))

    def test_the_tft_family_steps_and_forwards_padded_on_both_sides(self):
        # Right-aligned encoders, static covariates from the lengths (tft, pftft), the model's default
        # QuantileLoss: the same batch on both sides.
        for model in TFT_FAMILY:
            for kind in ("step", "forward"):
                replies = {}
                for side in ("cpp", "python"):
                    with self.subTest(model=model, kind=kind, side=side):
                        replies[side] = self.prepare_and_run(side, arm(kind, model, PADDED[side],
                                                                       model_params=SMALL_TFT))
                        self.assertEqual(replies[side]["samples"], 4)
                if len(replies) == 2:
                    self.assertEqual((replies["cpp"]["fill_ratio"], replies["cpp"]["timesteps"]),
                                     (replies["python"]["fill_ratio"], replies["python"]["timesteps"]))

    def test_lower_precision_steps_run_on_the_cpu(self):
        # bfloat16 autocast; float16 autocast with a gradient scaler (the CPU allows it). The float16
        # step is EncoderDecoderLSTM's: the attention models mask with a -1e9 fill, which float16
        # cannot hold, in PyTorch as in seqpack (impl/tests/precision_test.cpp); packed, as oneDNN's
        # padded LSTM has no float16 primitive on CPUs without float16 arithmetic (this one).
        for side in ("cpp", "python"):
            packed = "packed" if side == "cpp" else "packed_eager"
            for spec in [arm("step", "transformer_lstm", PADDED[side], precision="bfloat16", model_params=SMALL_LSTM),
                         arm("step", "encoder_decoder_lstm", packed, precision="float16", model_params=SMALL_LSTM_ED),
                         arm("step", "tft", PADDED[side], precision="bfloat16", model_params=SMALL_TFT),
                         arm("forward", "xtft", PADDED[side], precision="bfloat16", model_params=SMALL_TFT)]:
                with self.subTest(side=side, spec=spec):
                    self.prepare_and_run(side, spec)
        for spec in [arm("lstm_step", "lstm", "packed", precision="bfloat16"),
                     arm("grouping", "encoder_decoder_lstm", "packed_random", precision="float16",
                         model_params=SMALL_LSTM_ED)]:
            with self.subTest(side="cpp", spec=spec):
                self.prepare_and_run("cpp", spec)

    def test_device_precision_and_params_are_checked_in_one_line(self):
        import torch  # the worker's own torch says whether a GPU is here
        cases = [(arm("step", "tft", "packed"), "arm mode", "padded only"),
                 (arm("step", "transformer_lstm", "padded", precision="half"), "arm precision", "float16"),
                 (arm("step", "xtft", "padded", model_params={"nope": 1}), "arm model_params", "nope"),
                 (arm("step", "transformer_lstm", "padded", model_params={"packing": "always"}), "arm model_params",
                  "mode names the path")]
        if not torch.cuda.is_available():
            cases.append((arm("step", "transformer_lstm", "padded", device="cuda"), "device", "no CUDA GPU"))
        for side in ("cpp", "python"):
            worker = self.workers[side]
            for spec, argument, words in cases:
                if side == "python":
                    spec = {**spec, "mode": {"packed": "packed_eager"}.get(spec["mode"], "padded_eager")}
                with self.subTest(side=side, spec=spec), self.assertRaises(engine.WorkerError) as caught:
                    worker.call({"op": "prepare", "id": "bad", "arm": spec}, 300)
                message = str(caught.exception)
                self.assertIn(argument, message)
                self.assertIn(words, message)
                self.assertNotIn("\n", message)
        for spec, argument in [(arm("forward", "tft", "compiled"), "arm mode"),
                               (arm("primitive", "collate", "-", precision="bfloat16"), "arm precision"),
                               (arm("grouping", "tft", "padded_random"), "arm what")]:
            with self.subTest(side="cpp", spec=spec), self.assertRaises(engine.WorkerError) as caught:
                self.workers["cpp"].call({"op": "prepare", "id": "bad", "arm": spec}, 300)
            self.assertIn(argument, str(caught.exception))

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
