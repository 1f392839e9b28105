"""Summarises a Chrome trace of training steps (perf/benchmarks/profile_step.cpp): time per step by
stage (the padding-free path's record_function scopes, `real_steps.*`; time outside them is the
rest of the forward, the backward and the optimiser) and the ops with the most self time.

    python perf/profile_summary.py TRACE.json [--steps 5] [--top 15]
"""
from __future__ import annotations

import argparse
import collections
import json


def events(path: str) -> list[dict]:
    trace = json.load(open(path))
    return [e for e in (trace["traceEvents"] if isinstance(trace, dict) else trace) if e.get("ph") == "X"]


def summarise(evs: list[dict]) -> tuple[float, collections.Counter, collections.Counter]:
    """(total top-level time, inclusive time per scope, self time per op), in microseconds. Events
    nest by time within a thread; an event's self time is its duration less its children's."""
    by_thread = collections.defaultdict(list)
    for e in evs:
        by_thread[e.get("tid")].append(e)
    total, scopes, self_time = 0.0, collections.Counter(), collections.Counter()
    for thread in by_thread.values():
        thread.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list[dict] = []
        for e in thread:
            while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
                stack.pop()
            if stack:
                self_time[stack[-1]["name"]] -= e["dur"]
            else:
                total += e["dur"]
            if e["name"].startswith("real_steps.") and not any(s["name"] == e["name"] for s in stack):
                scopes[e["name"]] += e["dur"]
            self_time[e["name"]] += e["dur"]
            stack.append(e)
    return total, scopes, self_time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--steps", type=int, default=5, help="steps in the trace (profile_step records 5)")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    total, scopes, self_time = summarise(events(args.trace))
    per_step = lambda us: us / 1e3 / args.steps  # noqa: E731
    print(f"profiled time per step: {per_step(total):.2f} ms (the profiler's own cost included)\n")
    print("| stage (forward) | ms per step | share |\n|---|---|---|")
    for name, us in scopes.most_common():
        print(f"| {name} | {per_step(us):.2f} | {100 * us / total:.0f}% |")
    rest = total - sum(scopes.values())
    print(f"| everything else (GRNs, gates, norms, heads, loss; backward; optimiser) | {per_step(rest):.2f} | "
          f"{100 * rest / total:.0f}% |\n")
    print("| op (self time) | ms per step | share |\n|---|---|---|")
    for name, us in self_time.most_common(args.top):
        if not name.startswith("real_steps."):
            print(f"| {name} | {per_step(us):.2f} | {100 * us / total:.0f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
