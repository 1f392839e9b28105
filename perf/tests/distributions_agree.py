"""The C++ and Python sides of the benchmarks give every batch the same lengths.

Usage: distributions_agree.py LENGTHS_DUMP_BINARY"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "reference"))
from seqpack_reference.perf.distributions import batch_lengths, read_distributions  # noqa: E402


def main(binary):
    cpp = json.loads(subprocess.run([binary], capture_output=True, text=True, check=True).stdout)
    problems, checked = [], 0
    for d in read_distributions(ROOT / "perf" / "distributions.csv"):
        for key, lengths in cpp[d["name"]].items():
            batch, steps, seed = (int(v) for v in key.split("/"))
            checked += 1
            if batch_lengths(d, batch, steps, seed) != lengths:
                problems.append(f"{d['name']} {key}")
    print(f"distributions: {checked} batches compared, {len(problems)} differ {problems[:5]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
