"""The measurement engine: paired, interleaved rounds over long-lived workers.

A point's arms (comparisons.py) are built once in the C++ worker (build/<preset>/perf/perf_worker)
or the Python one (seqpack_reference.perf.worker), warmed up (preparation and compilation time are
recorded apart), and calibrated: each arm's sample is a fixed number of units, chosen so that it
lasts about `sample_s`. Then rounds: each runs every arm once, in a fresh random order, back to back,
so that whatever the machine does between rounds hits all arms alike and cancels in their ratios.
Rounds go on until every requested ratio's 95% interval (stats.py) is within the target half-width,
or the point's time budget is spent (at least `min_rounds` either way): adaptive, as Criterion.rs
and pyperf are.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import selectors
import subprocess
import sys
import time
from pathlib import Path

import data_parallel
import stats
from comparisons import Arm, Point
from seqpack_paths import ROOT


class WorkerError(Exception):
    pass


class Worker:
    """One worker process: a JSON line out, a JSON line back, within a timeout."""

    def __init__(self, side: str, argv: list[str], cwd: Path, env: dict, log: Path, group: bool = False):
        self.side, self.argv, self.cwd, self.env, self.log = side, argv, cwd, env, log
        self.group = group  # a torchrun group of ranks: its log says which rank ended it
        self.process = None
        self.generation = 0  # counts starts: arms built before a restart are gone

    def ensure_started(self):
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self.start()

    def start(self):
        self.generation += 1
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)

    def call(self, request: dict, timeout_s: float) -> dict:
        self.ensure_started()
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            self.stop()
            raise WorkerError(f"the {self.side} worker died (log: {self.log})")
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout_s)
        selector.close()
        if not ready:
            self.stop()
            raise WorkerError(f"the {self.side} worker gave no answer within {timeout_s:.0f} s (stopped)")
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            self.stop()
            cause = data_parallel.why_the_group_stopped(self.log) if self.group else ""
            raise WorkerError(f"the {self.side} worker died with exit status {code}"
                              + (f": {cause}" if cause else "") + f" (log: {self.log})")
        try:
            reply = json.loads(line)
        except ValueError:
            self.stop()  # out of step with its requests: start afresh
            raise WorkerError(f"the {self.side} worker answered {line[:80]!r}, not a JSON line (stopped)")
        if not reply.get("ok"):
            raise WorkerError(reply.get("error", "failed"))
        return reply

    def stop(self):
        if self.process is not None:
            if self.group and self.process.poll() is None:
                self._stop_group()
            self.process.kill()
            self.process.wait()
            for pipe in (self.process.stdin, self.process.stdout):
                try:
                    pipe.close()
                except OSError:  # a line still buffered for a dead process
                    pass
            self.process = None


    def _stop_group(self):
        """End of input stops every rank; torchrun stops them itself on SIGTERM (a SIGKILL would leave
        them running)."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
            return
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


class Workers:
    """The C++ and the Python worker, and a group of ranks per side and rank count for the
    data-parallel arms (Arm.worker names which), started on first use and kept for the whole run."""

    def __init__(self, build: Path, python: str, logs: Path, profile: str, extra_env: dict | None = None,
                 threads_per_rank: int = 1):
        env = dict(os.environ, SEQPACK_PROFILE=profile, **(extra_env or {}))
        self.build, self.python, self.logs = build, python, logs
        self.group_env = dict(env, OMP_NUM_THREADS=str(threads_per_rank))
        self.workers = {
            "cpp": Worker("cpp", [str(build / "perf" / "perf_worker")], ROOT, env, logs / "cpp_worker.log"),
            "python": Worker("python", [python, "-m", "seqpack_reference.perf.worker"], ROOT / "reference", env,
                             logs / "python_worker.log")}
        self._info = {}

    def __getitem__(self, key: str) -> Worker:
        if key not in self.workers:  # "cpp x2": a data-parallel group
            side, ranks = key.split(" x")
            argv, cwd = data_parallel.launcher(side, int(ranks), self.build, self.python)
            self.workers[key] = Worker(key, argv, cwd, self.group_env,
                                       self.logs / f"{side}_data_parallel_x{ranks}.log", group=True)
        return self.workers[key]

    def info(self, side: str) -> dict:
        if side not in self._info:
            self._info[side] = self.workers[side].call({"op": "info"}, 120)
        return self._info[side]

    def close(self):
        for worker in self.workers.values():
            worker.stop()


