"""Unit tests of the pure parts of the generated-mutant mode (no build, no universalmutator needed):
    python conformance/mutation/tests/generated_parts_test.py
"""
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import generate  # noqa: E402
import generated_run  # noqa: E402
import interval  # noqa: E402
import resume  # noqa: E402
import sampling  # noqa: E402
import selection  # noqa: E402

TEXT = "int f(int a) {\n  if (a < 1) return 0;  // small\n  return a + 1;\n}\n  return a + 1;\n"


def fake_mutants(count):
    return [{"id": f"{i:012x}", "file": f"impl/src/f{i % 3}.cpp", "line": i, "original": "x",
             "mutated": "y", "rule": "r"} for i in range(1, count + 1)]


class Generation(unittest.TestCase):
    def test_dedupe_and_no_op_and_comment_only(self):
        raw = [(2, "  if (a <= 1) return 0;  // small\n", "< ==> <="),
               (2, "  if (a <= 1) return 0;  // small\n", "another rule, same text"),
               (2, "  if (a < 1) return 0;  // large\n", "comment only"),
               (2, "  if (a < 1)  return 0;\n", "whitespace and comment only"),
               (3, "  return a + 1;\n", "no-op"),
               (3, "  return a - 1;\n", "\\+ ==> -")]
        kept = generate.mutants_of("impl/src/f.cpp", TEXT, raw)
        self.assertEqual([(m["line"], m["rule"]) for m in kept], [(2, "< ==> <="), (3, "\\+ ==> -")])
        self.assertEqual(kept[0]["original"], "  if (a < 1) return 0;  // small")

    def test_string_contents_are_code(self):
        self.assertNotEqual(generate.code_only('s = "a b";'), generate.code_only('s = "ab";'))
        self.assertEqual(generate.code_only("x = 1; /* c */ // d"), "x=1;")

    def test_id_is_stable_and_ignores_the_line_number(self):
        a = generate.mutant_id("impl/src/f.cpp", "  return a + 1;\n", "  return a - 1;\n", 0)
        self.assertEqual(a, generate.mutant_id("impl/src/f.cpp", "  return a + 1;", "  return a - 1;", 0))
        self.assertEqual(len(a), 12)
        shifted = "// a new first line\n" + TEXT
        m1 = generate.mutants_of("impl/src/f.cpp", TEXT, [(3, "  return a - 1;\n", "r")])[0]
        m2 = generate.mutants_of("impl/src/f.cpp", shifted, [(4, "  return a - 1;\n", "r")])[0]
        self.assertEqual(m1["id"], m2["id"])
        self.assertEqual((m1["line"], m2["line"]), (3, 4))
        # the same text on its second occurrence (line 5) is another mutant
        m3 = generate.mutants_of("impl/src/f.cpp", TEXT, [(5, "  return a - 1;\n", "r")])[0]
        self.assertNotEqual(m1["id"], m3["id"])

    def test_apply_checks_the_original_line(self):
        m = generate.mutants_of("impl/src/f.cpp", TEXT, [(3, "  return a - 1;\n", "r")])[0]
        self.assertEqual(generate.apply(TEXT, m).splitlines()[2], "  return a - 1;")
        with self.assertRaises(ValueError):
            generate.apply("// shifted\n" + TEXT, m)


class Sampling(unittest.TestCase):
    def test_same_seed_same_sample_whatever_the_order(self):
        mutants = fake_mutants(500)
        a = sampling.draw(mutants, 20, seed=7)
        b = sampling.draw(list(reversed(mutants)), 20, seed=7)
        self.assertEqual([m["id"] for m in a], [m["id"] for m in b])
        self.assertNotEqual([m["id"] for m in a], [m["id"] for m in sampling.draw(mutants, 20, seed=8)])
        self.assertEqual(len({m["id"] for m in a}), 20)
        self.assertEqual(len(sampling.draw(mutants, 900, seed=1)), 500)

    def test_roughly_uniform(self):
        mutants = fake_mutants(30)
        hits = {m["id"]: 0 for m in mutants}
        for seed in range(600):
            for m in sampling.draw(mutants, 3, seed):
                hits[m["id"]] += 1
        self.assertTrue(all(25 <= h <= 100 for h in hits.values()), hits)  # expected 60 each

    def test_sample_file_is_reused_or_refused(self):
        mutants = fake_mutants(50)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "s.json"
            record = sampling.sample_record("c" * 40, 1, 5, mutants, {"tool": "t"})
            self.assertEqual(sampling.load_or_write(path, record)["total_per_file"],
                             {"impl/src/f0.cpp": 16, "impl/src/f1.cpp": 17, "impl/src/f2.cpp": 17})
            self.assertEqual(sampling.load_or_write(path, record), json.loads(path.read_text()))
            with self.assertRaises(ValueError):
                sampling.load_or_write(path, sampling.sample_record("c" * 40, 2, 5, mutants, {}))


