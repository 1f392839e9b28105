"""The --generated mode of mutation_check.py: a seeded sample of universalmutator's mutants of
impl/src and impl/include, each applied alone to the scratch tree, rebuilt, and judged by the tests
that can reach its file (selection.py), narrowed to the tests that executed its line when the
commit has a coverage map (coverage_map.py). Outcomes as for the hand-written faults; the score comes
with an exact 95% interval, since a sample only estimates the score of all generated mutants.
"""
import collections
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import coverage_map
import generate
import interval
import mutation_check as mc
import resume
import sampling
import selection

SOURCE_SUFFIXES = (".cpp", ".h")


def sources_at(commit):
    """{file: text} of every .cpp and .h under impl/src and impl/include at `commit`."""
    listed = subprocess.run(["git", "-C", str(mc.REPO), "ls-tree", "-r", "--name-only", commit,
                             *[root.rstrip("/") for root in mc.MUTABLE_ROOTS]],
                            capture_output=True, text=True, check=True).stdout.split()
    files = [f for f in listed if f.endswith(SOURCE_SUFFIXES)]
    # bytes decoded by hand: text=True would turn CRLF into LF, and restore() would then rewrite files
    return {f: subprocess.run(["git", "-C", str(mc.REPO), "show", f"{commit}:{f}"], capture_output=True,
                              check=True).stdout.decode() for f in files}


def load_classifications(path):
    """{mutant id: "equivalent: why" | "gap: closed by ..."}; an absent file classifies nothing."""
    if not path.exists():
        return {}
    return json.loads(path.read_text()).get("mutants", {})


def run_cheapest_first(scratch, names, numbers, log, fallback=None):
    """Runs the tests `names` (ctest `numbers` by name) cheapest first (ctest's recorded costs,
    else `fallback` seconds), --jobs at a time, stopping after the first wave with a failure (all
    of them in one run with --keep-going); returns run_tests' (status, seconds, failed, ran)."""
    if scratch.args.keep_going:
        return scratch.run_tests(["-I", "0,0,0," + ",".join(str(numbers[n]) for n in names)], log, False,
                                 scratch.args.run_timeout)
    cost_file = scratch.build / "Testing" / "Temporary" / "CTestCostData.txt"
    costs = coverage_map.parse_cost_data(cost_file.read_text()) if cost_file.exists() else {}
    ordered = coverage_map.order_by_cost(names, costs, fallback)
    status, seconds, failed, ran = 0, 0.0, [], 0
    log.write_text("")
    wave_log = Path(f"{log}.wave")
    for wave in coverage_map.waves(ordered, scratch.args.jobs):
        left = scratch.args.run_timeout - seconds
        if left < 1:
            status = None
            break
        # a fixture set-up (compiled.export: Python only, no mutant changes it) runs once per run
        extra = ["--fixture-exclude-setup", ".*"] if getattr(scratch, "fixtures_ready", False) else []
        status, s, f, r = scratch.run_tests(["-I", "0,0,0," + ",".join(str(numbers[n]) for n in wave), *extra],
                                            wave_log, True, left)
        with open(log, "a") as out:
            out.write(f"=== wave {' '.join(wave)}\n" + wave_log.read_text(errors="replace"))
        seconds, failed, ran = seconds + s, failed + f, ran + r
        if status != 0:
            break
        if set(wave) & getattr(scratch, "fixture_users", set()):
            scratch.fixtures_ready = True
    wave_log.unlink(missing_ok=True)
    return status, seconds, failed, ran


