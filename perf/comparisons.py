"""Every comparison the suite measures, declared once: the points of the matrix, the arms measured
at each point (side and mode), and the ratios asked of them. run_matrix.py and gate.py measure
these; report.py reads the results by the same names.

A point's arms run in paired, interleaved rounds (engine.py). Each point also measures one arm twice
as if it were two (the A/A control, mode "<mode> (A/A)"): its ratio must come out as no difference.
"""
from __future__ import annotations

import dataclasses
import json

from seqpack_paths import PERF_DIR, read_distributions

STEP_PATHS = ("padded", "packed", "segmented", "stepwise")  # C++: padded, PyTorch's packed LSTM, seqpack's two
# A model's training step also runs padding_free (every layer on the real timesteps, its LSTMs stepwise:
# perf/lib/workloads.cpp). The LSTM alone (lstm_step) and the gate's points keep STEP_PATHS.
MODEL_STEP_PATHS = STEP_PATHS + ("padding_free",)
# seqpack's stepwise LSTM runs on the CPU only (impl/src/models/stepwise_lstm.cpp refuses other data), and
# padding_free runs its LSTMs stepwise: on a GPU the C++ step has padded, packed (cuDNN's) and segmented.
CPU_ONLY_PATHS = ("stepwise", "padding_free")  # the compiled forward's package is exported for the CPU too
GROUPING_PATHS = ("padded", "packed", "padding_free")  # each cut into random and length-grouped batches
PYTHON_EAGER = ("padded_eager", "packed_eager")
PYTHON_COMPILED = ("padded_compile", "packed_compile", "packed_compile_disable")
# PyTorch's own padding-free step (seqpack_reference/perf/jagged_peer.py), eager and compiled: the
# peer of seqpack's padding_free, where a profile's "python_jagged" asks for it.
PYTHON_JAGGED = ("jagged_eager", "jagged_compile")
AA_SUFFIX = " (A/A)"
KINDS = ("step", "lstm_step", "forward", "grouping", "data_parallel", "primitive")  # in measuring order
# Data parallel (docs/data-parallel.md): each path under each sampler across ranks
# (seqpack_reference.batching.RANK_SAMPLERS), on 1 rank and on several.
DATA_PARALLEL_CPP_PATHS = ("padded", "packed", "padding_free")
DATA_PARALLEL_PYTHON_PATHS = ("padded_eager", "packed_eager")


PRECISIONS = ("float32", "bfloat16", "float16")  # float32, or autocast to the 16-bit type (float16 with a
# gradient scaler), as seqpack/precision.h and torch.autocast run them
DEFAULT_PRECISION = PRECISIONS[0]


@dataclasses.dataclass(frozen=True)
class Arm:
    side: str  # cpp | python
    mode: str
    ranks: int = 0  # a data-parallel arm's process count (a worker group); 0: the side's single worker
    precision: str = DEFAULT_PRECISION
    build: str = ""  # "": this checkout's; "base": the regression gate's base commit (gate.py)

    @property
    def label(self) -> str:
        return (f"{self.side} {self.mode}" + precision_suffix(self.precision)
                + (f" x{self.ranks}" if self.ranks else "") + (f" @{self.build}" if self.build else ""))

    @property
    def worker(self) -> str:
        """Which worker runs it: the side's (of another build: "cpp@base"), or the side's group of `ranks`
        processes."""
        side = f"{self.side}@{self.build}" if self.build else self.side
        return f"{side} x{self.ranks}" if self.ranks else side


def precision_suffix(precision: str | None) -> str:
    """How a label names an arm's precision: nothing for float32 (every arm before precisions had one)."""
    return f" {precision}" if precision and precision != DEFAULT_PRECISION else ""


@dataclasses.dataclass(frozen=True)
class Ratio:
    """numerator it/s / denominator it/s: above 1 means the numerator is faster."""
    numerator: Arm
    denominator: Arm

    @property
    def label(self) -> str:
        return f"{self.numerator.label} / {self.denominator.label}"