@dataclasses.dataclass
class ArmResult:
    arm: Arm
    status: str = "ok"
    prepare_s: float = 0.0
    units: int = 0  # per sample
    seconds_per_step: list[float] = dataclasses.field(default_factory=list)  # one per round
    fill_ratio: float = 0.0
    samples: int = 0
    timesteps: int = 0
    steps_per_unit: int = 1
    peak_memory_mib: float = 0.0
    peak_device_memory_mib: float = 0.0  # the caching allocator's peak on a CUDA device; 0 on the CPU
    rank_fill_ratio: list[float] = dataclasses.field(default_factory=list)  # data parallel: each rank's
    metrics: dict[str, list[float]] = dataclasses.field(default_factory=dict)  # data parallel: one per round


@dataclasses.dataclass
class PointResult:
    point: Point
    arms: dict[str, ArmResult]
    ratios: dict[str, stats.Interval | None]
    control: stats.Interval | None
    rounds: int
    elapsed_s: float
    stopped: str  # "target" | "budget" | "max rounds" | "no ratios"


@dataclasses.dataclass
class EngineSettings:
    min_rounds: int = 5
    max_rounds: int = 60
    target_half_width_pct: float = 5.0
    prepare_timeout_s: float = 600.0

    @classmethod
    def from_profile(cls, settings: dict) -> "EngineSettings":
        return cls(**settings.get("engine", {}))


def _ratio_intervals(point: Point, arms: dict[str, ArmResult]) -> dict[str, stats.Interval | None]:
    """Each ratio whose two arms are measuring: its interval, or None before 2 rounds. A ratio with a
    failed arm is left out."""
    out = {}
    for ratio in point.ratios + [point.control_ratio]:
        a, b = arms.get(ratio.numerator.label), arms.get(ratio.denominator.label)
        if a is not None and b is not None and a.status == "ok" and b.status == "ok":
            out[ratio.label] = stats.ratio_interval(a.seconds_per_step, b.seconds_per_step)
    return out


def widest(point: Point, ratios: dict) -> float:
    """The widest half-width (%) among the requested ratios being measured (inf before 2 rounds)."""
    return max((ratios[r.label].half_width_pct if ratios[r.label] else math.inf
                for r in point.ratios if r.label in ratios), default=0.0)


