"""The state file of a generated run: one JSON line per finished mutant, appended as it finishes.

A rerun of the same sample reads it and skips the mutants already judged, so a killed or
interrupted run loses at most the mutant it was on. A last line cut off by a kill is ignored.
"""
import json
import random


def load(path):
    """{mutant id: record} of the finished mutants in `path` (the last record of an id wins),
    and the baseline records [{"baseline": ...}]."""
    done, baselines = {}, []
    if not path.exists():
        return done, baselines
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut off by a kill: that mutant runs again
            continue
        if "baseline" in record:
            baselines.append(record)
        elif "id" in record and "outcome" in record:
            done[record["id"]] = record
    return done, baselines


def append(path, record):
    """Adds `record` as one line and flushes it to disk before the next mutant starts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")
        out.flush()


def pending(sample, done):
    """The sample's mutants not yet in `done`, in sample order."""
    return [m for m in sample if m["id"] not in done]


def judging_order(sample, seed):
    """The sample in a seeded random order, the order mutants are judged in. The sample file lists
    them by file and line; judging in that order and stopping early (--until-scored, an interrupted
    run) would judge the first files only. In a random order any prefix is itself a uniform sample,
    and a stop that depends only on how many compiled keeps the compiled ones uniform too."""
    return random.Random(f"judging order {seed}").sample(list(sample), len(sample))


def scored(done):
    """How many judged mutants count in the score (every outcome but stillborn)."""
    return sum(1 for r in done.values() if r["outcome"] != "stillborn")
