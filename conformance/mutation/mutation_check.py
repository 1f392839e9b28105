#!/usr/bin/env python3
"""Mutation check: how many small faults in impl/ do seqpack's tests notice?

Usage: mutation_check.py [--commit REV] [--only ID ...] [--list] [--keep-going] [--jobs N]
                         [--faults FILE] [--scratch DIR] [--out DIR] [--python PATH] [--lock FILE]
                         [--test-timeout S] [--build-timeout S]
       mutation_check.py --generated (--list | --sample N [--seed S]) [--exclude-tests REGEX]
                         [--coverage-map | --no-coverage-map] [...]
         (generated mutants: see generated_run.py, coverage_map.py and README.md)

Each fault of conformance/mutation/faults.json (one small edit: `find` replaced by `replace` in one
file under impl/src or impl/include) is applied alone to an exported copy of the commit, the test
programs are rebuilt, and the ctest tests its `tests` regex names are run. Outcomes:
  killed     a test failed (the faults the suite notices);
  timeout    a test or the test run ran past its limit: counted as killed, and reported as such;
  survived   every test passed: the suite misses this fault, or the fault changes nothing;
  stillborn  the mutated tree does not compile: reported apart, not in the score.
Score = (killed + timeout) / (killed + timeout + survived).

The user's working tree is never touched: `git archive COMMIT` is extracted once into
SCRATCH/<commit>/ (default /tmp/seqpack-mutation/<commit>), configured there once (Release, Ninja,
no benchmarks, no CUDA) and built once; then every fault edits, rebuilds every program that links
the library (found in the ninja graph: the unit tests, the conformance runners, the CLI, the fuzz
replays; ccache makes the restored file's rebuild cheap) and restores its file from the commit. The conformance runner reads the exported tree's conformance/cases, so the
goldens are the committed ones. Before the faults, the unmutated tree must pass every test the
faults name (a fault cannot be judged against a failing baseline).

Writes OUT/<date>-<short commit>.json and .md (default reports/mutation/; a run with --only or a
--faults file other than the default adds "-subset" to the name). Prints one line per fault.
--keep-going runs all of a fault's tests instead of stopping at the first failure, so that the
report names every test that notices it. --lock FILE runs each build and test run under flock(1)
on FILE, to take turns with other builds on a shared machine. Exit status: 0 when the run
completed, 1 on a failed set-up or baseline, 2 for bad arguments or a fault that does not apply.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FAULTS = REPO / "conformance" / "mutation" / "faults.json"
MUTABLE_ROOTS = ("impl/src/", "impl/include/")
FAULT_KEYS = ("id", "file", "find", "replace", "class", "breaks", "tests")
EXPORT_MARKER = ".seqpack-mutation-export"
# Names the runner or the tests read from the environment: a caller's value would change what runs.
ENVIRONMENT_OVERRIDES = ("SEQPACK_CASES_DIR", "SEQPACK_CASE_FAMILY", "SEQPACK_EXTRA_PARAMS")


class SetupError(Exception):
    """A step before the faults failed; the message says which and where its log is."""


def fail(message, status=2):
    print(f"mutation_check: {message}", file=sys.stderr)
    sys.exit(status)


# --- the faults --------------------------------------------------------------------------------

def load_faults(path):
    """The faults of `path`, each with `regex` (its tests, groups expanded); exits on any problem."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        fail(f"cannot read the faults file {path}: {error}")
    groups = data.get("test_groups", {})
    faults = data.get("faults")
    if not isinstance(faults, list) or not faults:
        fail(f"{path}: \"faults\" must be a non-empty list")
    problems, seen = [], set()
    for index, fault in enumerate(faults):
        where = f"faults[{index}] ({fault.get('id', '?')})"
        missing = [key for key in FAULT_KEYS if not isinstance(fault.get(key), (str, list))]
        if missing:
            problems.append(f"{where}: missing or mistyped {', '.join(missing)}")
            continue
        unknown = sorted(set(fault) - set(FAULT_KEYS))
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        if not re.fullmatch(r"[a-z0-9_]+", fault["id"]):
            problems.append(f"{where}: id must be lower-case letters, digits and _")
        if fault["id"] in seen:
            problems.append(f"{where}: id used twice")
        seen.add(fault["id"])
        file = fault["file"]
        if not file.startswith(MUTABLE_ROOTS) or ".." in Path(file).parts:
            problems.append(f"{where}: file must be under {' or '.join(MUTABLE_ROOTS)} (got {file})")
        if not fault["find"]:
            problems.append(f"{where}: find must not be empty")
        if fault["find"] == fault["replace"]:
            problems.append(f"{where}: replace equals find (no fault)")
        for key in ("class", "breaks"):
            if not isinstance(fault[key], str) or not fault[key].strip():
                problems.append(f"{where}: {key} must be a non-empty string")
        tests = fault["tests"] if isinstance(fault["tests"], list) else [fault["tests"]]
        alternatives = []
        for test in tests:
            if not isinstance(test, str) or not test:
                problems.append(f"{where}: tests must be non-empty strings")
            elif test.startswith("@"):
                if test[1:] not in groups:
                    problems.append(f"{where}: unknown test group {test}")
                else:
                    alternatives.append(groups[test[1:]])
            else:
                alternatives.append(test)
        fault["regex"] = "|".join(alternatives)
        # ctest's regular expressions (CMake's) hold at most 9 groups; beyond, nothing matches.
        groups_used = len(re.findall(r"(?<!\\)\(", fault["regex"]))
        if groups_used > 9:
            problems.append(f"{where}: its tests regex has {groups_used} groups; ctest takes at most 9")
    if problems:
        fail(f"{path} has problems:\n  " + "\n  ".join(problems))
    return faults