@dataclasses.dataclass
class Point:
    kind: str  # step | lstm_step | forward | grouping | primitive
    what: str  # the model, "lstm", or "ops" (a primitive point: its arms' modes name the primitives)
    distribution: str
    batch: int
    encoder_steps: int
    decoder_steps: int
    arms: list[Arm]
    ratios: list[Ratio]  # the ones the rounds go on for, until each is precise enough
    control: Arm  # measured twice: the A/A control
    budget_s: float
    sample_s: float  # how long one arm's sample lasts (calibrated in units)
    device: str = "cpu"  # where every arm runs: "cpu" or "cuda:N" (run_matrix.py --device)
    model_params: dict = dataclasses.field(default_factory=dict)  # hyperparameters over profiles.json's "model"

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.what}/{self.distribution}/{self.batch}/{self.encoder_steps}"

    @property
    def control_twin(self) -> Arm:
        return dataclasses.replace(self.control, mode=self.control.mode + AA_SUFFIX)

    @property
    def control_ratio(self) -> Ratio:
        return Ratio(self.control_twin, self.control)

    def arm_spec(self, arm: Arm, slowdown: float = 0.0) -> dict:
        """What a worker builds for this arm (perf/lib/workloads.h, ArmSpec)."""
        mode = arm.mode.removesuffix(AA_SUFFIX)
        what = self.what
        if self.kind == "primitive":  # a primitive point's arms are the primitives: the mode names one
            what, mode = mode, "-"
        return {"kind": self.kind, "what": what, "mode": mode,
                "distribution": self.distribution, "batch": self.batch, "encoder_steps": self.encoder_steps,
                "decoder_steps": self.decoder_steps, "slowdown": slowdown, "device": self.device,
                "precision": arm.precision, "model_params": dict(self.model_params)}


def cpp(mode: str) -> Arm:
    return Arm("cpp", mode)


def python(mode: str) -> Arm:
    return Arm("python", mode)


def over_padded(arms, padded: Arm) -> list[Ratio]:
    return [Ratio(a, padded) for a in arms if a != padded]


def model_spec(model: str):
    """The reference's descriptor of a model (seqpack_reference.models.registry): its family ("lstm": the
    packed paths; "tft": padded only) and whether it can run under float16 autocast."""
    from seqpack_reference.models.registry import MODEL_SPECS
    if "model." + model not in MODEL_SPECS:
        raise SystemExit(f"no model {model!r} in seqpack_reference.models.registry")
    return MODEL_SPECS["model." + model]


def model_family(model: str) -> str:
    return model_spec(model).family


def model_precisions(model: str, precisions: list[str]) -> list[str]:
    """The device's precisions this model can train in (float16 only without -1e9 attention masks)."""
    return [p for p in precisions if p != "float16" or model_spec(model).float16_autocast]


def lower_precision_twins(arms: list[Arm], twins: list[Arm], precisions) -> tuple[list[Arm], list[Ratio]]:
    """Each of `twins` again in every precision but float32, and each such arm over its float32 twin:
    what autocast buys on this path."""
    extra, ratios = [], []
    for precision in precisions:
        if precision == DEFAULT_PRECISION:
            continue
        for arm in twins:
            if arm in arms:
                low = dataclasses.replace(arm, precision=precision)
                extra.append(low)
                ratios.append(Ratio(low, arm))
        ratios.append(Ratio(Arm("cpp", "padded", precision=precision), Arm("python", "padded_eager", precision=precision)))
    return extra, ratios


def step_comparison(model: str, compiled: bool, python_eager: bool = True, precisions=(DEFAULT_PRECISION,),
                    family: str = "lstm", jagged: bool = False) -> tuple[list[Arm], list[Ratio]]:
    """A training step: C++'s paths against each other and against PyTorch's own modes, and the padded
    paths again in each lower precision. The TFT family runs padded only (its LSTMs never pack). Without
    the Python eager arms (a profile's "python_eager": false), the ratios that need them are left out."""
    lstm = family == "lstm"
    cpp_paths = MODEL_STEP_PATHS if lstm else ("padded",)
    arms = [cpp(p) for p in cpp_paths]
    if python_eager:
        arms += [python(m) for m in (PYTHON_EAGER if lstm else PYTHON_EAGER[:1])]
    ratios = over_padded([cpp(p) for p in cpp_paths], cpp("padded"))
    ratios += [Ratio(cpp("padding_free"), cpp("stepwise")),  # all layers on the real steps, or only the LSTMs
               Ratio(cpp("padded"), python("padded_eager")), Ratio(cpp("packed"), python("packed_eager"))]
    if compiled:
        arms += [python(m) for m in (PYTHON_COMPILED if lstm else PYTHON_COMPILED[:1])]
        ratios += [Ratio(python("padded_compile"), python("padded_eager")),
                   Ratio(python("packed_compile_disable"), python("packed_eager")),
                   Ratio(python("packed_eager"), python("padded_compile")),
                   Ratio(python("packed_compile_disable"), python("padded_compile")),
                   Ratio(cpp("padded"), python("padded_compile")),
                   Ratio(cpp("packed"), python("packed_compile_disable")),
                   Ratio(cpp("padding_free"), python("padded_compile"))]
    if jagged and lstm:
        arms += [python(m) for m in PYTHON_JAGGED]
        ratios += [Ratio(cpp("padding_free"), python(m)) for m in PYTHON_JAGGED]
        ratios += [Ratio(python("jagged_compile"), python("jagged_eager")),
                   Ratio(python("jagged_eager"), python("padded_eager")),
                   Ratio(python("jagged_compile"), python("padded_compile"))]
    twins = [cpp("padded"), cpp("padding_free"), python("padded_eager"), python("padded_compile")]
    extra, precision_ratios = lower_precision_twins(arms, twins, precisions)
    arms += extra
    ratios += precision_ratios
    return arms, [r for r in ratios if r.numerator in arms and r.denominator in arms]


