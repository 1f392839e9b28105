"""The measurement engine: paired, interleaved rounds, in launches of fresh worker processes.

A point's arms (comparisons.py) are built in the C++ worker (build/<preset>/perf/perf_worker) or the
Python one (seqpack_reference.perf.worker), warmed up (preparation and compilation time are recorded
apart), and calibrated: each arm's sample is a fixed number of units, chosen so that it lasts about
`sample_s`. Then rounds: each runs every arm once, in a fresh random order, back to back, so that
whatever the machine does between rounds hits all arms alike and cancels in their ratios.

Rounds come in launches: after `rounds_per_launch` rounds (by kind of point) every worker of the point
is stopped and started afresh and the arms built again, so that what a process fixes once (memory
layout, allocator state, thread placement, a compiled graph) varies between launches and shows in
the interval (stats.nested_log_interval), as pyperf spreads its values over processes. A round in
which an arm stalls (stall_factor times its median) is measured again and counted. Launches go on
until every requested ratio's 95% interval is within the target half-width, or the point's time
budget is spent (at least `min_rounds` and `min_launches` either way): adaptive, as Criterion.rs and
pyperf are. The point records the other work the machine did meanwhile (machine.LoadMeter) and
names what disturbed it (disturbances()).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import selectors
import statistics
import subprocess
import sys
import time
from pathlib import Path

import data_parallel
import machine
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
    """The C++ and the Python worker, a group of ranks per side and rank count for the data-parallel
    arms, and each side's worker of another build (other_builds: name -> (source root, build folder),
    the gate's base) (Arm.worker names which), started on first use; a launch starts them afresh."""

    def __init__(self, build: Path, python: str, logs: Path, profile: str, extra_env: dict | None = None,
                 threads_per_rank: int = 1, other_builds: dict[str, tuple[Path, Path]] | None = None):
        env = dict(os.environ, SEQPACK_PROFILE=profile, **(extra_env or {}))
        self.env, self.other_builds = env, other_builds or {}
        self.build, self.python, self.logs = build, python, logs
        self.group_env = dict(env, OMP_NUM_THREADS=str(threads_per_rank))
        self.workers = {
            "cpp": Worker("cpp", [str(build / "perf" / "perf_worker")], ROOT, env, logs / "cpp_worker.log"),
            "python": Worker("python", [python, "-m", "seqpack_reference.perf.worker"], ROOT / "reference", env,
                             logs / "python_worker.log")}
        self._info = {}

    def __getitem__(self, key: str) -> Worker:
        if key not in self.workers and "@" in key:  # "cpp@base": the side's worker of another build
            side, name = key.split("@")
            root, build = self.other_builds[name]
            argv, cwd = (([str(build / "perf" / "perf_worker")], root) if side == "cpp" else
                         ([self.python, "-m", "seqpack_reference.perf.worker"], root / "reference"))
            self.workers[key] = Worker(key, argv, cwd, self.env, self.logs / f"{side}_worker@{name}.log")
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
    prepare_s: float = 0.0  # the first launch's: building, warming up, compiling
    units: int = 0  # per sample
    seconds_per_step: list[float] = dataclasses.field(default_factory=list)  # one per round
    fill_ratio: float = 0.0
    samples: int = 0
    timesteps: int = 0
    steps_per_unit: int = 1
    peak_memory_mib: float = 0.0  # the worker process's peak resident size over its runs (all its arms')
    peak_device_memory_mib: float = 0.0  # the caching allocator's peak on a CUDA device; 0 on the CPU
    # The arm's own memory on the CPU, measured once when it is first built (allocation_probe.h):
    # the peak one unit allocates above what was live before it, and what it holds between units
    # (parameters, optimizer state). None where the worker does not measure it.
    unit_peak_mib: float | None = None
    held_mib: float | None = None
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
    launch_of_round: list[int] = dataclasses.field(default_factory=list)  # which launch ran each round
    treated_rounds: int = 0  # rounds measured again because one of their arms stalled
    foreign_cpus: float = 0.0  # CPUs' worth of other work beside the workers while the point ran
    disturbances: list[str] = dataclasses.field(default_factory=list)  # why its figures may not hold
    relaunch_s: float = 0.0  # what one more launch cost: fresh workers and the arms built again (mean)
    round_s: float = 0.0  # what one more round cost (mean)

    @property
    def launches(self) -> int:
        return len(set(self.launch_of_round))


@dataclasses.dataclass
class EngineSettings:
    min_rounds: int = 5
    max_rounds: int = 60
    target_half_width_pct: float = 5.0
    prepare_timeout_s: float = 600.0
    # Rounds per launch of fresh workers, by kind of point (0 or absent: every round in one launch,
    # the workers kept from the run's earlier points). Chosen from where each kind's variance lives
    # (docs/measurement.md, "Where the variance lives").
    rounds_per_launch: dict[str, int] = dataclasses.field(default_factory=dict)
    min_launches: int = 3  # when launching: fewer launch means give a t quantile too large to use
    # A round one of whose arms took this many times that arm's median is re-run, at most
    # max_treated_share of the rounds asked for: a stall outside the measurement (docs/measurement.md).
    stall_factor: float = 1.5
    max_treated_share: float = 0.25

    @classmethod
    def from_profile(cls, settings: dict) -> "EngineSettings":
        return cls(**settings.get("engine", {}))

    def launch_size(self, kind: str) -> int:
        """Rounds per launch for a kind of point; max_rounds when its rounds share one launch."""
        return self.rounds_per_launch.get(kind, 0) or self.max_rounds


