"""Per-test line coverage of impl/, for choosing which tests can notice a generated mutant.

The graph selection (selection.py) sends a mutant of almost any file to 311 of the 314 tests,
since every test program links the library. The coverage map narrows that to the tests that
executed the mutated line:

- Build: the commit's export is configured a second time in SCRATCH/<commit>/build/coverage with
  the mutation build's options plus `--coverage` and -O0 (ccache misses: other flags), and the same
  programs are built.
- Run: each ctest test alone (fixture set-ups first, once), with GCOV_PREFIX sending its .gcda
  files into a folder of its own; `gcov --json-format --stdout --relative-only` over them gives the
  lines of impl/src and impl/include it executed. A test that runs no program of ours (pure Python)
  covers nothing and is not run. A test that runs one of our programs but leaves no coverage data
  (it timed out or crashed) is "unmapped" and goes into every selection.
- Map: SCRATCH/<commit>/coverage-map.json.gz: {"commit", "tests": [names], "seconds": [per test],
  "unmapped": [indices], "sets": [[test indices], ...], "files": {file: {line: set index}}}.
  Every instrumented line has an entry (set 0 is the empty set: instrumented, executed by no test);
  a line gcc attributed no code to (a continuation line, a brace, a declaration) has none.
- Select (`select_tests`): the tests that executed the mutant's line; when gcc recorded nothing
  on that line (a multi-line statement attributes to one of its lines, -O0 still leaves some lines without code), the tests
  of the recorded lines within +-2. A mutant whose line (or neighbours) is recorded but executed by
  no test selects nothing: "survived (not covered)". A line with no record near it (a constant
  folded at compile time, a file not compiled into any program) keeps the graph selection. The
  result is always intersected with the graph selection (and --exclude-tests).
- Order (`order_by_cost`): cheapest first (ctest's CTestCostData.txt of the mutation build, else
  the coverage run's seconds), run in waves of --jobs tests, stopping after the first failing wave.
"""
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MAP_NAME = "coverage-map.json.gz"
FORMAT = 1
RADIUS = 2
ROOTS = ("impl/src/", "impl/include/")
PARTIAL_NAME = "coverage-runs.jsonl"  # one line per test run, so that a stopped build resumes


# --- the pure part ------------------------------------------------------------------------------

def compact(commit, tests, seconds, executed, instrumented, unmapped):
    """The map (a JSON-able dict). `executed`: [set of (file, line)] per test (index as in `tests`);
    `instrumented`: {(file, line)} every line gcc recorded; `unmapped`: indices without data."""
    by_line = {}
    for index, lines in enumerate(executed):
        for key in lines:
            by_line.setdefault(key, []).append(index)
    sets, set_ids, files = [[]], {(): 0}, {}
    for file, line in sorted(set(instrumented) | set(by_line)):
        members = tuple(by_line.get((file, line), ()))
        if members not in set_ids:
            set_ids[members] = len(sets)
            sets.append(list(members))
        files.setdefault(file, {})[str(line)] = set_ids[members]
    return {"format": FORMAT, "commit": commit, "tests": list(tests), "seconds": list(seconds),
            "unmapped": sorted(unmapped), "sets": sets, "files": files}


class CoverageMap:
    def __init__(self, data):
        if data.get("format") != FORMAT:
            raise ValueError(f"coverage map format {data.get('format')}, expected {FORMAT}")
        self.data = data
        self.commit = data["commit"]
        self.tests = data["tests"]
        self.sets = [frozenset(self.tests[i] for i in s) for s in data["sets"]]
        self.files = {f: {int(line): s for line, s in lines.items()} for f, lines in data["files"].items()}
        self.unmapped = frozenset(self.tests[i] for i in data.get("unmapped", []))
        self.seconds = {n: s for n, s in zip(self.tests, data.get("seconds", [])) if s is not None}

    def lines_for(self, file, line, radius=RADIUS):
        """(tests that executed `line` of `file`, how): how is "exact" (gcc recorded the line),
        "nearby" (it did not, but recorded lines within +-radius), or "no-record"."""
        lines = self.files.get(file, {})
        if line in lines:
            return set(self.sets[lines[line]]), "exact"
        near = [lines[n] for n in range(line - radius, line + radius + 1) if n in lines]
        if near:
            return set().union(*[self.sets[s] for s in near]), "nearby"
        return set(), "no-record"