def forward_comparison(family: str, precisions=(DEFAULT_PRECISION,), python_compiled: bool = True
                       ) -> tuple[list[Arm], list[Ratio]]:
    """Inference: eager padded (and packed, LSTM family), the AOTInductor package of the padded forward
    (LSTM family: seqpack_reference.compiled.export --perf), PyTorch eager and (unless python_compiled
    is false) torch.compile; the padded arms again in each lower precision."""
    lstm = family == "lstm"
    arms = [cpp("padded")] + ([cpp("packed"), cpp("compiled")] if lstm else [])
    arms += [python("padded_eager")] + ([python("padded_compile")] if python_compiled else [])
    ratios = [Ratio(cpp("compiled"), cpp("padded")), Ratio(cpp("packed"), cpp("padded")),
              Ratio(cpp("padded"), python("padded_eager")), Ratio(cpp("compiled"), python("padded_compile")),
              Ratio(cpp("padded"), python("padded_compile")),
              Ratio(python("padded_compile"), python("padded_eager"))]
    extra, precision_ratios = lower_precision_twins(arms, [cpp("padded"), python("padded_eager")], precisions)
    arms += extra
    ratios += precision_ratios
    return arms, [r for r in ratios if r.numerator in arms and r.denominator in arms]


def device_precisions(settings: dict, device: str) -> list[str]:
    """The precisions a profile measures on this device's type (profiles.json "precisions"; float32 alone
    when it names none)."""
    wanted = settings.get("precisions", {}).get(device.split(":")[0], [DEFAULT_PRECISION])
    unknown = [p for p in wanted if p not in PRECISIONS]
    if unknown:
        raise SystemExit(f"profile precisions: {unknown} are not among {list(PRECISIONS)}")
    return wanted