class Interval(unittest.TestCase):
    def test_known_values(self):
        low, high = interval.clopper_pearson(5, 10)
        self.assertAlmostEqual(low, 0.187086, places=5)
        self.assertAlmostEqual(high, 0.812914, places=5)
        low, high = interval.clopper_pearson(10, 10)
        self.assertEqual(high, 1.0)
        self.assertAlmostEqual(low, 0.025 ** 0.1, places=6)
        self.assertEqual(interval.clopper_pearson(0, 10)[0], 0.0)
        self.assertAlmostEqual(interval.clopper_pearson(0, 10)[1], 1 - 0.025 ** 0.1, places=6)
        self.assertEqual(interval.clopper_pearson(0, 0), (None, None))

    def test_matches_scipy_when_present(self):
        try:
            from scipy.stats import beta
        except ImportError:
            self.skipTest("no scipy")
        for k, n in ((70, 73), (1, 3), (2, 3), (97, 100)):
            low, high = interval.clopper_pearson(k, n)
            self.assertAlmostEqual(low, beta.ppf(0.025, k, n - k + 1), places=6)
            self.assertAlmostEqual(high, beta.ppf(0.975, k + 1, n - k), places=6)


class Resume(unittest.TestCase):
    def test_skips_the_finished_and_ignores_a_cut_line(self):
        sample = fake_mutants(4)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "state.jsonl"
            self.assertEqual(resume.pending(sample, resume.load(path)[0]), sample)
            resume.append(path, {"baseline": "passed", "tests": ["a"]})
            resume.append(path, {"id": sample[0]["id"], "outcome": "killed"})
            resume.append(path, {"id": sample[2]["id"], "outcome": "stillborn"})
            resume.append(path, {"id": sample[2]["id"], "outcome": "survived"})
            with open(path, "a") as out:
                out.write('{"id": "%s", "outc' % sample[3]["id"])  # a kill mid-write
            done, baselines = resume.load(path)
            self.assertEqual(done[sample[2]["id"]]["outcome"], "survived")  # the last record wins
            self.assertEqual([m["id"] for m in resume.pending(sample, done)], [sample[1]["id"], sample[3]["id"]])
            self.assertEqual(baselines, [{"baseline": "passed", "tests": ["a"]}])

    def test_judging_order_is_seeded_and_not_the_file_order(self):
        sample = fake_mutants(60)
        order = resume.judging_order(sample, 1)
        self.assertEqual(order, resume.judging_order(sample, 1))
        self.assertEqual(sorted(m["id"] for m in order), sorted(m["id"] for m in sample))
        self.assertNotEqual(order, sample)
        self.assertNotEqual(order, resume.judging_order(sample, 2))

    def test_judging_order_prefixes_spread_over_the_sample(self):
        # the first fifth judged must not be the first fifth of the files: on average its mean
        # position in the sample is the middle
        sample = fake_mutants(500)
        position = {m["id"]: i for i, m in enumerate(sample)}
        means = [sum(position[m["id"]] for m in resume.judging_order(sample, seed)[:100]) / 100 for seed in range(20)]
        self.assertAlmostEqual(sum(means) / len(means), 249.5, delta=25)

    def test_scored_leaves_stillborn_out(self):
        done = {"a": {"outcome": "killed"}, "b": {"outcome": "stillborn"}, "c": {"outcome": "survived"},
                "d": {"outcome": "timeout"}}
        self.assertEqual(resume.scored(done), 3)


class FakeScratch:
    """Builds by remembering the source's text, tests by reporting what the last build saw."""

    def __init__(self, folder):
        self.tree = Path(folder)
        self.logs = self.tree / "logs"
        self.logs.mkdir()
        self.build = self.tree / "build"
        self.args = type("Args", (), {"keep_going": True, "jobs": 2, "run_timeout": 60, "build_timeout": 60})()
        self.built_text, self.tested_texts = None, []

    def build_targets(self, log, timeout):
        self.built_text = (self.tree / "impl/src/a.cpp").read_text()
        return True, 1.0

    def run_tests(self, args, log, stop_on_failure, timeout):
        self.tested_texts.append(self.built_text)
        return 0, 1.0, [], 1


