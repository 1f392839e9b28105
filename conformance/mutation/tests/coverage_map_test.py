"""Unit tests of coverage selection (no build, no gcov needed):
    python conformance/mutation/tests/coverage_map_test.py
"""
import gzip
import json
import sys
import tempfile
import types
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import coverage_map  # noqa: E402
import generated_run  # noqa: E402

TESTS = ["unit.a", "unit.b", "conformance.c", "cli.d", "compiled.e"]
F = "impl/src/f.cpp"
H = "impl/include/seqpack/h.h"


def fake_map(unmapped=()):
    """f.cpp: line 10 run by unit.a and unit.b, 11 by unit.a, 12 recorded but run by none,
    20 run by conformance.c; 30 and 31 recorded, run by none; h.h: line 5 run by cli.d."""
    executed = [{(F, 10), (F, 11)}, {(F, 10)}, {(F, 20)}, {(H, 5)}, set()]
    instrumented = {(F, 10), (F, 11), (F, 12), (F, 20), (F, 30), (F, 31), (H, 5), (H, 6)}
    data = coverage_map.compact("c0ffee", TESTS, [1.0, 0.5, 30.0, 4.0, None], executed, instrumented, unmapped)
    return coverage_map.CoverageMap(json.loads(json.dumps(data)))  # as read back from the file


class Map(unittest.TestCase):
    def test_compact_shares_sets_and_keeps_unexecuted_lines(self):
        data = coverage_map.compact("c", TESTS, [0] * 5, [{(F, 1)}, {(F, 1), (F, 2)}], {(F, 1), (F, 2), (F, 3)}, [])
        self.assertEqual(data["sets"][0], [])
        self.assertEqual(data["sets"][data["files"][F]["1"]], [0, 1])
        self.assertEqual(data["sets"][data["files"][F]["2"]], [1])
        self.assertEqual(data["files"][F]["3"], 0)
        data = coverage_map.compact("c", TESTS, [0] * 5, [{(F, 1), (F, 2)}, {(F, 1), (F, 2)}], set(), [])
        self.assertEqual(data["files"][F]["1"], data["files"][F]["2"])
        self.assertEqual(len(data["sets"]), 2)

    def test_save_and_load(self):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / coverage_map.MAP_NAME
            self.assertIsNone(coverage_map.load(path))
            coverage_map.save(path, coverage_map.compact("c", TESTS, [1] * 5, [{(F, 1)}], {(F, 1)}, [4]))
            loaded = coverage_map.load(path)
            self.assertEqual(loaded.lines_for(F, 1), ({"unit.a"}, "exact"))
            self.assertEqual(loaded.unmapped, {"compiled.e"})
            with gzip.open(path, "rt") as f:
                self.assertEqual(json.load(f)["commit"], "c")
        self.assertEqual(fake_map().seconds, {"unit.a": 1.0, "unit.b": 0.5, "conformance.c": 30.0, "cli.d": 4.0})

    def test_gcov_json_lines_of_our_files_only(self):
        doc = {"current_working_directory": "/s/c1/build/coverage",
               "files": [{"file": "impl/src/f.cpp", "lines": [{"line_number": 3, "count": 2},
                                                               {"line_number": 4, "count": 0}]},
                         {"file": "../../impl/include/seqpack/h.h", "lines": [{"line_number": 7, "count": 1}]},
                         {"file": "/s/c1/impl/src/g.cpp", "lines": [{"line_number": 1, "count": 1}]},
                         {"file": "/usr/include/c++/12/vector", "lines": [{"line_number": 9, "count": 5}]},
                         {"file": "../../impl/tests/t.cpp", "lines": [{"line_number": 2, "count": 5}]}]}
        executed, instrumented = coverage_map.lines_of_gcov_json(doc, "/s/c1")
        self.assertEqual(executed, {("impl/src/f.cpp", 3), ("impl/include/seqpack/h.h", 7), ("impl/src/g.cpp", 1)})
        self.assertEqual(instrumented, executed | {("impl/src/f.cpp", 4)})