def points(settings: dict, device: str = "cpu") -> list[Point]:
    """The profile's points on `device`, in the order they are measured (one model's points together,
    so that the Python worker keeps one model's compiled graphs at a time). A model's points take its
    own batch sizes and distributions where the profile gives them ("batch_sizes_by_model",
    "distributions_by_model") and its hyperparameters from "model_params" (the profile's, else
    profiles.json's shared entry)."""
    distributions = [d["name"] for d in read_distributions()]
    te, td = settings["encoder_steps"], settings["decoder_steps"]
    budget, sample = settings["budget_s"], settings["sample_s"]
    precisions = device_precisions(settings, device)
    out = []

    def runs_here(arm: Arm) -> bool:
        return device == "cpu" or arm.side != "cpp" or not any(
            arm.mode == path or arm.mode.startswith(path + "_") for path in CPU_ONLY_PATHS + ("compiled",))

    def add(kind, what, batches, arms, ratios, control):
        params = settings.get("model_params", {}).get(what, shared_model_params().get(what, {}))
        arms = [a for a in arms if runs_here(a)]
        ratios = [r for r in ratios if runs_here(r.numerator) and runs_here(r.denominator)]
        for batch in batches:
            for d in settings.get("distributions_by_model", {}).get(what, distributions):
                out.append(Point(kind, what, d, batch, te, td, list(arms), list(ratios), control, budget[kind],
                                 sample[kind], device, dict(params)))

    def batches_of(model: str, key: str) -> list[int]:
        return settings.get("batch_sizes_by_model", {}).get(model, settings.get(key, []))

    for model in settings.get("step_models", []):
        compiled_batches = settings.get("python_compiled", {}).get(model, [])
        jagged_batches = settings.get("python_jagged", {}).get(model, [])
        for batch in batches_of(model, "step_batch_sizes"):
            arms, ratios = step_comparison(model, batch in compiled_batches, settings.get("python_eager", True),
                                           model_precisions(model, precisions), model_family(model),
                                           batch in jagged_batches)
            add("step", model, [batch], arms, ratios, cpp("padded"))
    lstm = [cpp(p) for p in STEP_PATHS]
    add("lstm_step", "lstm", settings.get("lstm_step_batch_sizes", []), lstm, over_padded(lstm, cpp("padded")),
        cpp("padded"))
    for model in settings.get("forward_models", []):
        # The TFT family's torch.compile takes minutes on a CPU: its forward compiles only at the
        # batch sizes the profile compiles its step at.
        family = model_family(model)
        compiled_batches = settings.get("python_compiled", {}).get(model, [])
        for batch in batches_of(model, "forward_batch_sizes"):
            arms, ratios = forward_comparison(family, model_precisions(model, precisions),
                                              family == "lstm" or batch in compiled_batches)
            if not settings.get("cpp_compiled_forward", True):  # a package holds the quick profile's T
                arms = [a for a in arms if a != cpp("compiled")]
                ratios = [r for r in ratios if cpp("compiled") not in (r.numerator, r.denominator)]
            add("forward", model, [batch], arms, ratios, cpp("padded"))
    for model in settings.get("grouping_models", []):
        arms = [cpp(f"{p}_{cut}") for p in GROUPING_PATHS for cut in ("random", "grouped")]
        ratios = [Ratio(cpp("padded_grouped"), cpp("padded_random")),
                  Ratio(cpp("packed_grouped"), cpp("packed_random")),
                  Ratio(cpp("packed_random"), cpp("padded_random")),
                  Ratio(cpp("packed_grouped"), cpp("padded_grouped")),
                  Ratio(cpp("padding_free_grouped"), cpp("padded_grouped")),
                  Ratio(cpp("padding_free_random"), cpp("padded_random")),
                  Ratio(cpp("padding_free_grouped"), cpp("padding_free_random"))]
        add("grouping", model, settings.get("grouping_batch_sizes", []), arms, ratios, cpp("padded_random"))
    add_data_parallel(out, settings, distributions)
    add_primitives(out, settings, distributions)
    return out


def data_parallel_comparison(ranks: list[int], samplers: tuple[str, ...], python_paths: tuple[str, ...]
                             ) -> tuple[list[Arm], list[Ratio]]:
    """Every path under every sampler on the most ranks, and under random batches on fewer (the
    scaling: a rank's batches are the same size whatever the rank count). Ratios at the most ranks:
    each sampler against random batches, each path against padded; and each path's most ranks
    against one rank."""
    top = max(ranks)
    arms = []
    for r in ranks:
        for sampler in (samplers if r == top else ("random",)):
            arms += [Arm("cpp", f"{p}_{sampler}", r) for p in DATA_PARALLEL_CPP_PATHS]
            arms += [Arm("python", f"{p}_{sampler}", r) for p in python_paths]
    ratios = []
    for side, paths in (("cpp", DATA_PARALLEL_CPP_PATHS), ("python", python_paths)):
        for path in paths:
            ratios += [Ratio(Arm(side, f"{path}_{s}", top), Arm(side, f"{path}_random", top))
                       for s in samplers if s != "random"]
            ratios.append(Ratio(Arm(side, f"{path}_grouped_global", top), Arm(side, f"{path}_grouped_per_rank", top)))
            if top > 1:
                ratios.append(Ratio(Arm(side, f"{path}_random", top), Arm(side, f"{path}_random", 1)))
        for sampler in samplers:
            ratios += [Ratio(Arm(side, f"{p}_{sampler}", top), Arm(side, f"{paths[0]}_{sampler}", top))
                       for p in paths[1:]]
    for sampler in samplers:  # seqpack's padding-free step against PyTorch's DDP, padded (eager, compiled)
        ratios += [Ratio(Arm("cpp", f"padding_free_{sampler}", top), Arm("python", f"{p}_{sampler}", top))
                   for p in ("padded_eager", "padded_compile")]
    return arms, [r for r in ratios if r.numerator in arms and r.denominator in arms]