def original_texts(commit, faults):
    """{file: bytes at commit} for every file the faults edit."""
    texts = {}
    for file in sorted({fault["file"] for fault in faults}):
        shown = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{file}"], capture_output=True)
        if shown.returncode != 0:
            fail(f"{file} is not in commit {commit[:12]} ({shown.stderr.decode().strip()})")
        texts[file] = shown.stdout
    return texts


def check_faults_apply(faults, texts):
    """Every `find` occurs exactly once in its file at the commit; exits naming each that does not."""
    problems = []
    for fault in faults:
        count = texts[fault["file"]].decode().count(fault["find"])
        if count != 1:
            problems.append(f"{fault['id']}: its find text occurs {count} times in {fault['file']} (must be once)")
    if problems:
        fail("faults that do not apply to this commit:\n  " + "\n  ".join(problems))


# --- the scratch tree ---------------------------------------------------------------------------

def run_logged(command, log, timeout, cwd=None, env=None):
    """Runs `command` with its output in `log`; returns (exit status or None on timeout, seconds)."""
    start = time.monotonic()
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                   start_new_session=True)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the whole group: ninja's or ctest's children too
            process.wait()
            status = None
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    return status, time.monotonic() - start


def export_tree(commit, tree):
    """Extracts `git archive commit` into `tree` once (a finished export carries a marker)."""
    if (tree / EXPORT_MARKER).exists():
        return False
    partial = tree.with_name(tree.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(tree, ignore_errors=True)
    partial.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", commit], stdout=subprocess.PIPE)
    extract = subprocess.run(["tar", "-x", "-C", str(partial)], stdin=archive.stdout)
    archive.stdout.close()
    if archive.wait() != 0 or extract.returncode != 0:
        raise SetupError(f"exporting {commit[:12]} into {partial} failed")
    (partial / EXPORT_MARKER).write_text(commit + "\n")
    partial.rename(tree)
    return True


def restore(tree, texts, files=None):
    """Writes back each file whose content differs from the commit's (unchanged files keep their mtime)."""
    for file in files or texts:
        path = tree / file
        if not path.exists() or path.read_bytes() != texts[file]:
            path.write_bytes(texts[file])


class Scratch:
    """The exported tree, its build folder and its logs, and the commands run in them."""

    def __init__(self, tree, args):
        self.tree = tree
        self.build = tree / "build" / "mutation"
        self.logs = tree / "mutation-logs"
        self.args = args
        self.env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_OVERRIDES}

    def locked(self, command):
        return ["flock", self.args.lock, *command] if self.args.lock else command

    def configure(self):
        if (self.build / "build.ninja").exists():
            return
        command = ["cmake", "-S", str(self.tree), "-B", str(self.build), "-G", "Ninja",
                   "-DCMAKE_BUILD_TYPE=Release", f"-DSEQPACK_PYTHON={self.args.python}",
                   "-DSEQPACK_CUDA=OFF", "-DSEQPACK_BUILD_BENCHMARKS=OFF", "-DSEQPACK_BUILD_TESTS=ON"]
        status, _ = run_logged(command, self.logs / "configure.log", 600, env=self.env)
        if status != 0:
            raise SetupError(f"configuring the scratch build failed; see {self.logs / 'configure.log'}")

    def programs(self):
        """Every program that links the library, from the build graph (the fuzz replays too): a
        fault in the library reaches each of them, and each is run by some test."""
        if not getattr(self, "_programs", None):
            import selection
            self._programs = sorted(os.path.relpath(exe, self.build)
                                    for exe in selection.linking_programs(self.build))
        return self._programs

    def build_targets(self, log, timeout):
        """(True if it built, seconds); None for True when it ran past `timeout`."""
        command = self.locked(["cmake", "--build", str(self.build), "--target", *self.programs(),
                               "-j", str(self.args.jobs)])
        status, seconds = run_logged(command, log, timeout, env=self.env)
        return (None if status is None else status == 0), seconds

    def test_numbers(self, regex):
        """The ctest numbers of the tests `regex` matches."""
        listed = subprocess.run(["ctest", "--test-dir", str(self.build), "-N", "-R", regex],
                                capture_output=True, text=True, env=self.env)
        if "RegularExpression::compile()" in listed.stdout + listed.stderr:
            raise SetupError(f"ctest cannot compile the regex {regex}")
        return {int(n) for n in re.findall(r"^\s*Test\s+#(\d+):", listed.stdout, re.MULTILINE)}

    def run_tests(self, selection, log, stop_on_failure, timeout):
        """Runs the tests `selection` names (ctest arguments: -R REGEX or -I LIST); returns
        (status or None on timeout, seconds, failed [(test, why)], how many ran)."""
        shutil.rmtree(self.build / "conformance-results", ignore_errors=True)
        command = ["ctest", "--test-dir", str(self.build), *selection, "-j", str(self.args.jobs),
                   "--timeout", str(self.args.test_timeout), "--no-tests=error", "--output-on-failure"]
        if stop_on_failure:
            command.append("--stop-on-failure")
        status, seconds = run_logged(self.locked(command), log, timeout, env=self.env)
        text = log.read_text(errors="replace")
        failed = re.findall(r"^\s*\d+ - (\S+) \(([^)]*)\)\s*$", text.split("The following tests FAILED:")[-1],
                            re.MULTILINE) if "The following tests FAILED:" in text else []
        ran = re.search(r"tests passed, \d+ tests? failed out of (\d+)", text)
        return status, seconds, failed, int(ran.group(1)) if ran else 0

    def failing_cases(self, test, limit=6):
        """The golden cases a failed conformance test reported (its GoogleTest XML), up to `limit`."""
        if not test.startswith("conformance."):
            return []
        xml = self.build / "conformance-results" / (test[len("conformance."):] + ".xml")
        try:
            root = ET.parse(xml).getroot()
        except (OSError, ET.ParseError):
            return []
        names = [case.get("name", "?").split("/")[-1] for case in root.iter("testcase")
                 if case.find("failure") is not None]
        return names[:limit] + ([f"... {len(names) - limit} more"] if len(names) > limit else [])