def select_tests(cov, file, line, graph_names):
    """(names, how) of the tests a mutant at file:line should run, a subset of `graph_names` (the
    graph selection, --exclude-tests applied), in graph order. how: "coverage" (the line or its
    neighbours were executed by these tests), "not-covered" (recorded, executed by no selected
    test: nothing to run), "graph" (no coverage record: the graph selection is kept)."""
    covered, how = cov.lines_for(file, line)
    if how == "no-record":
        return list(graph_names), "graph"
    wanted = covered | cov.unmapped
    names = [n for n in graph_names if n in wanted]
    return names, ("coverage" if names else "not-covered")


def parse_cost_data(text):
    """{test name: average seconds} from ctest's Testing/Temporary/CTestCostData.txt."""
    costs = {}
    for row in text.splitlines():
        if row.strip() == "---":
            break
        parts = row.split()
        if len(parts) == 3:
            try:
                costs[parts[0]] = float(parts[2])
            except ValueError:
                pass
    return costs


def order_by_cost(names, costs, fallback=None):
    """`names` cheapest first: ctest's costs, else `fallback` (the coverage run's seconds), and
    tests known to neither last (in their given order)."""
    fallback = fallback or {}

    def key(item):
        position, name = item
        if name in costs:
            return (0, costs[name], position)
        if name in fallback:
            return (1, fallback[name], position)
        return (2, 0.0, position)
    return [name for _, name in sorted(enumerate(names), key=key)]


def waves(names, size):
    """`names` in consecutive groups of `size` (one ctest run each)."""
    return [names[i:i + size] for i in range(0, len(names), size)]


def lines_of_gcov_json(doc, tree):
    """(executed, instrumented) sets of (file, line) under impl/src and impl/include from one
    document of `gcov --json-format --stdout` (paths relative to the exported `tree`)."""
    executed, instrumented = set(), set()
    cwd = doc.get("current_working_directory", "")
    for entry in doc.get("files", []):
        path = entry["file"]
        path = os.path.normpath(os.path.join(cwd, path) if not os.path.isabs(path) and not
                                path.startswith(ROOTS) else path)
        if os.path.isabs(path):
            path = os.path.relpath(path, tree)
        if not path.startswith(ROOTS):
            continue
        for row in entry.get("lines", []):
            key = (path, row["line_number"])
            instrumented.add(key)
            if row.get("count", 0) > 0:
                executed.add(key)
    return executed, instrumented


def load(path):
    """The CoverageMap at `path`, or None when there is none."""
    if not path.exists():
        return None
    with gzip.open(path, "rt") as f:
        return CoverageMap(json.load(f))


def save(path, data):
    partial = path.with_name(path.name + ".partial")
    with gzip.open(partial, "wt") as f:
        json.dump(data, f, separators=(",", ":"))
    partial.rename(path)


# --- building it --------------------------------------------------------------------------------

def gcov_lines(files, tree, build, cache=None):
    """(executed, instrumented) over `files` (.gcda with their .gcno beside them, or .gcno alone).
    `cache`: {(object, digest of its .gcda): executed lines}; a .gcda whose bytes were read before
    (all counts zero, most often: the library objects a test never enters) is not read again, and
    its instrumented lines are not returned."""
    executed, instrumented = set(), set()
    todo, keys = [], {}
    for path in files:
        if cache is not None and path.suffix == ".gcda":
            key = (os.readlink(path.with_suffix(".gcno")), hashlib.sha1(path.read_bytes()).hexdigest())
            if key in cache:
                executed |= cache[key]
                continue
            keys[str(path)] = key
        todo.append(path)
    for start in range(0, len(todo), 200):
        shown = subprocess.run(["gcov", "--json-format", "--stdout", "--relative-only", "--source-prefix",
                                str(tree), *map(str, todo[start:start + 200])],
                               capture_output=True, text=True, cwd=build)
        for row in shown.stdout.splitlines():
            if row.startswith("{"):
                doc = json.loads(row)
                e, i = lines_of_gcov_json(doc, str(tree))
                executed |= e
                instrumented |= i
                if doc.get("data_file") in keys:
                    cache[keys[doc["data_file"]]] = frozenset(e)
    return executed, instrumented