class Judging(unittest.TestCase):
    def test_the_mutant_is_tested_even_when_the_baseline_rebuilt_the_tree_first(self):
        original = "int a = 1;\n"
        mutant = {"id": "m1", "file": "impl/src/a.cpp", "line": 1, "original": "int a = 1;",
                  "mutated": "int a = 2;", "rule": "r"}
        with tempfile.TemporaryDirectory() as folder:
            scratch = FakeScratch(folder)
            source = scratch.tree / "impl/src/a.cpp"
            source.parent.mkdir(parents=True)
            source.write_text(original)

            def baseline():  # as ensure_baseline does: restore, rebuild, test the unmutated tree
                source.write_text(original)
                scratch.build_targets(None, 1)
                scratch.run_tests([], None, False, 1)
                return True

            record = generated_run.judge(mutant, ["t"], scratch, {"impl/src/a.cpp": original}, baseline, {"t": 1})
            self.assertEqual(scratch.tested_texts, [original, "int a = 2;\n"])  # baseline, then the mutant
            self.assertEqual(record["outcome"], "survived")
            self.assertEqual(source.read_text(), original)


class Selection(unittest.TestCase):
    BUILD = "/b/build"
    DEPS = """impl/CMakeFiles/seqpack.dir/src/align.cpp.o: #deps 3, deps mtime 1 (VALID)
    ../impl/src/align.cpp
    ../impl/include/seqpack/align.h
    /usr/include/stdio.h

impl/fuzz/CMakeFiles/eval_fuzz.dir/eval_fuzz.cpp.o: #deps 2, deps mtime 1 (VALID)
    ../impl/fuzz/eval_fuzz.cpp
    ../impl/include/seqpack/cli.h

"""

    def graph(self):
        deps = selection.parse_deps(self.DEPS, self.BUILD)
        lib = {"/b/build/impl/CMakeFiles/seqpack.dir/src/align.cpp.o", "/b/impl/src/align.cpp", "/b/build/impl/libseqpack.a"}
        exe_inputs = {"/b/build/impl/tests/seqpack_unit_tests": lib | {"/b/impl/tests/t.cpp"},
                      "/b/build/impl/fuzz/eval_fuzz": lib | {"/b/build/impl/fuzz/CMakeFiles/eval_fuzz.dir/eval_fuzz.cpp.o"},
                      "/b/build/seqpack": {"/b/impl/tools/main.cpp"}}
        return deps, exe_inputs

    def test_parse_deps(self):
        deps, _ = self.graph()
        self.assertEqual(deps["/b/build/impl/CMakeFiles/seqpack.dir/src/align.cpp.o"],
                         {"/b/impl/src/align.cpp", "/b/impl/include/seqpack/align.h", "/usr/include/stdio.h"})

    def test_a_source_a_header_and_a_program_only_header(self):
        deps, exe_inputs = self.graph()
        self.assertEqual(selection.executables_fed_by("/b/impl/src/align.cpp", exe_inputs, deps),
                         {"/b/build/impl/tests/seqpack_unit_tests", "/b/build/impl/fuzz/eval_fuzz"})
        self.assertEqual(selection.executables_fed_by("/b/impl/include/seqpack/align.h", exe_inputs, deps),
                         {"/b/build/impl/tests/seqpack_unit_tests", "/b/build/impl/fuzz/eval_fuzz"})
        self.assertEqual(selection.executables_fed_by("/b/impl/include/seqpack/cli.h", exe_inputs, deps),
                         {"/b/build/impl/fuzz/eval_fuzz"})
        self.assertEqual(selection.executables_fed_by("/b/impl/src/other.cpp", exe_inputs, deps), set())

    def test_tests_by_command_or_environment(self):
        ctest = {"tests": [
            {"name": "unit.A", "command": ["/b/build/impl/tests/seqpack_unit_tests", "--gtest_filter=A"]},
            {"name": "fuzz.replay.eval_fuzz", "command": ["/b/build/impl/fuzz/eval_fuzz", "/b/impl/fuzz/corpus"]},
            {"name": "cli.black_box", "command": ["/venv/bin/python", "/b/t.py", "/b/build/seqpack"]},
            {"name": "env", "command": ["/venv/bin/python", "x.py"],
             "properties": [{"name": "ENVIRONMENT", "value": ["SEQPACK_CLI=/b/build/seqpack"]}]},
            {"name": "reference.pytest", "command": ["/venv/bin/python", "-m", "pytest"]},
            {"name": "not_built"}]}
        self.assertEqual(selection.tests_running(ctest, {"/b/build/impl/fuzz/eval_fuzz"}), ["fuzz.replay.eval_fuzz"])
        self.assertEqual(selection.tests_running(ctest, {"/b/build/seqpack", "/b/build/impl/tests/seqpack_unit_tests"}),
                         ["unit.A", "cli.black_box", "env"])


if __name__ == "__main__":
    unittest.main()
