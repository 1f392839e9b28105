"""The measurement engine: paired, interleaved rounds, in launches of fresh worker processes.

A point's arms (comparisons.py) are built in the C++ worker (build/<preset>/perf/perf_worker) or the
Python one (seqpack_reference.perf.worker), warmed up (preparation and compilation time are recorded
apart), and calibrated: each arm's sample is a fixed number of units, chosen so that it lasts about
`sample_s`. Then rounds: each runs every arm once, back to back, in a fresh random order that keeps
the arms joined by a ratio together (round_order), so that whatever the machine does between rounds
hits all arms alike and cancels in their ratios, and a ratio's two samples are close in time.

Rounds come in launches: after `rounds_per_launch` rounds (by kind of point) every worker of the point
is stopped and started afresh and the arms built again, so that what a process fixes once (memory
layout, allocator state, thread placement, a compiled graph) varies between launches and shows in
the interval (stats.nested_log_interval), as pyperf spreads its values over processes. A round in
which an arm stalls (stall_factor times its median) is measured again and counted. Launches go on
until every requested ratio's 95% interval is within the target half-width, or the point's time
budget is spent (at least `min_rounds` and `min_launches` either way): adaptive, as Criterion.rs and
pyperf are. A run spreads each point's launches over its whole length (measure_in_passes: passes
over the points, a launch of each per pass), so that what moves over minutes, not only what a process
fixes, shows in every interval. The point records the other work the machine did meanwhile (machine.LoadMeter) and
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


LAYOUT_PAD = "SEQPACK_LAYOUT_PAD"
_layout_rng = random.SystemRandom()


def layout_env(env: dict) -> dict:
    """The environment a worker starts with, padded by 0-4095 bytes drawn afresh each start. The
    environment sits at the top of a process's stack, so its size sets where the stack starts; a
    fixed offset can make one build or one process a few percent faster than another for no reason
    in its code (Mytkowicz et al., "Producing wrong data without doing anything obviously wrong!",
    ASPLOS 2009). Drawn per launch, that bias becomes launch-to-launch variance, which the interval
    over launches holds, instead of a difference that no number of rounds reveals."""
    return {**env, LAYOUT_PAD: "x" * _layout_rng.randrange(4096)}


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
            self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=layout_env(self.env), stdin=subprocess.PIPE,
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
    stopped: str  # "target" | "budget" | "run budget" | "max rounds" | "no ratios" | "no arms" | "interrupted"
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
    # A run in passes (measure_in_passes) launches nothing once this many seconds have gone, but the
    # minimum launches and rounds: the time a run takes is fixed, and what is left after the points that
    # reach their target goes to those that have not (0: no deadline). It acts between launches: a kind
    # without rounds_per_launch runs all its rounds in one launch, under its point's budget alone.
    run_budget_s: float = 0.0

    def has_minimum(self, m: "PointMeasurement") -> bool:
        """Whether a point has the rounds and launches it needs before it may stop."""
        return m.rounds >= self.min_rounds and (not m.launching or m.launch >= self.min_launches)

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


class PointMeasurement:
    """One point's measurement, a launch at a time: `measure` runs its launches back to back,
    `measure_in_passes` spreads every point's launches over the whole run. Each launch starts fresh
    processes for the point's workers (the first keeps what is running), builds its arms again (the
    first also calibrates each arm's sample) and runs its rounds; after each whole launch the point may
    stop (target, budget, max rounds, no ratios; no arms when every arm failed). `slowdowns` (test-only, the gate's power check) slows
    an arm, by label, by a known fraction."""

    def __init__(self, point: Point, workers: Workers, settings: EngineSettings, rng: random.Random, say=print,
                 slowdowns: dict[str, float] | None = None):
        self.point, self.workers, self.settings, self.rng, self.say = point, workers, settings, rng, say
        self.slowdowns = slowdowns or {}
        self.twin = point.control_twin
        self.all_arms = point.arms + [self.twin]  # the A/A twin: the control arm built again, an instance of its own
        self.arms = {arm.label: ArmResult(arm) for arm in self.all_arms}
        self.per_launch = settings.launch_size(point.kind)
        self.launching = self.per_launch < settings.max_rounds  # more than one launch is planned
        self.built: dict[str, int] = {}  # arm id -> the worker generation it was built in
        self.unit_s: dict[str, float] = {}
        self.launch_of_round: list[int] = []
        self.launch = self.rounds = self.treated = 0
        self.max_treated = max(1, round(settings.max_treated_share * settings.max_rounds))
        self.ratios: dict = {}
        self.stopped = ""  # empty while the point goes on
        self.elapsed_s = self.measuring_s = self.preparing_s = 0.0  # this point's own time, over its launches
        self.foreign_cpu_s = 0.0  # other work on the machine while this point ran, CPU seconds

    def arm_id(self, arm: Arm) -> str:
        return f"{self.point.name}|{arm.label}"

    def live(self) -> list[Arm]:
        return [a for a in self.all_arms if self.arms[a.label].status == "ok"]

    def fail(self, arm: Arm, error: WorkerError):
        self.arms[arm.label].status = f"error: {error}"
        self.say(f"    {arm.label}: {self.arms[arm.label].status}")

    def prepare(self, arm: Arm):
        worker = self.workers[arm.worker]
        worker.ensure_started()
        result = self.arms[arm.label]
        timeout = self.settings.prepare_timeout_s
        reply = worker.call({"op": "prepare", "id": self.arm_id(arm),
                             "arm": self.point.arm_spec(arm, self.slowdowns.get(arm.label, 0.0)),
                             "timeout_s": timeout, "memory": result.unit_peak_mib is None}, timeout + 60)
        self.built[self.arm_id(arm)] = worker.generation
        if "unit_peak_mib" in reply:
            result.unit_peak_mib, result.held_mib = reply["unit_peak_mib"], reply["held_mib"]
        if self.launch <= 1:
            result.prepare_s += reply["prepare_s"]
        result.fill_ratio, result.samples, result.timesteps = reply["fill_ratio"], reply["samples"], reply["timesteps"]
        result.steps_per_unit = reply["steps_per_unit"]
        result.rank_fill_ratio = reply.get("rank_fill_ratio", [])

    def run(self, arm: Arm, units: int) -> dict:
        worker = self.workers[arm.worker]
        worker.ensure_started()
        if self.built.get(self.arm_id(arm)) != worker.generation:  # the worker was restarted: build it again
            self.prepare(arm)
        expected = units * self.unit_s.get(self.arm_id(arm), self.point.sample_s)
        return worker.call({"op": "run", "id": self.arm_id(arm), "units": units}, max(60.0, 20 * expected))

    def start_launch(self):
        """Fresh processes for every worker of the point (the first launch keeps what is running), each
        arm built again in them; the first launch also calibrates each arm's sample."""
        self.launch += 1
        if self.launch > 1:
            for name in {a.worker for a in self.all_arms}:
                self.workers[name].stop()
        control = self.point.control
        for arm in self.all_arms:
            result = self.arms[arm.label]
            if result.status != "ok":
                continue
            if arm == self.twin and self.launch == 1 and self.arms[control.label].status != "ok":
                result.status = self.arms[control.label].status  # nothing to be the twin of
                continue
            try:
                self.prepare(arm)
                if self.launch == 1:
                    # Calibration: one more unit, timed; a sample is as many units as fill sample_s. The
                    # twin samples as its control does.
                    self.unit_s[self.arm_id(arm)] = (self.unit_s[self.arm_id(control)] if arm == self.twin
                                                     else max(self.run(arm, 1)["seconds"], 1e-9))
                    result.units = max(1, math.ceil(self.point.sample_s / self.unit_s[self.arm_id(arm)]))
            except WorkerError as error:
                self.fail(arm, error)

    def stalled(self, values: dict[str, float]) -> bool:
        """Whether one arm of this round stalled: its time over its own median so far (the calibrated
        unit stands in before two rounds) is stall_factor times the other arms' middle one. A round
        that drift slowed as a whole is no stall: its ratios cancel it, and passes put launches in slow
        stretches on purpose (against its own median alone, a launch in a slow stretch would re-run
        its rounds and use up the re-runs that real stalls need); one arm caught by a burst is."""
        slowness = []
        for label, value in values.items():
            result = self.arms[label]
            reference = result.seconds_per_step + [self.unit_s[self.arm_id(result.arm)] / result.steps_per_unit]
            slowness.append(value / statistics.median(reference))
        slowness.sort()
        others = statistics.median(slowness[:-1]) if len(slowness) > 1 else 1.0
        return slowness[-1] > self.settings.stall_factor * others

    def round_order(self) -> list[Arm]:
        """Every live arm once, in a fresh order that keeps the arms of each ratio together: the arms
        joined by the point's requested ratios make groups, the groups come in a random order and
        each group's arms in a random order within it. A ratio's two samples are then seconds apart at
        most, not a whole round, and the machine's drift inside a round reaches them less."""
        live = self.live()
        group = {arm: arm for arm in live}  # union-find over the ratios' arms

        def root(arm):
            while group[arm] != arm:
                arm = group[arm]
            return arm
        # Not the A/A pair: the twin is an instance check, not a requested ratio, and beside its control
        # it would often follow a sample of its own process; it goes where the shuffle puts it.
        for ratio in self.point.ratios:
            if ratio.numerator in group and ratio.denominator in group:
                group[root(ratio.numerator)] = root(ratio.denominator)
        groups: dict[Arm, list[Arm]] = {}
        for arm in live:
            groups.setdefault(root(arm), []).append(arm)
        blocks = list(groups.values())
        self.rng.shuffle(blocks)
        for block in blocks:
            self.rng.shuffle(block)
        return [arm for block in blocks for arm in block]

    def run_round(self) -> dict[str, float] | None:
        """Every live arm once (round_order): each arm's seconds per step (None: no arm is left)."""
        order = self.round_order()
        values = {}
        for arm in order:
            result = self.arms[arm.label]
            try:
                reply = self.run(arm, result.units)
            except WorkerError as error:
                self.fail(arm, error)
                continue
            values[arm.label] = reply["seconds"] / (result.units * result.steps_per_unit)
            result.peak_memory_mib = max(result.peak_memory_mib, reply["peak_memory_mib"])
            result.peak_device_memory_mib = max(result.peak_device_memory_mib, reply.get("peak_device_memory_mib", 0.0))
            if "rank_timings" in reply:
                for name, value in data_parallel.metrics(reply["rank_timings"]).items():
                    result.metrics.setdefault(name, []).append(value)
        # An arm that failed in this round is dropped; the others keep one sample per round, paired.
        return {label: v for label, v in values.items() if self.arms[label].status == "ok"} or None

    def measure_launch(self):
        """One launch: fresh workers and as many rounds as a launch holds (one round at a time when the
        point does not launch), then whether the point stops."""
        began, load = time.monotonic(), machine.LoadMeter()
        try:
            self._launch_rounds()
            if self.launching and not self.stopped:
                self.release()  # the next launch builds them anew; meanwhile other points share the workers
        finally:
            wall = time.monotonic() - began
            self.elapsed_s += wall
            self.foreign_cpu_s += load.foreign_cpus() * wall

    def _launch_rounds(self):
        settings = self.settings
        if self.launch == 0 or self.launching:
            prepared = time.monotonic()
            self.start_launch()
            if self.launch > 1:
                self.preparing_s += time.monotonic() - prepared
        in_launch = 0
        while self.rounds < settings.max_rounds:
            round_started = time.monotonic()
            values = self.run_round() if self.live() else None
            if values is None:
                self.stopped = "no arms"
                return
            self.measuring_s += time.monotonic() - round_started
            if self.treated < self.max_treated and self.stalled(values):
                self.treated += 1  # measured again, in the same launch
                continue
            for label, value in values.items():
                self.arms[label].seconds_per_step.append(value)
            self.launch_of_round.append(self.launch)
            self.rounds += 1
            in_launch += 1
            if self.launching and in_launch < self.per_launch:
                continue  # a launch is judged whole
            if self.judge(last_s=time.monotonic() - round_started if not self.launching else None) or self.launching:
                return
        self.stopped = self.stopped or "max rounds"

    def judge(self, last_s: float | None) -> bool:
        """After a whole launch (or a round, when not launching): the intervals, and whether to stop."""
        point, settings = self.point, self.settings
        self.ratios = _ratio_intervals(point, self.arms, self.launch_of_round)
        if not any(r.label in self.ratios for r in point.ratios):
            self.stopped = "no ratios"  # every requested ratio lost an arm: more rounds measure nothing asked for
            return True
        spent = self.measuring_s + self.preparing_s
        next_s = last_s if last_s is not None else self.next_launch_s()  # not launching: the last round
        wide = widest(point, self.ratios)
        if self.rounds % 5 == 0 or self.launching:
            self.say(f"    {point.name}: round {self.rounds}" + (f" (launch {self.launch})" if self.launching else "")
                     + f": widest interval ±{wide:.1f}% (target ±{settings.target_half_width_pct:g}%), "
                     f"{spent:.0f} s of {point.budget_s:.0f}")
        if settings.has_minimum(self):
            if wide <= settings.target_half_width_pct:
                self.stopped = "target"
                return True
            if spent + next_s > point.budget_s:
                self.stopped = "budget"
                return True
        if self.rounds >= settings.max_rounds:
            self.stopped = "max rounds"
            return True
        return False

    def next_launch_s(self) -> float:
        """What the next launch should cost: the mean launch's rounds and a relaunch (the first launch's
        preparation, compilation and calibration, happens once)."""
        return self.measuring_s / max(self.launch, 1) + self.preparing_s / max(self.launch - 1, 1)

    def release(self):
        """Frees the point's instances still alive in running workers (a run holds many points)."""
        for arm_key, generation in self.built.items():
            worker = self.workers[next(a.worker for a in self.all_arms if self.arm_id(a) == arm_key)]
            if worker.process is not None and worker.generation == generation:
                try:
                    worker.call({"op": "release", "id": arm_key}, 60)
                except WorkerError:
                    pass
        self.built.clear()  # a later run builds them again

    def result(self) -> PointResult:
        self.release()
        ratios = _ratio_intervals(self.point, self.arms, self.launch_of_round)
        result = PointResult(self.point, self.arms, ratios, ratios.get(self.point.control_ratio.label), self.rounds,
                             self.elapsed_s, self.stopped or "max rounds", self.launch_of_round, self.treated,
                             self.foreign_cpu_s / self.elapsed_s if self.elapsed_s > 0 else 0.0,
                             relaunch_s=self.preparing_s / max(self.launch - 1, 1),
                             round_s=self.measuring_s / max(self.rounds + self.treated, 1))
        result.disturbances = disturbances(result, self.measuring_s)
        for line in result.disturbances:
            self.say(f"    DISTURBED: {line}")
        return result


def measure(point: Point, workers: Workers, settings: EngineSettings, rng: random.Random, say=print,
            slowdowns: dict[str, float] | None = None) -> PointResult:
    """A point's launches back to back, until it stops."""
    measurement = PointMeasurement(point, workers, settings, rng, say, slowdowns)
    while not measurement.stopped:
        measurement.measure_launch()
    return measurement.result()


def measure_in_passes(measurements: list[PointMeasurement], rng: random.Random, progress: "Progress",
                      finished=lambda index, result: None, after_launch=lambda index, m: None) -> list[PointResult]:
    """Every point's launches spread over the whole run: passes over the points still going, one launch
    of each per pass, in a fresh order each pass, so that what drifts over the run's length (the machine,
    the host's other tenants) enters every point's launch means and so its interval. `after_launch`
    hears of every launch, `finished` of each point as it stops; an interrupted run (an exception,
    Ctrl-C) still hands `finished` what its launched points measured, stopped as "interrupted". The
    results come back in the order given. With a run budget (EngineSettings.run_budget_s), a point that
    has its minimum launches and rounds and whose next launch (at its mean launch's cost) would end past
    the budget stops there ("run budget")."""
    results: dict[int, PointResult] = {}
    passes, last = 0, None
    began = time.monotonic()

    def out_of_time(m: PointMeasurement) -> bool:
        deadline = m.settings.run_budget_s
        if not deadline or not m.launch or not m.settings.has_minimum(m):
            return False
        return time.monotonic() - began + m.next_launch_s() > deadline

    try:
        while len(results) < len(measurements):
            passes += 1
            going = [i for i, m in enumerate(measurements) if i not in results]
            rng.shuffle(going)
            if len(going) > 1 and going[0] == last:  # while others go, no point's two launches back to back
                going[0], going[-1] = going[-1], going[0]
            for index in going:
                m = measurements[index]
                if out_of_time(m):
                    m.stopped = "run budget"
                else:
                    last = index
                    run_left = m.settings.run_budget_s - (time.monotonic() - began) if m.settings.run_budget_s else None
                    progress.launch(passes, m, measurements, run_left)
                    m.measure_launch()
                    after_launch(index, m)
                if m.stopped:
                    results[index] = m.result()
                    progress.finish(results[index])
                    finished(index, results[index])
    except BaseException:
        for index, m in enumerate(measurements):
            if index not in results and m.rounds:
                m.stopped = "interrupted"
                try:
                    finished(index, m.result())
                except BaseException:  # the first error is the one to report
                    pass
        raise
    return [results[i] for i in range(len(measurements))]


class Progress:
    """A line per launch of a run in passes (which point, how many are going, about how long is left)
    and one per point as it stops."""

    def __init__(self, points: list[Point], stream=sys.stderr):
        self.points, self.stream = points, stream

    def say(self, text: str):
        print(text, file=self.stream, flush=True)

    def launch(self, passes: int, m: PointMeasurement, measurements: list[PointMeasurement],
               run_left_s: float | None = None):
        """Before one of a point's launches in a run of passes; the time left is, for each going point, its
        budget left or its rounds left at the mean launch's cost, whichever is less, or its minimum
        launches left when that is more; at most the run budget's time left, where there is one."""
        left = minimum = 0.0
        launched = [o for o in measurements if o.launch]  # a point not yet launched: the mean launch so far
        typical = sum(o.elapsed_s for o in launched) / sum(o.launch for o in launched) if launched else None
        for other in measurements:
            if other.stopped:
                continue
            settings = other.settings
            cost = (other.elapsed_s / other.launch if other.launch else
                    typical if typical is not None else other.point.budget_s / settings.min_launches)
            by_rounds = math.ceil((settings.max_rounds - other.rounds) / other.per_launch) * cost
            by_budget = other.point.budget_s - other.measuring_s - other.preparing_s
            at_least = (settings.min_launches - other.launch) * cost if other.launching else 0.0
            left += max(min(by_budget, by_rounds), at_least, 0.0)
            minimum += max(at_least, 0.0)
        if run_left_s is not None:  # the run budget's time left, but the minimum launches run past it
            left = max(min(left, run_left_s), minimum)
        going = sum(not other.stopped for other in measurements)
        self.say(f"[pass {passes}, {going} of {len(measurements)} points going, about {left / 60:.0f} min left] "
                 f"{m.point.name}: launch {m.launch + 1}")

    def finish(self, result: PointResult):
        wide = widest(result.point, result.ratios)
        control = result.control
        aa = (f"A/A {control.estimate:.3f} [{control.low:.3f}, {control.high:.3f}]" if control else "no A/A interval")
        treated = f", {result.treated_rounds} stalled rounds re-run" if result.treated_rounds else ""
        self.say(f"    {result.point.name} done: {result.rounds} rounds in {result.launches} "
                 f"launch{'es' if result.launches > 1 else ''}, "
                 f"{result.elapsed_s:.0f} s ({result.stopped}{treated}); widest ±{wide:.1f}%; {aa}")
