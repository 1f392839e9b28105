"""Which ctest tests can notice a change to one source file: build graph, then test commands.

A file feeds an executable when it is one of the executable's inputs (a .cpp, through ninja's
`-t inputs`) or a header that one of those inputs (an object, the precompiled header) was compiled
from (ninja's deps log, `-t deps`). A test can notice it when its command or its ENVIRONMENT names
an executable the file feeds (`ctest --show-only=json-v1`); ctest itself adds fixture set-ups.
"""
import json
import os
import subprocess


def normal(build, path):
    return os.path.normpath(os.path.join(build, path))


def parse_deps(text, build):
    """{object: {header, ...}} from `ninja -t deps` output (paths made absolute)."""
    deps, current = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace() and ": #deps" in line:
            current = deps.setdefault(normal(build, line.split(": #deps")[0]), set())
        elif line.strip() and current is not None and line[0].isspace():
            current.add(normal(build, line.strip()))
        elif not line.strip():
            current = None
    return deps


def executables_fed_by(path, exe_inputs, deps):
    """The executables whose build reads `path` (absolute), directly or through a header."""
    fed = set()
    for exe, inputs in exe_inputs.items():
        if path in inputs or any(path in deps.get(item, ()) for item in inputs):
            fed.add(exe)
    return fed


def tests_running(ctest_json, executables):
    """Names of the tests whose command or environment names one of `executables` (absolute)."""
    names = []
    for test in ctest_json.get("tests", []):
        words = list(test.get("command") or [])
        for prop in test.get("properties", []):
            if prop.get("name") == "ENVIRONMENT":
                words += [value.split("=", 1)[-1] for value in prop.get("value", [])]
        if any(os.path.normpath(word) in executables for word in words if os.path.isabs(word)):
            names.append(test["name"])
    return names


def linking_programs(build, library="impl/libseqpack.a"):
    """{executable: its inputs} (absolute paths) of every program whose link reads `library`: the
    unit tests, the conformance runners, the CLI and the fuzz replay programs alike."""
    def ninja(*args):
        return subprocess.run(["ninja", "-C", str(build), *args], capture_output=True, text=True,
                              check=True).stdout
    found = {}
    for line in ninja("-t", "targets", "all").splitlines():
        # the link edge also outputs gtest_discover_tests' <exe>[1]_tests.cmake: not a program
        if ": CXX_EXECUTABLE_LINKER__" not in line or line.split(":")[0].endswith(".cmake"):
            continue
        exe = line.split(":")[0]
        inputs = {normal(str(build), p) for p in ninja("-t", "inputs", exe).split()}
        if normal(str(build), library) in inputs:
            found[normal(str(build), exe)] = inputs
    return found


class BuildGraph:
    """The scratch build's graph, read once (after a build, so that the deps log is filled)."""

    def __init__(self, build):
        self.build = str(build)
        self.exe_inputs = linking_programs(self.build)
        self.deps = parse_deps(self._ninja("-t", "deps"), self.build)
        shown = subprocess.run(["ctest", "--test-dir", self.build, "--show-only=json-v1"],
                               capture_output=True, text=True, check=True)
        self.ctest = json.loads(shown.stdout)
        self.numbers = {t["name"]: i for i, t in enumerate(self.ctest.get("tests", []), 1)}

    def _ninja(self, *args):
        return subprocess.run(["ninja", "-C", self.build, *args], capture_output=True, text=True,
                              check=True).stdout

    def tests_for(self, path):
        """(executables, test names) a change to `path` (absolute) can reach."""
        exes = executables_fed_by(os.path.normpath(str(path)), self.exe_inputs, self.deps)
        return sorted(exes), tests_running(self.ctest, exes)