def judge(mutant, names, scratch, texts, before_tests=lambda: False, numbers=None, how="graph", fallback=None):
    """Applies, rebuilds, tests and restores one mutant; returns its record (for the state file).
    `names`: the selected tests (ctest numbers by name in `numbers`); `how`: the selection used."""
    path = scratch.tree / mutant["file"]
    original = texts[mutant["file"]]
    record = {key: mutant[key] for key in ("id", "file", "line", "original", "mutated", "rule")}
    record.update(tests_selected=len(names), selection=how, killed_by=[], error=None)
    log = scratch.logs / f"generated-{mutant['id']}"
    start = time.monotonic()
    try:
        path.write_bytes(generate.apply(original, mutant).encode())
        built, record["build_s"] = scratch.build_targets(Path(f"{log}.build.log"), scratch.args.build_timeout)
        if not built:
            record["outcome"] = "stillborn"
            record["error"] = ("the build ran past --build-timeout" if built is None
                               else mc.first_error(Path(f"{log}.build.log")))
        elif not names:
            record["outcome"] = "survived"  # nothing to run: a real survivor (a gap or an equivalent)
            record["error"] = ("not covered: no test executes this line" if how == "not-covered"
                               else "no test can reach this file")
        else:
            # The baseline, once, when the first mutant that compiles needs it. It restores and
            # rebuilds the unmutated tree, so the mutant is then applied and built again (without
            # this the first compiled mutant of a run was tested on the unmutated build).
            if before_tests():
                path.write_bytes(generate.apply(original, mutant).encode())
                built, rebuild_s = scratch.build_targets(Path(f"{log}.build.log"), scratch.args.build_timeout)
                record["build_s"] += rebuild_s
                if not built:
                    raise mc.SetupError(f"mutant {mutant['id']} built, then failed to build again after the baseline")
            status, record["test_s"], failed, record["tests_run"] = run_cheapest_first(
                scratch, names, numbers, Path(f"{log}.test.log"), fallback)
            record["killed_by"] = [{"test": t, "status": why} for t, why in failed]
            if status is None or any(why == "Timeout" for _, why in failed):
                record["outcome"] = "timeout"  # a hang is a failure the suite noticed
            elif status == 0:
                record["outcome"] = "survived"
            elif failed:
                record["outcome"] = "killed"
            else:
                record["outcome"] = "stillborn"
                record["error"] = f"ctest exited {status} without a failed test; see {log}.test.log"
    finally:
        path.write_bytes(original.encode())
    for key in ("build_s", "test_s"):
        record[key] = round(record.get(key, 0.0), 1)
    record["seconds"] = round(time.monotonic() - start, 1)
    return record


def summary(records):
    counts = mc.score_of(records)
    noticed = counts["killed"] + counts["timeout"]
    judged = noticed + counts["survived"]
    low, high = interval.clopper_pearson(noticed, judged)
    counts["interval_95"] = None if low is None else [round(low, 4), round(high, 4)]
    return counts


def diff_of(record):
    return f"- {record['original'].strip()}\n+ {record['mutated'].strip()}"


def until_text(report):
    """How a run with --until-scored ended: at its count, or stopped before it."""
    until = report.get("until_scored")
    if not until:
        return ""
    scored = sum(1 for r in report["mutants"] if r["outcome"] != "stillborn")
    return (f", stopping at {until} that compiled" if scored >= until else
            f", to stop at {until} that compiled, but stopped (interrupted) at {scored}")