# --- one fault ----------------------------------------------------------------------------------

def first_error(log):
    for line in log.read_text(errors="replace").splitlines():
        if "error:" in line:
            return line.strip()[:300]
    return None


def judge(fault, scratch, texts):
    """Applies, builds, tests and restores one fault; returns its record."""
    path = scratch.tree / fault["file"]
    original = texts[fault["file"]]
    record = {key: fault[key] for key in ("id", "class", "file", "breaks")}
    record.update(tests=fault["regex"], killed_by=[], error=None)
    start = time.monotonic()
    try:
        path.write_bytes(original.decode().replace(fault["find"], fault["replace"], 1).encode())
        built, record["build_s"] = scratch.build_targets(scratch.logs / f"{fault['id']}.build.log",
                                                         scratch.args.build_timeout)
        if not built:
            record["outcome"] = "stillborn"
            record["error"] = ("the build ran past --build-timeout" if built is None
                               else first_error(scratch.logs / f"{fault['id']}.build.log"))
            record["test_s"] = 0.0
        else:
            status, record["test_s"], failed, ran = scratch.run_tests(
                ["-R", fault["regex"]], scratch.logs / f"{fault['id']}.test.log", not scratch.args.keep_going,
                scratch.args.run_timeout)
            record["tests_run"] = ran
            record["killed_by"] = [{"test": test, "status": why, "cases": scratch.failing_cases(test)}
                                   for test, why in failed]
            if status is None or any(why == "Timeout" for _, why in failed):
                record["outcome"] = "timeout"
            elif status == 0:
                record["outcome"] = "survived"
            elif failed:
                record["outcome"] = "killed"
            else:  # ctest failed without naming a test (no tests matched, or it could not start)
                record["outcome"] = "stillborn"
                record["error"] = f"ctest exited {status} without a failed test; see {fault['id']}.test.log"
    finally:
        path.write_bytes(original)
    record["seconds"] = round(time.monotonic() - start, 1)
    record["build_s"] = round(record.get("build_s", 0.0), 1)
    record["test_s"] = round(record.get("test_s", 0.0), 1)
    return record