def _ratio_intervals(point: Point, arms: dict[str, ArmResult], launch_of_round: list[int]
                     ) -> dict[str, stats.Interval | None]:
    """Each ratio whose two arms are measuring: its interval (over launches when there are several),
    or None before 2 rounds. A ratio with a failed arm is left out."""
    out = {}
    for ratio in point.ratios + [point.control_ratio]:
        a, b = arms.get(ratio.numerator.label), arms.get(ratio.denominator.label)
        if a is not None and b is not None and a.status == "ok" and b.status == "ok":
            out[ratio.label] = stats.ratio_interval(a.seconds_per_step, b.seconds_per_step, launch_of_round)
    return out


def widest(point: Point, ratios: dict) -> float:
    """The widest half-width (%) among the requested ratios being measured (inf before 2 rounds)."""
    return max((ratios[r.label].half_width_pct if ratios[r.label] else math.inf
                for r in point.ratios if r.label in ratios), default=0.0)


AA_OFF = 0.03  # an A/A interval entirely beyond ±3%: the two instances of one arm did not time alike
OVER_BUDGET = 2.0  # measuring took this many times the point's budget


def disturbances(result: PointResult, measuring_s: float) -> list[str]:
    """What says a point's figures may not hold: other work on the machine, an A/A control off 1 (a
    real difference between two instances of one arm, or a disturbance the rounds did not cancel), a
    budget overrun (the rounds, preparation in later launches aside, ran slower than calibrated)."""
    out = []
    if result.foreign_cpus >= machine.BUSY_FOREIGN_CPUS:
        out.append(f"busy: other work took {result.foreign_cpus:.2f} CPUs beside the workers")
    control = result.control
    if control and (control.low > 1 + AA_OFF or control.high < 1 - AA_OFF):
        out.append(f"A/A {control.estimate:.3f} [{control.low:.3f}, {control.high:.3f}] is off 1")
    if measuring_s > OVER_BUDGET * result.point.budget_s:
        out.append(f"over budget: {measuring_s:.0f} s of rounds for a budget of {result.point.budget_s:.0f} s")
    return out