def build_map(commit, scratch, args, say=print):
    """Configures and builds SCRATCH/<commit>/build/coverage, runs each test alone, writes the map;
    returns its path. A stopped build resumes: each test's lines are kept in coverage-runs.jsonl."""
    import mutation_check as mc
    import selection
    tree, logs = scratch.tree, scratch.logs
    build = tree / "build" / "coverage"
    started = time.monotonic()
    if not (build / "build.ninja").exists():
        command = ["cmake", "-S", str(tree), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                   f"-DSEQPACK_PYTHON={args.python}", "-DSEQPACK_CUDA=OFF", "-DSEQPACK_BUILD_BENCHMARKS=OFF",
                   "-DSEQPACK_BUILD_TESTS=ON", "-DCMAKE_CXX_FLAGS_RELEASE=-O0 -DNDEBUG",
                   "-DCMAKE_CXX_FLAGS=--coverage", "-DCMAKE_EXE_LINKER_FLAGS=--coverage",
                   "-DCMAKE_SHARED_LINKER_FLAGS=--coverage"]
        status, _ = mc.run_logged(command, logs / "coverage.configure.log", 600, env=scratch.env)
        if status != 0:
            raise mc.SetupError(f"configuring the coverage build failed; see {logs / 'coverage.configure.log'}")
    exes = selection.linking_programs(str(build))
    programs = sorted(os.path.relpath(e, build) for e in exes)
    say(f"mutation_check: coverage map: building {len(programs)} programs with --coverage in {build} "
        "(ccache misses: the first build takes long)")
    command = scratch.locked(["cmake", "--build", str(build), "--target", *programs, "-j", str(args.jobs)])
    status, build_s = mc.run_logged(command, logs / "coverage.build.log", 4 * args.build_timeout, env=scratch.env)
    if status != 0:
        raise mc.SetupError(f"the coverage build failed; see {logs / 'coverage.build.log'}")
    shown = json.loads(subprocess.run(["ctest", "--test-dir", str(build), "--show-only=json-v1"], capture_output=True,
                                      text=True, check=True).stdout)
    tests = [t["name"] for t in shown["tests"]]
    ours = set(selection.tests_running(shown, set(exes)))
    setups = [t["name"] for t in shown["tests"]
              if any(p.get("name") == "FIXTURES_SETUP" for p in t.get("properties", []))]
    runs_path = logs / PARTIAL_NAME
    done = {}
    if runs_path.exists():
        for row in runs_path.read_text().splitlines():
            try:
                record = json.loads(row)
            except json.JSONDecodeError:
                continue
            if record.get("commit") == commit:
                done[record["test"]] = record
    # fixture set-ups first, each once; the others then run with --fixture-exclude-setup
    order = [n for n in setups if n not in done] + [n for n in tests if n in ours and n not in setups and n not in done]
    say(f"mutation_check: coverage map: built in {build_s:.0f} s; {len(ours)} of {len(tests)} tests run our "
        f"programs; {len(done)} already measured, {len(order)} to run, {args.jobs} at a time")
    work = Path(tempfile.mkdtemp(prefix="gcda-", dir=tree))
    lock = threading.Lock()
    stopping, running = threading.Event(), {}
    cache = {}  # gcov's lines by (object, .gcda digest), shared by the tests
    numbers = {n: i for i, n in enumerate(tests, 1)}

    def measure(name):
        prefix = work / str(numbers[name])
        env = dict(scratch.env, GCOV_PREFIX=str(prefix), GCOV_PREFIX_STRIP="0")
        # -O0 and the counters make tests slower than in the mutation build: 3 x --test-timeout
        command = ["ctest", "--test-dir", str(build), "-I", f"{numbers[name]},{numbers[name]}",
                   "--timeout", str(3 * args.test_timeout), "--output-on-failure"]
        if name not in setups:
            command += ["--fixture-exclude-setup", ".*"]
        if stopping.is_set():
            return set()
        begun = time.monotonic()
        with open(logs / f"coverage-test-{numbers[name]}.log", "w") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)
            with lock:
                running[name] = process
            try:
                status = process.wait(timeout=3 * args.test_timeout + 60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                status = None
            finally:
                with lock:
                    running.pop(name, None)
        seconds = time.monotonic() - begun
        if stopping.is_set():  # killed by an interrupt: measured again on the next run
            shutil.rmtree(prefix, ignore_errors=True)
            return set()
        gcdas = sorted(prefix.rglob("*.gcda")) if prefix.exists() else []
        for gcda in gcdas:
            gcno = Path("/" + str(gcda.relative_to(prefix))).with_suffix(".gcno")
            if gcno.exists():
                gcda.with_suffix(".gcno").symlink_to(gcno)
        gcdas = [g for g in gcdas if g.with_suffix(".gcno").is_symlink()]
        executed, instrumented = gcov_lines(gcdas, tree, build, cache) if gcdas else (set(), set())
        shutil.rmtree(prefix, ignore_errors=True)
        record = {"commit": commit, "test": name, "status": status, "seconds": round(seconds, 2),
                  "gcda": len(gcdas), "executed": sorted(map(list, executed))}
        with lock:
            with open(runs_path, "a") as out:
                out.write(json.dumps(record) + "\n")
            done[name] = record
            say(f"  [{len(done)}/{len(ours) + len(setups)}] {name}: status {status}, {seconds:.1f} s, "
                f"{len(gcdas)} .gcda, {len(executed)} lines")
        return instrumented

    run_started = time.monotonic()
    interrupted = None
    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            try:
                for name in [n for n in order if n in setups]:  # before any test that needs them
                    measure(name)
                list(pool.map(measure, [n for n in order if n not in setups]))
            except KeyboardInterrupt as error:
                # stop: queued tests return at once, running ones are killed; what is measured is kept
                interrupted = error
                stopping.set()
                with lock:
                    for process in running.values():
                        try:
                            os.killpg(process.pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run_s = time.monotonic() - run_started
    if interrupted:
        say(f"mutation_check: coverage map: interrupted after {len(done)} tests; writing a partial map "
            "(the tests not measured are selected for every mutant); rerun --coverage-map to finish it")
    # every instrumented line, from the notes files alone (no data: all counts 0)
    instrumented = gcov_lines(sorted(build.rglob("*.gcno")), tree, build)[1]
    executed = [set(map(tuple, done[n]["executed"])) if n in done else set() for n in tests]
    # no data (never run, crashed, killed) or cut short by the timeout: selected for every mutant
    unmapped = [i for i, n in enumerate(tests) if n in ours and (n not in done or done[n]["gcda"] == 0
                                                                 or done[n]["status"] is None)]
    seconds = [done[n]["seconds"] if n in done else None for n in tests]
    data = compact(commit, tests, seconds, executed, instrumented, unmapped)
    data["complete"] = not interrupted and all(n in done for n in ours)
    data["built"] = {"build_s": round(build_s, 1), "run_s": round(run_s, 1),
                     "total_s": round(time.monotonic() - started, 1), "flags": "--coverage -O0 -DNDEBUG",
                     "failed": sorted(n for n in done if done[n]["status"] != 0)}
    path = tree / MAP_NAME
    save(path, data)
    say(f"mutation_check: coverage map {path}: {sum(len(v) for v in data['files'].values())} lines of "
        f"{len(data['files'])} files, {len(unmapped)} unmapped tests, {path.stat().st_size // 1024} KiB "
        f"(build {build_s / 60:.1f} min, tests {run_s / 60:.1f} min)")
    if interrupted:
        raise interrupted
    return path


if __name__ == "__main__":
    sys.exit("coverage_map.py is a module of mutation_check.py: use --generated --coverage-map")