def describe(record):
    if record["outcome"] in ("killed", "timeout"):
        tests = [k["test"] + ("" if k["status"] == "Failed" else f" ({k['status']})") for k in record["killed_by"]]
        return "by " + ", ".join(tests) if tests else "(the test run timed out)"
    if record["outcome"] == "survived":
        if record.get("error"):  # nothing ran: no test reaches the file, or none executes the line
            return record["error"]
        ran = record.get("tests_run", 0)
        return f"{ran} test{'' if ran == 1 else 's'} passed"
    return record["error"] or ""


# --- reports ------------------------------------------------------------------------------------

def score_of(records):
    counts = {outcome: sum(r["outcome"] == outcome for r in records)
              for outcome in ("killed", "timeout", "survived", "stillborn")}
    judged = counts["killed"] + counts["timeout"] + counts["survived"]
    counts["score"] = round((counts["killed"] + counts["timeout"]) / judged, 4) if judged else None
    return counts


def markdown(report):
    s = report["score"]
    percent = "n/a" if s["score"] is None else f"{100 * s['score']:.1f}%"
    t = report["timings"]
    lines = [
        f"# Mutation check of {report['short']} ({report['date']})",
        "",
        f"Score: **{percent}** of the faults that compiled were noticed "
        f"({s['killed']} killed, {s['timeout']} by a timeout, {s['survived']} survived; "
        f"{s['stillborn']} stillborn, left out of the score).",
        "",
        f"- Commit: `{report['commit']}`; faults: `{report['faults_file']}` ({len(report['faults'])} run).",
        f"- Command: `{report['command']}`",
        f"- Machine: {report['machine']['cpus']} CPUs, {report['machine']['platform']}; --jobs {report['jobs']}.",
        f"- Time: {t['total_s'] / 60:.1f} min in all: set-up (export, configure, first build) {t['setup_s'] / 60:.1f} min, "
        f"baseline tests {t['baseline_s'] / 60:.1f} min, faults {t['faults_s'] / 60:.1f} min "
        f"(median {t['median_fault_s']:.0f} s a fault)"
        + (f"; these include the waits for the build lock `{report['lock']}`." if report.get("lock") else "."),
        "- Outcomes: killed = a test failed; timeout = a test ran past its limit (counted as killed); "
        "survived = every test of the fault's regex passed; stillborn = did not compile.",
        "",
    ]
    survivors = [r for r in report["faults"] if r["outcome"] == "survived"]
    lines += ["## Survivors", ""]
    if not survivors:
        lines += ["None.", ""]
    for r in survivors:
        lines += [f"- `{r['id']}` ({r['class']}, `{r['file']}`): {r['breaks']} Tests run: `{r['tests']}`."]
    stillborn = [r for r in report["faults"] if r["outcome"] == "stillborn"]
    if stillborn:
        lines += ["", "## Stillborn (not in the score)", ""]
        lines += [f"- `{r['id']}` (`{r['file']}`): {r['error']}" for r in stillborn]
    lines += ["", "## Every fault", "", "| fault | class | file | outcome | noticed by | s |", "|---|---|---|---|---|---|"]
    for r in report["faults"]:
        noticed = "; ".join(
            k["test"] + (f" ({k['status']})" if k["status"] != "Failed" else "")
            + (f": {', '.join(k['cases'][:3])}" if k["cases"] else "") for k in r["killed_by"])
        lines.append(f"| `{r['id']}` | {r['class']} | `{r['file'].removeprefix('impl/')}` | {r['outcome']} | "
                     f"{noticed.replace('|', '/')} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def shown_path(path):
    """`path` relative to the repository when it is inside it, else absolute."""
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def write_report(report, out_dir, name):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / f"{name}.md").write_text(markdown(report))
    return out_dir / f"{name}.md"