def measure(point: Point, workers: Workers, settings: EngineSettings, rng: random.Random, say=print,
            slowdowns: dict[str, float] | None = None) -> PointResult:
    """Prepares, calibrates and measures the point's arms in rounds. `slowdowns` (test-only, the
    gate's power check) slows an arm, by label, by a known fraction."""
    started = time.monotonic()
    all_arms = point.arms + [point.control_twin]
    arms = {arm.label: ArmResult(arm) for arm in all_arms}
    twin = point.control_twin
    # The A/A twin is the control arm itself, run a second time in each round at its own place.
    arm_id = lambda arm: f"{point.name}|{(point.control if arm == twin else arm).label}"  # noqa: E731

    built: dict[str, int] = {}  # arm id -> the worker generation it was built in
    unit_s: dict[str, float] = {}

    def prepare(arm: Arm):
        worker = workers[arm.worker]
        worker.ensure_started()
        reply = worker.call({"op": "prepare", "id": arm_id(arm),
                             "arm": point.arm_spec(arm, (slowdowns or {}).get(arm.label, 0.0)),
                             "timeout_s": settings.prepare_timeout_s}, settings.prepare_timeout_s + 60)
        built[arm_id(arm)] = worker.generation
        result = arms[arm.label]
        result.prepare_s += reply["prepare_s"]
        result.fill_ratio, result.samples, result.timesteps = reply["fill_ratio"], reply["samples"], reply["timesteps"]
        result.steps_per_unit = reply["steps_per_unit"]
        result.rank_fill_ratio = reply.get("rank_fill_ratio", [])

    def run(arm: Arm, units: int) -> dict:
        worker = workers[arm.worker]
        worker.ensure_started()
        if built.get(arm_id(arm)) != worker.generation:  # the worker was restarted: build the arm again
            prepare(arm)
        expected = units * unit_s.get(arm_id(arm), point.sample_s)
        return worker.call({"op": "run", "id": arm_id(arm), "units": units}, max(60.0, 20 * expected))

    for arm in point.arms:
        try:
            prepare(arm)
            # Calibration: one more unit, timed; a sample is as many units as fill sample_s.
            unit_s[arm_id(arm)] = max(run(arm, 1)["seconds"], 1e-9)
            arms[arm.label].units = max(1, math.ceil(point.sample_s / unit_s[arm_id(arm)]))
        except WorkerError as error:
            arms[arm.label].status = f"error: {error}"
            say(f"    {arm.label}: {arms[arm.label].status}")
    control, twin_result = arms[point.control.label], arms[twin.label]
    twin_result.status, twin_result.units, twin_result.fill_ratio = control.status, control.units, control.fill_ratio
    twin_result.samples, twin_result.timesteps = control.samples, control.timesteps
    twin_result.steps_per_unit, twin_result.rank_fill_ratio = control.steps_per_unit, control.rank_fill_ratio
    live = [a for a in all_arms if arms[a.label].status == "ok"]
    rounds, stopped, ratios = 0, "max rounds", {}
    rounds_started = time.monotonic()
    while rounds < settings.max_rounds and live:
        round_started = time.monotonic()
        order = live[:]
        rng.shuffle(order)
        for arm in order:
            result = arms[arm.label]
            if result.status != "ok":  # its instance failed earlier in this round (the A/A twin's control)
                continue
            try:
                reply = run(arm, result.units)
                result.seconds_per_step.append(reply["seconds"] / (result.units * result.steps_per_unit))
                result.peak_memory_mib = max(result.peak_memory_mib, reply["peak_memory_mib"])
                result.peak_device_memory_mib = max(result.peak_device_memory_mib,
                                                    reply.get("peak_device_memory_mib", 0.0))
                if "rank_timings" in reply:
                    for name, value in data_parallel.metrics(reply["rank_timings"]).items():
                        result.metrics.setdefault(name, []).append(value)
            except WorkerError as error:
                result.status = f"error: {error}"
                if arm in (point.control, twin):  # one instance: both fail
                    arms[point.control.label].status = arms[twin.label].status = result.status
        # A failed arm is dropped; the others have one sample per round, paired by round.
        live = [a for a in live if arms[a.label].status == "ok"]
        rounds += 1
        ratios = _ratio_intervals(point, arms)
        if not any(r.label in ratios for r in point.ratios):
            stopped = "no ratios"  # every requested ratio lost an arm: more rounds measure nothing asked for
            break
        spent, last = time.monotonic() - rounds_started, time.monotonic() - round_started
        wide = widest(point, ratios)
        if rounds % 5 == 0:
            say(f"    round {rounds}: widest interval ±{wide:.1f}% (target ±{settings.target_half_width_pct:g}%), "
                f"{spent:.0f} s of {point.budget_s:.0f}")
        if rounds >= settings.min_rounds:
            if wide <= settings.target_half_width_pct:
                stopped = "target"
                break
            if spent + last > point.budget_s:
                stopped = "budget"
                break
    for arm_key in built:  # every instance built, failed or not: a run holds many points
        worker = next(a.worker for a in point.arms if arm_id(a) == arm_key)
        try:
            workers[worker].call({"op": "release", "id": arm_key}, 60)
        except WorkerError:
            pass
    ratios = _ratio_intervals(point, arms)
    return PointResult(point, arms, ratios, ratios.get(point.control_ratio.label), rounds,
                       time.monotonic() - started, stopped)


class Progress:
    """A line per point: which, how many are left and about how long, from the points done so far."""

    def __init__(self, points: list[Point], stream=sys.stderr):
        self.points, self.stream, self.done, self.spent = points, stream, 0, {}
        self.started = time.monotonic()

    def say(self, text: str):
        print(text, file=self.stream, flush=True)

    def eta_s(self) -> float:
        left = 0.0
        for p in self.points[self.done:]:
            spent = self.spent.get(p.kind)
            left += spent[0] / spent[1] if spent else p.budget_s
        return left

    def start(self, point: Point):
        self.say(f"[point {self.done + 1}/{len(self.points)}, about {self.eta_s() / 60:.0f} min left] {point.name}: "
                 f"{len(point.arms) + 1} arms")

    def finish(self, result: PointResult):
        total, count = self.spent.get(result.point.kind, (0.0, 0))
        self.spent[result.point.kind] = (total + result.elapsed_s, count + 1)
        self.done += 1
        wide = widest(result.point, result.ratios)
        control = result.control
        self.say(f"    {result.rounds} rounds in {result.elapsed_s:.0f} s ({result.stopped}); widest ±{wide:.1f}%; "
                 f"A/A {control.estimate:.3f} [{control.low:.3f}, {control.high:.3f}]" if control else
                 f"    {result.rounds} rounds in {result.elapsed_s:.0f} s ({result.stopped}); no A/A interval")
