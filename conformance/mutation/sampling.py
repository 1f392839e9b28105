"""A seeded, uniform random sample of the generated mutants, written as a committable JSON file.

The sample is drawn from the mutants sorted by (file, line, id), so the same commit, seed and size
give the same sample on any machine; the file keeps the mutants themselves, so a rerun needs no
regeneration to know what it ran.
"""
import collections
import json
import random


def draw(mutants, size, seed):
    """`size` mutants picked uniformly without replacement (all of them when there are fewer)."""
    ordered = sorted(mutants, key=lambda m: (m["file"], m["line"], m["id"]))
    picked = random.Random(seed).sample(ordered, min(size, len(ordered)))
    return sorted(picked, key=lambda m: (m["file"], m["line"], m["id"]))


def per_file(mutants):
    return dict(sorted(collections.Counter(m["file"] for m in mutants).items()))


def sample_record(commit, seed, size, mutants, generator):
    """What the sample file holds: enough to rerun and to judge how the sample was drawn."""
    return {"commit": commit, "seed": seed, "size": size, "generator": generator,
            "total": len(mutants), "total_per_file": per_file(mutants),
            "mutants": draw(mutants, size, seed)}


def sample_name(commit, seed, size):
    return f"{commit[:8]}-seed{seed}-n{size}"


def load_or_write(path, record):
    """The sample at `path` if it is this commit's, seed's and size's (a rerun reuses it), else
    writes `record` there. ValueError when an existing file disagrees with the new draw."""
    if path.exists():
        old = json.loads(path.read_text())
        same = all(old.get(k) == record[k] for k in ("commit", "seed", "size"))
        if same and [m["id"] for m in old["mutants"]] == [m["id"] for m in record["mutants"]]:
            return old
        raise ValueError(f"{path} holds another sample (other commit, seed, size or generator); move it away")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record