# --- the run ------------------------------------------------------------------------------------

def interrupt(signum, frame):
    raise KeyboardInterrupt


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commit", default="HEAD", help="the commit to export and mutate (default HEAD)")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these faults")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    parser.add_argument("--keep-going", action="store_true",
                        help="run all of a fault's tests instead of stopping at the first failure")
    parser.add_argument("--jobs", type=int, default=2, help="build and ctest parallelism (default 2)")
    parser.add_argument("--faults", type=Path, default=DEFAULT_FAULTS, help="the faults file (JSON)")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/seqpack-mutation"),
                        help="where the commit is exported, as SCRATCH/<commit> (default /tmp/seqpack-mutation)")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "mutation", help="the report folder")
    parser.add_argument("--python", default=sys.executable, help="the venv's python, for SEQPACK_PYTHON")
    parser.add_argument("--lock", help="run every build and test run under flock(1) on this file")
    parser.add_argument("--test-timeout", type=int, default=300, help="seconds per ctest test (default 300)")
    parser.add_argument("--run-timeout", type=int, default=1800, help="seconds per fault's test run (default 1800)")
    parser.add_argument("--build-timeout", type=int, default=1800, help="seconds per fault's build (default 1800)")
    generated = parser.add_argument_group("generated mutants (generated_run.py)")
    generated.add_argument("--generated", action="store_true",
                           help="run a seeded sample of universalmutator's mutants instead of faults.json")
    generated.add_argument("--sample", type=int, metavar="N", help="how many mutants to draw")
    generated.add_argument("--seed", type=int, default=1, help="the sample's seed (default 1)")
    generated.add_argument("--samples", type=Path, default=REPO / "conformance" / "mutation" / "samples",
                           help="where the sample file is written (default conformance/mutation/samples)")
    generated.add_argument("--classifications", type=Path,
                           default=REPO / "conformance" / "mutation" / "classifications.json",
                           help="survivors' classifications, by mutant id")
    generated.add_argument("--exclude-tests", metavar="REGEX",
                           help="leave the tests whose name matches REGEX out of every mutant's selection")
    generated.add_argument("--coverage-map", action="store_true",
                           help="build (or refresh) the commit's per-test line coverage map (coverage_map.py) first; "
                                "alone, build it and exit. A map present is used without this option")
    generated.add_argument("--until-scored", type=int, metavar="N",
                           help="stop once N mutants that compiled are judged (mutants are judged in a seeded random "
                                "order, so those judged are a uniform sample); the report counts the judged ones")
    generated.add_argument("--report-only", action="store_true",
                           help="write the report from the state file as it stands (a run in progress, or "
                                "stopped), building and running nothing")
    generated.add_argument("--no-coverage-map", action="store_true",
                           help="select tests by the build graph alone, even when a coverage map exists")
    args = parser.parse_args()
    if args.generated and args.sample is not None and args.sample < 1:
        fail(f"--sample must be at least 1 (got {args.sample})")
    if args.until_scored is not None and args.until_scored < 1:
        fail(f"--until-scored must be at least 1 (got {args.until_scored})")
    if args.jobs < 1:
        fail(f"--jobs must be at least 1 (got {args.jobs})")
    if min(args.test_timeout, args.run_timeout, args.build_timeout) < 1:
        fail("the timeouts must be at least 1 second")
    return args