def measure(point: Point, workers: Workers, settings: EngineSettings, rng: random.Random, say=print,
            slowdowns: dict[str, float] | None = None) -> PointResult:
    """Prepares, calibrates and measures the point's arms in rounds, in launches of fresh workers.
    `slowdowns` (test-only, the gate's power check) slows an arm, by label, by a known fraction."""
    started = time.monotonic()
    load = machine.LoadMeter()
    twin = point.control_twin
    all_arms = point.arms + [twin]  # the A/A twin: the control arm built again, as an instance of its own
    arms = {arm.label: ArmResult(arm) for arm in all_arms}
    arm_id = lambda arm: f"{point.name}|{arm.label}"  # noqa: E731
    per_launch = settings.launch_size(point.kind)
    launching = per_launch < settings.max_rounds  # more than one launch is planned

    built: dict[str, int] = {}  # arm id -> the worker generation it was built in
    unit_s: dict[str, float] = {}
    launch_of_round: list[int] = []
    launch, treated = 0, 0
    max_treated = max(1, round(settings.max_treated_share * settings.max_rounds))

    def fail(arm: Arm, error: WorkerError):
        arms[arm.label].status = f"error: {error}"
        say(f"    {arm.label}: {arms[arm.label].status}")

    def prepare(arm: Arm):
        worker = workers[arm.worker]
        worker.ensure_started()
        result = arms[arm.label]
        reply = worker.call({"op": "prepare", "id": arm_id(arm),
                             "arm": point.arm_spec(arm, (slowdowns or {}).get(arm.label, 0.0)),
                             "timeout_s": settings.prepare_timeout_s, "memory": result.unit_peak_mib is None},
                            settings.prepare_timeout_s + 60)
        built[arm_id(arm)] = worker.generation
        if "unit_peak_mib" in reply:
            result.unit_peak_mib, result.held_mib = reply["unit_peak_mib"], reply["held_mib"]
        if launch <= 1:
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

    def start_launch():
        """Fresh processes for every worker of the point (the first launch keeps what is running), each
        arm built again in them; the first launch also calibrates each arm's sample."""
        nonlocal launch, preparing_s
        began = time.monotonic()
        launch += 1
        if launch > 1:
            for name in {a.worker for a in all_arms}:
                workers[name].stop()
        for arm in all_arms:
            result = arms[arm.label]
            if result.status != "ok":
                continue
            if arm == twin and launch == 1 and arms[point.control.label].status != "ok":
                result.status = arms[point.control.label].status  # nothing to be the twin of
                continue
            try:
                prepare(arm)
                if launch == 1:
                    # Calibration: one more unit, timed; a sample is as many units as fill sample_s. The
                    # twin samples as its control does.
                    unit_s[arm_id(arm)] = (unit_s[arm_id(point.control)] if arm == twin
                                           else max(run(arm, 1)["seconds"], 1e-9))
                    result.units = max(1, math.ceil(point.sample_s / unit_s[arm_id(arm)]))
            except WorkerError as error:
                fail(arm, error)
        if launch > 1:
            preparing_s += time.monotonic() - began

    def stalled(values: dict[str, float]) -> bool:
        """Whether an arm of this round took stall_factor times its median so far (the calibrated unit
        stands in before two rounds)."""
        for label, value in values.items():
            result = arms[label]
            reference = result.seconds_per_step + [unit_s[arm_id(result.arm)] / result.steps_per_unit]
            if value > settings.stall_factor * statistics.median(reference):
                return True
        return False

    def run_round() -> dict[str, float] | None:
        """Every live arm once, in a fresh order: each arm's seconds per step (None: no arm is left)."""
        order = [a for a in all_arms if arms[a.label].status == "ok"]
        rng.shuffle(order)
        values = {}
        for arm in order:
            result = arms[arm.label]
            try:
                reply = run(arm, result.units)
            except WorkerError as error:
                fail(arm, error)
                continue
            values[arm.label] = reply["seconds"] / (result.units * result.steps_per_unit)
            result.peak_memory_mib = max(result.peak_memory_mib, reply["peak_memory_mib"])
            result.peak_device_memory_mib = max(result.peak_device_memory_mib, reply.get("peak_device_memory_mib", 0.0))
            if "rank_timings" in reply:
                for name, value in data_parallel.metrics(reply["rank_timings"]).items():
                    result.metrics.setdefault(name, []).append(value)
        # An arm that failed in this round is dropped; the others keep one sample per round, paired.
        return {label: v for label, v in values.items() if arms[label].status == "ok"} or None

    preparing_s = 0.0  # spent building arms again in later launches (not measuring)
    start_launch()
    rounds, in_launch, stopped, ratios = 0, 0, "max rounds", {}
    rounds_started = time.monotonic()
    unit_started = rounds_started  # of the last launch when launching, else of the last round
    while rounds < settings.max_rounds and any(arms[a.label].status == "ok" for a in all_arms):
        if in_launch == per_launch:
            unit_started = time.monotonic()
            start_launch()
            in_launch = 0
        if not launching:
            unit_started = time.monotonic()
        values = run_round()
        if values is None:
            break
        if treated < max_treated and stalled(values):
            treated += 1  # measured again, in the same launch
            continue
        for label, value in values.items():
            arms[label].seconds_per_step.append(value)
        launch_of_round.append(launch)
        rounds += 1
        in_launch += 1
        if launching and in_launch < per_launch:
            continue  # a launch is judged whole
        ratios = _ratio_intervals(point, arms, launch_of_round)
        if not any(r.label in ratios for r in point.ratios):
            stopped = "no ratios"  # every requested ratio lost an arm: more rounds measure nothing asked for
            break
        now = time.monotonic()
        spent, last = now - rounds_started, now - unit_started  # the next launch (or round) costs about `last`
        wide = widest(point, ratios)
        if rounds % 5 == 0 or launching:
            say(f"    round {rounds}" + (f" (launch {launch})" if launching else "")
                + f": widest interval ±{wide:.1f}% (target ±{settings.target_half_width_pct:g}%), "
                f"{spent:.0f} s of {point.budget_s:.0f}")
        if rounds >= settings.min_rounds and (not launching or launch >= settings.min_launches):
            if wide <= settings.target_half_width_pct:
                stopped = "target"
                break
            if spent + last > point.budget_s:
                stopped = "budget"
                break
    measuring_s = time.monotonic() - rounds_started - preparing_s
    for arm_key, generation in built.items():  # the instances still alive: a run holds many points
        worker = workers[next(a.worker for a in all_arms if arm_id(a) == arm_key)]
        if worker.process is not None and worker.generation == generation:
            try:
                worker.call({"op": "release", "id": arm_key}, 60)
            except WorkerError:
                pass
    ratios = _ratio_intervals(point, arms, launch_of_round)
    result = PointResult(point, arms, ratios, ratios.get(point.control_ratio.label), rounds,
                         time.monotonic() - started, stopped, launch_of_round, treated, load.foreign_cpus(),
                         relaunch_s=preparing_s / max(launch - 1, 1), round_s=measuring_s / max(rounds + treated, 1))
    result.disturbances = disturbances(result, measuring_s)
    for line in result.disturbances:
        say(f"    DISTURBED: {line}")
    return result


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
        aa = (f"A/A {control.estimate:.3f} [{control.low:.3f}, {control.high:.3f}]" if control else "no A/A interval")
        treated = f", {result.treated_rounds} stalled rounds re-run" if result.treated_rounds else ""
        self.say(f"    {result.rounds} rounds in {result.launches} launch{'es' if result.launches > 1 else ''}, "
                 f"{result.elapsed_s:.0f} s ({result.stopped}{treated}); widest ±{wide:.1f}%; {aa}")