def markdown(report):
    s = report["score"]
    percent = "n/a" if s["score"] is None else f"{100 * s['score']:.1f}%"
    ci = "" if s["interval_95"] is None else \
        f" (95% Clopper-Pearson interval {100 * s['interval_95'][0]:.1f}% to {100 * s['interval_95'][1]:.1f}%)"
    t = report["timings"]
    lines = [
        f"# Generated-mutant check of {report['commit'][:8]} ({report['date']})",
        "",
        f"Score: **{percent}**{ci} of the sampled mutants that compiled were noticed "
        f"({s['killed']} killed, {s['timeout']} by a timeout, {s['survived']} survived; "
        f"{s['stillborn']} stillborn, left out of the score).",
        "",
        f"- Commit: `{report['commit']}`; sample: `{report['sample_file']}`: {report['sample_size']} of "
        f"{report['total_mutants']} mutants made by universalmutator {report['generator']['version']} "
        f"(rules {', '.join(report['generator']['rules'])}), drawn uniformly with seed {report['seed']}"
        + ("." if report["judged"] == report["sample_size"] else
           f"; {report['judged']} of them judged, in the seeded random order (any prefix of which is a uniform "
           f"sample){until_text(report)}."),
        f"- Command: `{report['command']}`",
        f"- Machine: {report['machine']['cpus']} CPUs, {report['machine']['platform']}; --jobs {report['jobs']}"
        + (f"; tests left out: `{report['exclude_tests']}`" if report["exclude_tests"] else "") + ".",
        f"- Test selection: {report.get('selection', 'build graph')}"
        + "".join(f"; {n} mutant(s) by {how}" for how, n in sorted(collections.Counter(
            r.get("selection", "graph") for r in report["mutants"] if r["outcome"] != "stillborn").items()))
        + "; each mutant's tests run cheapest first, stopping at the first failure"
        + (" (--keep-going: all of them)." if report.get("keep_going") else "."),
        f"- Time: set-up {t['setup_s'] / 60:.1f} min, baseline {t['baseline_s'] / 60:.1f} min, "
        f"mutants {t['mutants_s'] / 60:.1f} min this run (median {t['median_mutant_s']:.0f} s a mutant)"
        + (f"; these include the waits for the build lock `{report['lock']}`." if report.get("lock") else "."),
        "- Outcomes: killed = a test failed; timeout = a test or the run ran past its limit (counted as "
        "killed); survived = every selected test passed (or, by coverage, no test executes its line: "
        "\"not covered\", nothing run); stillborn = did not compile (not in the score).",
        "",
        "## Survivors",
        "",
        "Classification comes from `conformance/mutation/classifications.json` (by id): "
        "\"equivalent: why\" or \"gap: closed by ...\"; empty means not yet looked at.",
        "",
        "| id | where | rule | diff | tests | classification |",
        "|---|---|---|---|---|---|",
    ]
    survivors = [r for r in report["mutants"] if r["outcome"] == "survived"]
    for r in survivors:
        diff = diff_of(r).replace("|", "\\|").replace("\n", "<br>")
        lines.append(f"| `{r['id']}` | `{r['file']}:{r['line']}` | `{r['rule'].replace('|', '/')}` | "
                     f"<code>{diff}</code> | {'not covered' if r.get('selection') == 'not-covered' else r.get('tests_run', 0)}"
                     f" | {r.get('classification') or ''} |")
    if not survivors:
        lines.append("| - | none | | | | |")
    stillborn = [r for r in report["mutants"] if r["outcome"] == "stillborn"]
    if stillborn:
        lines += ["", "## Stillborn (not in the score)", ""]
        lines += [f"- `{r['id']}` `{r['file']}:{r['line']}`: {r['error']}" for r in stillborn]
    lines += ["", "## Every sampled mutant", "",
              "| id | where | outcome | noticed by | tests run/selected | selection | build s | test s |",
              "|---|---|---|---|---|---|---|---|"]
    for r in report["mutants"]:
        noticed = ", ".join(k["test"] + ("" if k["status"] == "Failed" else f" ({k['status']})")
                            for k in r.get("killed_by", []))
        lines.append(f"| `{r['id']}` | `{r['file']}:{r['line']}` | {r['outcome']} | {noticed} | "
                     f"{r.get('tests_run', 0)}/{r.get('tests_selected', 0)} | {r.get('selection', 'graph')} | "
                     f"{r['build_s']:.0f} | {r['test_s']:.0f} |")
    lines += ["", "## Generated mutants per file", "", "| file | mutants |", "|---|---|"]
    lines += [f"| `{f}` | {n} |" for f, n in report["total_per_file"].items()]
    return "\n".join(lines) + "\n"


def selection_for(graph, tree, mutant, exclude, cov=None):
    """(programs, test names, how) for `mutant`: the tests that can reach its file (the graph), less
    the --exclude-tests ones, narrowed by the coverage map `cov` when there is one (coverage_map.py)."""
    exes, names = graph.tests_for(tree / mutant["file"])
    names = [n for n in names if not (exclude and re.search(exclude, n))]
    how = "graph"
    if cov is not None:
        names, how = coverage_map.select_tests(cov, mutant["file"], mutant["line"], names)
    return [os.path.relpath(e, graph.build) for e in exes], names, how


def load_coverage(args, commit, tree, scratch):
    """The commit's coverage map (built first with --coverage-map), or None (--no-coverage-map, or
    none built yet: the graph selection alone)."""
    if args.coverage_map:
        coverage_map.build_map(commit, scratch, args, say=lambda line: print(line, flush=True))
    if args.no_coverage_map:
        return None
    cov = coverage_map.load(tree / coverage_map.MAP_NAME)
    if cov is not None and cov.commit != commit:
        raise mc.SetupError(f"{tree / coverage_map.MAP_NAME} is the map of {cov.commit[:12]}, not {commit[:12]}")
    return cov


def build_map_only(args, commit):
    """--coverage-map without --sample: exports the commit if needed and builds its coverage map."""
    mc.signal.signal(mc.signal.SIGTERM, mc.interrupt)
    tree = args.scratch / commit
    scratch = mc.Scratch(tree, args)
    try:
        mc.export_tree(commit, tree)
        scratch.logs.mkdir(exist_ok=True)
        coverage_map.build_map(commit, scratch, args, say=lambda line: print(line, flush=True))
    except mc.SetupError as error:
        mc.fail(str(error), status=1)
    except KeyboardInterrupt:
        mc.fail("interrupted; rerun to resume the coverage map (finished tests are kept)", status=130)
    return 0


