"""The peak bytes one unit of a workload allocates on the CPU, the twin of perf/lib/allocation_probe.h.

Both sides count the same thing the same way: the CPU allocator's reports of each storage it hands
out and releases, which PyTorch's profiler records as allocation events when it profiles memory
(the C++ worker receives them through the same hook). One unit runs with the probe open, so that
what the measured unit frees was allocated where the probe saw it; the measured unit's peak of live
bytes, less what was live when it started, is the answer. The profiler's event tree is a
torch-internal API (`experimental_event_tree`), pinned with torch in the venv and checked by
perf/tests/allocation_probe_test.py against a known allocation pattern on both sides.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.profiler import ProfilerActivity, profile, record_function

MEASURED = "seqpack.measured_unit"


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def unit_peak_bytes(run: Callable[[int], None]) -> int:
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        run(1)
        with record_function(MEASURED):
            run(1)
    nodes = list(_walk(prof.profiler.kineto_results.experimental_event_tree()))
    start = min(n.start_time_ns for n in nodes if n.name == MEASURED)
    deltas = sorted((n.start_time_ns, n.extra_fields.alloc_size) for n in nodes
                    if n.tag == torch._C._profiler._EventType.Allocation and n.extra_fields.device.type == "cpu")
    live = sum(size for t, size in deltas if t < start)
    before, peak = live, live
    for t, size in deltas:
        if t >= start:
            live += size
            peak = max(peak, live)
    return peak - before


def parameter_bytes(module: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())