def add_data_parallel(out: list[Point], settings: dict, distributions: list[str]):
    """A point per model, batch per rank and distribution, if the profile names data_parallel_models."""
    from seqpack_reference.batching import RANK_SAMPLERS  # the samplers' names, declared with them
    ranks = settings.get("data_parallel_ranks", [1, 2])
    python_paths = DATA_PARALLEL_PYTHON_PATHS + tuple(settings.get("data_parallel_python_compiled", []))
    arms, ratios = data_parallel_comparison(ranks, RANK_SAMPLERS, python_paths)
    control = Arm("cpp", "padded_random", max(ranks))
    for model in settings.get("data_parallel_models", []):
        for batch in settings.get("data_parallel_batch_sizes", []):
            for d in settings.get("data_parallel_distributions", distributions):
                out.append(Point("data_parallel", model, d, batch, settings["encoder_steps"],
                                 settings["decoder_steps"], list(arms), list(ratios), control,
                                 settings["budget_s"]["data_parallel"], settings["sample_s"]["data_parallel"]))


# C++ primitives (perf/lib/primitives.cpp) measured at each primitive point, and the original's
# Python ones (reference/seqpack_reference/perf/workloads.py).
CPP_PRIMITIVES = ("align_explicit", "align_auto", "pack", "align_then_pack", "align_pack_fused", "unpack",
                  "create_mask", "get_attention_mask", "loss_mse", "loss_mae", "loss_huber", "loss_mape", "loss_smape",
                  "loss_quantile", "collate", "collate_auto")
PYTHON_PRIMITIVES = ("align_auto", "collate")
PRIMITIVE_RATIOS = [
    Ratio(cpp("align_auto"), python("align_auto")),          # one gather against the original's row loop
    Ratio(cpp("collate"), python("collate")),                # seqpack's collate against the original's
    Ratio(cpp("align_pack_fused"), cpp("align_then_pack")),  # one gather against two and a copy
    Ratio(cpp("collate"), cpp("collate_auto")),              # the explicit source against the original's guess
]


def add_primitives(out: list[Point], settings: dict, distributions: list[str]):
    """A point per distribution (those of "distributions_by_model"'s "ops", if given), B and T: every
    primitive of both sides, the four ratios."""
    arms = [cpp(p) for p in CPP_PRIMITIVES] + [python(p) for p in PYTHON_PRIMITIVES]
    for batch in settings.get("primitive_batch_sizes", []):
        for steps in settings.get("primitive_steps", []):
            for d in settings.get("distributions_by_model", {}).get("ops", distributions):
                out.append(Point("primitive", "ops", d, batch, steps, 0, arms, list(PRIMITIVE_RATIOS),
                                 cpp("align_explicit"), settings["budget_s"]["primitive"],
                                 settings["sample_s"]["primitive"]))


def gate_points(settings: dict) -> list[Point]:
    """The regression gate's workloads (profiles.json "gate": "workloads"), each arm measured in this
    checkout's build and in the base commit's, side by side: the ratios are head / base."""
    out = []
    for w in settings["workloads"]:
        head = [cpp(m) for m in w.get("cpp", [])] + [python(m) for m in w.get("python", [])]
        base = [dataclasses.replace(a, build="base") for a in head]
        # The base's workers hold what the head's do, the A/A twin of the control included: with the
        # twin on the head's side only, the head ran its control twice a round and it timed 1.05-1.08x
        # the base's in idle A/A checks; in a worker of its own, the twin ran 1.11x its control.
        control = cpp("padded")
        base_twin = dataclasses.replace(control, mode=control.mode + AA_SUFFIX, build="base")
        params = settings.get("model_params", {}).get(w["model"], shared_model_params().get(w["model"], {}))
        out.append(Point("step", w["model"], w["distribution"], settings["batch"], settings["encoder_steps"],
                         settings["decoder_steps"], head + base + [base_twin], [Ratio(h, b) for h, b in zip(head, base)],
                         control, settings["budget_s"]["step"], settings["sample_s"]["step"],
                         model_params=dict(params)))
    return out


NOT_PROFILES = ("model", "model_params")  # profiles.json's entries that every profile shares


def shared_model_params() -> dict:
    """profiles.json's "model_params": each model's hyperparameters in every profile (the TFT family's
    sample configuration), unless a profile's own "model_params" names the model."""
    return json.loads((PERF_DIR / "profiles.json").read_text())["model_params"]


def load_profile(name: str, device: str = "cpu") -> dict:
    """A profile's settings on `device`: its "device_overrides" for the device's type (cpu, cuda), if any,
    replace the settings they name."""
    profiles = json.loads((PERF_DIR / "profiles.json").read_text())
    if name not in profiles or name in NOT_PROFILES:
        raise SystemExit(f"no profile {name!r} in perf/profiles.json (one of {sorted(set(profiles) - set(NOT_PROFILES))})")
    settings = dict(profiles[name])
    return {**settings, **settings.pop("device_overrides", {}).get(device.split(":")[0], {})}