def run(args):
    """The whole --generated run; returns the exit status."""
    resolved = subprocess.run(["git", "-C", str(mc.REPO), "rev-parse", "--verify", f"{args.commit}^{{commit}}"],
                              capture_output=True, text=True)
    if resolved.returncode != 0:
        mc.fail(f"--commit: {args.commit} is not a commit of {mc.REPO}")
    commit = resolved.stdout.strip()
    if args.coverage_map and not args.sample and not args.list:
        return build_map_only(args, commit)
    if generate.tool_version() is None:
        mc.fail(generate.INSTALL_HINT)
    texts = sources_at(commit)
    mutants = generate.generate(texts)
    if args.list:
        for file, count in sampling.per_file(mutants).items():
            print(f"{count:>6}  {file}")
        print(f"{len(mutants)} mutants in {len(texts)} files")
        return 0
    if not args.sample:
        mc.fail("--generated needs --sample N (or --list)")
    generator = {"tool": "universalmutator", "version": generate.tool_version(), "rules": list(generate.RULE_FILES)}
    name = sampling.sample_name(commit, args.seed, args.sample)
    sample_path = args.samples / f"{name}.json"
    try:
        sample = sampling.load_or_write(sample_path, sampling.sample_record(commit, args.seed, args.sample,
                                                                            mutants, generator))
    except ValueError as error:
        mc.fail(str(error))
    mc.signal.signal(mc.signal.SIGTERM, mc.interrupt)
    started = time.monotonic()
    tree = args.scratch / commit
    scratch = mc.Scratch(tree, args)
    state_path = scratch.logs / f"{name}.state.jsonl"
    baseline_s = mutants_s = 0.0
    if args.report_only:
        done, _ = resume.load(state_path)
        if not done:
            mc.fail(f"--report-only: {state_path} holds no judged mutant")
        return write_report(args, commit, name, sample, sample_path, done, state_path,
                            "as each mutant records it (report written from the state file)",
                            {"setup_s": 0.0, "baseline_s": 0.0, "mutants_s": 0.0})
    try:
        print(f"mutation_check: {len(sample['mutants'])} of {sample['total']} generated mutants on {commit[:8]} "
              f"(seed {args.seed}, sample {mc.shown_path(sample_path)}); scratch tree {tree}", flush=True)
        mc.export_tree(commit, tree)
        scratch.logs.mkdir(exist_ok=True)
        mc.restore(tree, {f: t.encode() for f, t in texts.items()})
        scratch.configure()
        print("mutation_check: building every program that links the library", flush=True)
        built, seconds = scratch.build_targets(scratch.logs / "baseline.build.log", 4 * args.build_timeout)
        if not built:
            raise mc.SetupError(f"the unmutated tree does not build; see {scratch.logs / 'baseline.build.log'}")
        graph = selection.BuildGraph(scratch.build)
        scratch.fixture_users = {t["name"] for t in graph.ctest.get("tests", [])
                                 if any(p.get("name") == "FIXTURES_REQUIRED" for p in t.get("properties", []))}
        cov = load_coverage(args, commit, tree, scratch)
        selection_used = "build graph"
        if cov:
            selection_used = (f"coverage map {tree / coverage_map.MAP_NAME} (the line, else +-{coverage_map.RADIUS}) "
                              f"within the build graph; {len(cov.unmapped)} unmapped test(s) always selected"
                              + ("" if cov.data.get("complete") else " (a partial map)"))
        print(f"mutation_check: test selection: {selection_used}", flush=True)
        chosen = {m["id"]: selection_for(graph, tree, m, args.exclude_tests, cov) for m in sample["mutants"]}
        done, baselines = resume.load(state_path)
        todo = resume.pending(resume.judging_order(sample["mutants"], args.seed), done)
        print(f"mutation_check: built in {seconds:.0f} s; {len(done)} mutant(s) already judged in "
              f"{mc.shown_path(state_path)}, {len(todo)} to go", flush=True)
        setup_s = time.monotonic() - started

        names = sorted(set().union(*[set(chosen[m["id"]][1]) for m in todo]))
        union = sorted(graph.numbers[n] for n in names)
        baseline = {"needed": not any(set(names) <= set(b["tests"]) for b in baselines if b["baseline"] == "passed"),
                    "s": 0.0}

        def ensure_baseline():
            """The unmutated tree must pass every selected test (a mutant cannot be judged against a
            failing baseline); run lazily, so that a sample of stillborn mutants costs no test run."""
            if not baseline["needed"]:
                return False
            if not union:
                baseline["needed"] = False
                return False
            print(f"mutation_check: baseline: the {len(union)} selected tests, unmutated", flush=True)
            mc.restore(tree, {f: t.encode() for f, t in texts.items()})
            built, _ = scratch.build_targets(scratch.logs / "generated-baseline.build.log", 4 * args.build_timeout)
            status, baseline["s"], failed, _ = scratch.run_tests(["-I", "0,0,0," + ",".join(map(str, union))],
                                                                 scratch.logs / "generated-baseline.test.log", False,
                                                                 4 * args.run_timeout)
            if not built or status != 0:
                raise mc.SetupError("the unmutated tree fails " + (", ".join(t for t, _ in failed) or "its test run")
                                    + f"; see {scratch.logs / 'generated-baseline.test.log'}")
            resume.append(state_path, {"baseline": "passed", "tests": names, "seconds": round(baseline["s"], 1)})
            baseline["needed"] = False
            if set(names) & scratch.fixture_users:
                scratch.fixtures_ready = True  # the baseline ran the fixture set-ups these tests need
            return True

        mutants_started = time.monotonic()
        for number, mutant in enumerate(todo, 1):
            if args.until_scored and resume.scored(done) >= args.until_scored:
                print(f"mutation_check: {args.until_scored} mutants that compiled are judged; stopping", flush=True)
                break
            programs, selected, how = chosen[mutant["id"]]
            before = baseline["s"]
            record = judge(mutant, selected, scratch, texts, ensure_baseline, graph.numbers, how,
                           cov.seconds if cov else None)
            record["seconds"] = round(record["seconds"] - (baseline["s"] - before), 1)  # the mutant's own time
            record["programs"] = programs
            resume.append(state_path, record)
            done[record["id"]] = record
            print(f"[{number}/{len(todo)}] {mutant['id']} {mutant['file']}:{mutant['line']:<5} {record['outcome']:<9} "
                  f"{record['seconds']:>5.0f} s (build {record['build_s']:.0f}, tests {record['test_s']:.0f}; "
                  f"{record.get('tests_run', 0)} run of {len(selected)} selected by {how})  {mc.describe(record)}", flush=True)
        mutants_s = time.monotonic() - mutants_started - baseline["s"]
        baseline_s = baseline["s"]
    except mc.SetupError as error:
        mc.fail(str(error), status=1)
    except KeyboardInterrupt:
        mc.restore(tree, {f: t.encode() for f, t in texts.items()})
        mc.fail(f"interrupted; the scratch tree is restored; rerun to resume from {state_path}", status=130)

    timings = {"setup_s": setup_s, "baseline_s": baseline_s, "mutants_s": mutants_s}
    return write_report(args, commit, name, sample, sample_path, done, state_path, selection_used, timings)