class Selection(unittest.TestCase):
    graph = ["unit.a", "unit.b", "conformance.c", "cli.d", "compiled.e"]

    def test_exact_line_selects_its_tests_in_graph_order(self):
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 10, self.graph), (["unit.a", "unit.b"], "coverage"))
        self.assertEqual(coverage_map.select_tests(fake_map(), H, 5, self.graph), (["cli.d"], "coverage"))

    def test_intersected_with_the_graph_selection(self):
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 10, ["unit.b", "cli.d"]), (["unit.b"], "coverage"))

    def test_exact_record_does_not_widen_to_neighbours(self):
        # line 11 is recorded (unit.a only): its neighbour 10's unit.b is not added
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 11, self.graph), (["unit.a"], "coverage"))

    def test_unrecorded_line_takes_the_lines_within_two(self):
        # line 13 has no record: 11 (unit.a) and 12 (none) are within 2; 15 is not
        self.assertEqual(fake_map().lines_for(F, 13), ({"unit.a"}, "nearby"))
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 13, self.graph), (["unit.a"], "coverage"))
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 18, self.graph), (["conformance.c"], "coverage"))
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 8, self.graph), (["unit.a", "unit.b"], "coverage"))

    def test_recorded_but_never_executed_is_not_covered(self):
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 12, self.graph), ([], "not-covered"))
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 32, self.graph), ([], "not-covered"))  # nearby 30, 31
        self.assertEqual(coverage_map.select_tests(fake_map(), H, 6, self.graph), ([], "not-covered"))

    def test_covered_only_by_excluded_tests_is_not_covered(self):
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 20, ["unit.a"]), ([], "not-covered"))

    def test_no_record_near_keeps_the_graph_selection(self):
        self.assertEqual(coverage_map.select_tests(fake_map(), F, 25, self.graph), (self.graph, "graph"))
        self.assertEqual(coverage_map.select_tests(fake_map(), "impl/src/other.cpp", 3, self.graph), (self.graph, "graph"))

    def test_unmapped_tests_are_always_selected(self):
        cov = fake_map(unmapped=[4])
        self.assertEqual(coverage_map.select_tests(cov, F, 10, self.graph), (["unit.a", "unit.b", "compiled.e"], "coverage"))
        self.assertEqual(coverage_map.select_tests(cov, F, 12, self.graph), (["compiled.e"], "coverage"))
        self.assertEqual(coverage_map.select_tests(cov, F, 12, self.graph[:4]), ([], "not-covered"))


class Ordering(unittest.TestCase):
    def test_cost_data(self):
        text = "unit.a 3 0.5\nconformance.c 1 40.25\nbroken line\n---\nunit.a\n"
        self.assertEqual(coverage_map.parse_cost_data(text), {"unit.a": 0.5, "conformance.c": 40.25})

    def test_cheapest_first_then_fallback_then_unknown(self):
        names = ["conformance.c", "unknown.x", "cli.d", "unit.a", "unit.b", "unknown.y"]
        costs = {"conformance.c": 40.0, "unit.a": 0.5, "cli.d": 3.0}
        fallback = {"unit.b": 0.1, "conformance.c": 0.01}
        self.assertEqual(coverage_map.order_by_cost(names, costs, fallback),
                         ["unit.a", "cli.d", "conformance.c", "unit.b", "unknown.x", "unknown.y"])
        self.assertEqual(coverage_map.order_by_cost(["b", "a"], {}), ["b", "a"])  # stable without costs

    def test_waves(self):
        self.assertEqual(coverage_map.waves(["a", "b", "c", "d", "e"], 2), [["a", "b"], ["c", "d"], ["e"]])
        self.assertEqual(coverage_map.waves([], 2), [])


class Running(unittest.TestCase):
    """run_cheapest_first with a fake Scratch: waves in cost order, stop at the first failing wave."""

    def scratch(self, fail=(), keep_going=False):
        folder = Path(tempfile.mkdtemp())
        (folder / "Testing" / "Temporary").mkdir(parents=True)
        (folder / "Testing" / "Temporary" / "CTestCostData.txt").write_text("t1 1 5\nt2 1 1\nt3 1 3\nt4 1 2\n")
        calls = []

        def run_tests(selection, log, stop, timeout):
            numbers = [int(n) for n in selection[1].split(",")[3:]]
            calls.append((numbers, selection[2:], stop))
            log.write_text(f"ran {numbers}\n")
            failed = [(f"t{n}", "Failed") for n in numbers if f"t{n}" in fail]
            return (8 if failed else 0), 1.0, failed, len(numbers)
        args = types.SimpleNamespace(keep_going=keep_going, jobs=2, run_timeout=100)
        return types.SimpleNamespace(build=folder, args=args, run_tests=run_tests, fixture_users={"t1"}), calls

    numbers = {"t1": 1, "t2": 2, "t3": 3, "t4": 4}

    def test_stops_after_the_first_failing_wave(self):
        scratch, calls = self.scratch(fail={"t3"})
        log = scratch.build / "x.test.log"
        status, seconds, failed, ran = generated_run.run_cheapest_first(scratch, ["t1", "t2", "t3", "t4"],
                                                                        self.numbers, log)
        self.assertEqual([c[0] for c in calls], [[2, 4], [3, 1]])
        self.assertEqual((status, seconds, failed, ran), (8, 2.0, [("t3", "Failed")], 4))
        self.assertIn("ran [3, 1]", log.read_text())

    def test_all_pass_and_fixture_set_up_runs_once(self):
        scratch, calls = self.scratch()
        status, _, failed, ran = generated_run.run_cheapest_first(scratch, ["t1", "t2", "t3", "t4"], self.numbers,
                                                                  scratch.build / "y.log")
        self.assertEqual((status, failed, ran), (0, [], 4))
        self.assertTrue(scratch.fixtures_ready)
        generated_run.run_cheapest_first(scratch, ["t1"], self.numbers, scratch.build / "z.log")
        self.assertEqual(calls[-1][1], ["--fixture-exclude-setup", ".*"])
        self.assertEqual(calls[0][1], [])

    def test_keep_going_runs_everything_at_once(self):
        scratch, calls = self.scratch(fail={"t2"}, keep_going=True)
        generated_run.run_cheapest_first(scratch, ["t1", "t2", "t3"], self.numbers, scratch.build / "k.log")
        self.assertEqual(calls, [([1, 2, 3], [], False)])


if __name__ == "__main__":
    unittest.main()