def main():
    args = parse_args()
    if args.generated or args.coverage_map:
        import generated_run
        return generated_run.run(args)
    faults = load_faults(args.faults)
    if args.only:
        known = {fault["id"] for fault in faults}
        unknown = [i for i in args.only if i not in known]
        if unknown:
            fail(f"--only: no fault named {', '.join(unknown)} in {args.faults}")
        faults = [fault for fault in faults if fault["id"] in set(args.only)]
    if args.list:
        for fault in faults:
            print(f"{fault['id']:<44} {fault['class']:<20} {fault['file']}\n    {fault['breaks']}")
        print(f"{len(faults)} faults")
        return 0

    resolved = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{args.commit}^{{commit}}"],
                              capture_output=True, text=True)
    if resolved.returncode != 0:
        fail(f"--commit: {args.commit} is not a commit of {REPO}")
    commit = resolved.stdout.strip()
    short = commit[:8]
    texts = original_texts(commit, faults)
    check_faults_apply(faults, texts)
    subset = bool(args.only) or args.faults.resolve() != DEFAULT_FAULTS
    today = datetime.date.today().isoformat()  # the day the run started, in the name and the report
    name = f"{today}-{short}" + ("-subset" if subset else "")
    # SIGTERM (a killed nohup run) unwinds like Ctrl-C, so that the mutated file is restored.
    signal.signal(signal.SIGTERM, interrupt)

    started = time.monotonic()
    tree = args.scratch / commit
    scratch = Scratch(tree, args)
    try:
        print(f"mutation_check: {len(faults)} faults on {short}; scratch tree {tree}", flush=True)
        if export_tree(commit, tree):
            print("mutation_check: exported the commit", flush=True)
        scratch.logs.mkdir(exist_ok=True)
        restore(tree, texts)  # an earlier run stopped mid-fault leaves nothing behind
        scratch.configure()
        print("mutation_check: building the test programs (the first build of a scratch tree takes long)", flush=True)
        built, seconds = scratch.build_targets(scratch.logs / "baseline.build.log", 4 * args.build_timeout)
        if not built:
            raise SetupError(f"the unmutated tree does not build; see {scratch.logs / 'baseline.build.log'}")
        print(f"mutation_check: built in {seconds:.0f} s", flush=True)
        named = {regex: scratch.test_numbers(regex) for regex in {fault["regex"] for fault in faults}}
        empty = [fault["id"] for fault in faults if not named[fault["regex"]]]
        if empty:
            fail("these faults' tests regex matches no test: " + ", ".join(empty))
        setup_s = time.monotonic() - started

        # By number: one regex for all would pass ctest's limit of 9 groups.
        union = sorted(set().union(*named.values()))
        print(f"mutation_check: baseline: the {len(union)} tests the faults name, unmutated", flush=True)
        status, baseline_s, failed, _ = scratch.run_tests(["-I", "0,0,0," + ",".join(map(str, union))],
                                                          scratch.logs / "baseline.test.log", False,
                                                          4 * args.run_timeout)
        if status != 0:
            raise SetupError("the unmutated tree fails " + (", ".join(t for t, _ in failed) or "its test run")
                             + f"; see {scratch.logs / 'baseline.test.log'}")

        records = []
        faults_started = time.monotonic()
        for number, fault in enumerate(faults, 1):
            record = judge(fault, scratch, texts)
            records.append(record)
            print(f"[{number:>2}/{len(faults)}] {record['id']:<44} {record['outcome']:<9} {record['seconds']:>5.0f} s  "
                  f"{describe(record)}", flush=True)
            (scratch.logs / "results.partial.json").write_text(json.dumps(records, indent=1))
    except SetupError as error:
        fail(str(error), status=1)
    except KeyboardInterrupt:
        restore(tree, texts)
        fail("interrupted; the scratch tree is restored", status=130)

    durations = sorted(r["seconds"] for r in records)
    report = {
        "commit": commit,
        "short": short,
        "date": today,
        "command": " ".join(["conformance/mutation/mutation_check.py", *sys.argv[1:]]),
        "faults_file": shown_path(args.faults),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "jobs": args.jobs,
        "lock": args.lock,
        "keep_going": args.keep_going,
        "timings": {"setup_s": round(setup_s, 1), "baseline_s": round(baseline_s, 1),
                    "faults_s": round(time.monotonic() - faults_started, 1),
                    "total_s": round(time.monotonic() - started, 1),
                    "median_fault_s": durations[len(durations) // 2] if durations else 0.0},
        "score": score_of(records),
        "faults": records,
    }
    path = write_report(report, args.out, name)
    s = report["score"]
    percent = "n/a" if s["score"] is None else f"{100 * s['score']:.1f}%"
    print(f"mutation_check: {s['killed']} killed, {s['timeout']} timeout, {s['survived']} survived, "
          f"{s['stillborn']} stillborn; score {percent}; report {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