def write_report(args, commit, name, sample, sample_path, done, state_path, selection_used, timings):
    """The report (JSON and markdown) of the sample's judged mutants, in sample order."""
    classes = load_classifications(args.classifications)
    records = []
    for mutant in sample["mutants"]:
        if mutant["id"] not in done:
            continue  # not judged yet (--until-scored, a run in progress or stopped)
        record = dict(done[mutant["id"]])
        record["classification"] = classes.get(mutant["id"])
        records.append(record)
    durations = sorted(r["seconds"] for r in records)
    report = {
        "commit": commit, "date": datetime.date.today().isoformat(),
        "command": " ".join(["conformance/mutation/mutation_check.py", *sys.argv[1:]]),
        "sample_file": mc.shown_path(sample_path), "seed": args.seed, "sample_size": len(sample["mutants"]),
        "judged": len(records), "until_scored": args.until_scored,
        "total_mutants": sample["total"], "total_per_file": sample["total_per_file"], "generator": sample["generator"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "jobs": args.jobs, "lock": args.lock,
        "exclude_tests": args.exclude_tests, "keep_going": args.keep_going, "selection": selection_used,
        "test_timeout_s": args.test_timeout, "state_file": str(state_path),
        "timings": {**{k: round(v, 1) for k, v in timings.items()},
                    "median_mutant_s": durations[len(durations) // 2] if durations else 0.0},
        "score": summary(records), "mutants": records,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{report['date']}-{name}-generated"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(report))
    s = report["score"]
    print(f"mutation_check: {s['killed']} killed, {s['timeout']} timeout, {s['survived']} survived, "
          f"{s['stillborn']} stillborn; score {s['score']} {s['interval_95']}; report {args.out / stem}.md", flush=True)
    return 0
