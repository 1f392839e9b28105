"""The state file of a generated run: one JSON line per finished mutant, appended as it finishes.

A rerun of the same sample reads it and skips the mutants already judged, so a killed or
interrupted run loses at most the mutant it was on. A last line cut off by a kill is ignored.
"""
import json


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
