"""The Python data-parallel worker: the training step of a model under PyTorch's
DistributedDataParallel (gloo), one process per rank, started by torchrun. Its C++ twin is
perf/worker/ddp_worker.cpp; both are described in docs/data-parallel.md.

    python -m torch.distributed.run --standalone --nproc-per-node R -m seqpack_reference.perf.ddp_worker

Rank 0 speaks the comparison engine's worker protocol (worker.py) on stdin and stdout and hands each
request to the other ranks through the rendezvous store; every rank runs it, rank 0 answers for all.
A run's answer carries every rank's per-step times (rank_timings), from which perf/data_parallel.py
computes the straggler waste.

    python -m seqpack_reference.perf.ddp_worker --equivalence OUT --model M --path padded|packed --steps N
        [--as-ranks R]

trains N steps of the model's small float64 configuration (dropout off, unmasked MSE) on R ranks under
torchrun, or in one process on the concatenation of the R ranks' shards (--as-ranks R), and writes the
final parameters to OUT (safetensors): DDP's averaging promises they are the same.

Every way out of a rank (the coordinator gone, the equivalence written, an error) tears the gloo group
down before the interpreter exits (Group.close): DDP modules first, then a barrier on a clean end, then
destroy_process_group, after which no gloo thread is left running.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import sys
import time

import torch
import torch.distributed as dist
# Imported before any process group exists, on purpose: torch.distributed.nn.functional binds
# group.WORLD as a default argument of its functions when it is first imported, and DDP imports it
# (through torch.distributed._shard) when it is built. Imported after init_process_group, it would keep
# the gloo group alive for good, so that destroy_process_group() could never end its threads (see
# Group.close).
import torch.distributed.nn  # noqa: F401
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
from torch.nn.parallel import DistributedDataParallel

from .. import batching, losses
from ..models import MODEL_SPECS, lstm_family
from ..models.registry import small_params
from .distributions import batch_decoder_lengths, batch_lengths, read_distributions, resolve
from .workloads import MODES, PERF_DIR, ModelSetup, peak_memory_mib, reset_peak_memory

IDLE_WAIT = datetime.timedelta(seconds=30)  # a rank waiting for the next request asks again this often
OTHER_RANK_FAILED = "another rank failed"  # what the ranks that did not fail answer


def _timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(os.environ.get("SEQPACK_DDP_TIMEOUT_S", "120")))


def split_mode(mode: str) -> tuple[str, str]:
    """"packed_compile_disable_grouped_global" -> ("packed_compile_disable", "grouped_global")."""
    for sampler in batching.RANK_SAMPLERS:
        if mode.endswith("_" + sampler) and mode[:-len(sampler) - 1] in MODES:
            return mode[:-len(sampler) - 1], sampler
    raise ValueError(f"arm mode: data_parallel runs <{'|'.join(MODES)}>_<{'|'.join(batching.RANK_SAMPLERS)}>, "
                     f"not {mode!r}")


def windows(encoder_lengths, te, decoder_lengths, td, features, future_features, dtype=torch.float32, seed=0):
    """The data set's windows as the original's data set yields them: encoder right-aligned in te steps,
    decoder and target left-aligned in td, lengths of one element (perf/lib/bench_support.h, windows)."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for enc, dec in zip(encoder_lengths, decoder_lengths):
        encoder = torch.zeros(te, features, dtype=dtype)
        encoder[te - enc:] = torch.randn(enc, features, generator=generator, dtype=dtype)
        decoder = torch.zeros(td, future_features, dtype=dtype)
        decoder[:dec] = torch.randn(dec, future_features, generator=generator, dtype=dtype)
        target = torch.zeros(td, 1, dtype=dtype)
        target[:dec] = torch.randn(dec, 1, generator=generator, dtype=dtype)
        out.append({"encoder_input": encoder, "decoder_input": decoder, "target": target,
                    "encoder_lengths": torch.tensor([enc]), "decoder_lengths": torch.tensor([dec])})
    return out


def shard_batch(samples, members, window=None):
    """One rank's batch: its samples collated to their own longest lengths, encoders left-aligned;
    with window = (te, td), zero-padded back to the whole window (so that a row's padded-path output
    does not depend on the rows it is batched with)."""
    b = batching.collate([samples[i] for i in members], encoder_alignment="left", sample_alignment="right")
    parts = [b["encoder_input"], b["decoder_input"], b["target"]]
    if window is not None:
        steps = (window[0], window[1], window[1])
        parts = [torch.nn.functional.pad(x, (0, 0, 0, t - x.shape[1])) for x, t in zip(parts, steps)]
    return parts[0], parts[1], b["encoder_lengths"].reshape(-1), b["decoder_lengths"].reshape(-1), parts[2]


class Group:
    """This process's rank, the store the ranks share and the gloo process group."""

    def __init__(self):
        self.rank, self.ranks = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"  # torchrun's agent hosts the store
        base = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), self.ranks,
                             is_master=self.rank == 0 and not agent, timeout=_timeout(), wait_for_workers=False)
        self.store = dist.PrefixStore("seqpack_ddp/", base)
        dist.init_process_group("gloo", store=dist.PrefixStore("seqpack_pg/", base), rank=self.rank,
                                world_size=self.ranks, timeout=_timeout())

    def close(self, clean: bool):
        """Tear the gloo group down now, in order, instead of leaving it to the process's exit. The
        caller has dropped its DDP modules first (their reducers hold the group). On a clean end the
        ranks first meet at a barrier: no rank closes its connections while another is still in a
        collective with it. destroy_process_group() then drops torch's own references and gc the cycles,
        so the group's last reference goes here: ~ProcessGroupGloo drains its queue and joins its
        threads (two run loops and the tcp event loop). Left alive, those threads ran on through the
        interpreter's finalization and the C++ static destructors, where the peer's exit wakes them:
        under load, a rank then sometimes aborted at exit ("terminate called without an active
        exception", SIGABRT) after its work had succeeded. A failed rank skips the barrier (the
        others may be gone); closing its connections lets the others fail at once instead of at the
        timeout."""
        try:
            if clean:
                dist.barrier()
        finally:
            if "torch._dynamo" in sys.modules:
                torch._dynamo.reset()  # a compiled mode's caches hold its DDP module
            dist.destroy_process_group()
            gc.collect()  # DDP modules in reference cycles
            left = gloo_threads()
            if left:  # something still holds the group: its threads will meet the interpreter's exit
                print(f"ddp_worker: rank {self.rank}: the gloo group outlived destroy_process_group "
                      f"({', '.join(left)} still running)", file=sys.stderr, flush=True)

    def wait_for(self, key: str) -> str:
        while True:  # idle for as long as the coordinator measures other arms
            try:
                self.store.wait([key], IDLE_WAIT)
                return self.store.get(key).decode()
            except dist.DistStoreError as error:
                if "timeout" not in str(error).lower():
                    raise


def gloo_threads() -> list[str]:
    """The names of this process's gloo threads (pt_gloo_runloop, gloo_tcp_loop), from /proc."""
    names = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return names
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/comm") as f:
                name = f.read().strip()
        except OSError:  # a thread that ended meanwhile
            continue
        if "gloo" in name:
            names.append(name)
    return sorted(names)


class Timing:
    """DDP's default all-reduce, noting when the rank's last gradient bucket became ready."""

    def __init__(self):
        self.ready = 0.0

    @staticmethod
    def hook(state: "Timing", bucket):
        state.ready = time.perf_counter()
        return default_hooks.allreduce_hook(None, bucket)


def all_ranks_ready(error: Exception | None):
    """Every rank says whether its own part went well before any rank enters a collective that a
    failed rank would never join (and the others would wait for until the timeout)."""
    failed = torch.tensor([0 if error is None else 1])
    dist.all_reduce(failed)
    if error is not None:
        raise error
    if failed.item():
        raise RuntimeError(OTHER_RANK_FAILED)


class DataParallelModel:
    """A model in one mode under DDP, with its optimiser: built once per group and kept across the
    arms and points that run it (as worker.py keeps its ModelSetups), so that a compiled mode
    compiles once."""

    def __init__(self, model: str, mode: str, model_settings: dict):
        self.timing = Timing()

        def data_parallel(module):
            ddp = DistributedDataParallel(module)  # broadcasts rank 0's parameters
            ddp.register_comm_hook(self.timing, Timing.hook)
            return ddp
        self.setup = ModelSetup("step", model, mode, model_settings, wrap=data_parallel)


class DataParallelArm:
    """One arm: this rank's shards of an epoch's batches, and the model that trains on them."""

    def __init__(self, arm: dict, group: Group, model_settings: dict, distributions: dict, settings: dict,
                 models: dict, fail: bool = False):
        error = None
        try:
            if fail:
                raise RuntimeError("failing on purpose (SEQPACK_DDP_FAIL_AT=prepare)")
            self.shard(arm, group, model_settings, distributions, settings)
        except Exception as caught:
            error = caught
        all_ranks_ready(error)
        key = (arm["what"], self.path)
        if key not in models:
            if any(k[0] != arm["what"] for k in models):
                models.clear()  # one model's graphs at a time, as worker.py
                torch._dynamo.reset()
            models[key] = DataParallelModel(arm["what"], self.path, model_settings)
        self.model = models[key]
        self.run(1)  # warm-up, and any compilation

    def shard(self, arm: dict, group: Group, model_settings: dict, distributions: dict, settings: dict):
        """This rank's own part: the arm checked, the data set, the plan and this rank's batches."""
        distribution = resolve(arm["distribution"], distributions, PERF_DIR.parent)
        path, sampler = split_mode(arm["mode"])
        b, te, td = arm["batch"], arm["encoder_steps"], arm["decoder_steps"]
        steps = int(settings.get("data_parallel_steps", 8))
        size = b * group.ranks * steps
        encoder_lengths = batch_lengths(distribution, size, te, 1)
        decoder_lengths = batch_decoder_lengths(distribution, size, td, 2)
        samples = windows(encoder_lengths, te, decoder_lengths, td, model_settings["num_past_features"],
                          model_settings["num_future_features"])
        plan, rank_fill, fill = batching.rank_batches(torch.tensor(encoder_lengths), group.ranks, b, sampler, seed=0)
        self.batches = [shard_batch(samples, shards[group.rank]) for shards in plan]
        if "model." + arm["what"] not in MODEL_SPECS:
            raise ValueError(f"arm what: no model {arm['what']!r}")
        self.path = path
        self.fill_ratio, self.rank_fill_ratio = fill, rank_fill
        self.samples = size
        self.timesteps = sum(encoder_lengths) + sum(decoder_lengths)
        self.steps_per_unit = steps

    def step(self, past, future, enc, dec, target) -> tuple[float, float, float]:
        setup, timing = self.model.setup, self.model.timing
        lstm_family.PACKING = setup.packing
        start = time.perf_counter()
        setup.optimizer.zero_grad()
        loss = losses.calc_loss(setup.forward(past, future, enc, dec), target, dec, **setup.criterion)
        loss.backward()  # returns once DDP's all-reduce has averaged the gradients
        averaged = time.perf_counter()
        setup.optimizer.step()
        end = time.perf_counter()
        return timing.ready - start, averaged - timing.ready, end - start

    def run(self, units: int) -> dict:
        times = {"compute": [], "wait": [], "step": []}
        for _ in range(units):
            for batch in self.batches:
                compute, wait, step = self.step(*batch)
                times["compute"].append(compute)
                times["wait"].append(wait)
                times["step"].append(step)
        return times


class Worker:
    def __init__(self, group: Group):
        self.group = group
        profiles = json.loads((PERF_DIR / "profiles.json").read_text())
        self.model_settings = profiles["model"]
        self.settings = profiles.get(os.environ.get("SEQPACK_PROFILE", "quick"), {})
        self.distributions = {d["name"]: d for d in read_distributions(PERF_DIR / "distributions.csv")}
        self.arms, self.models = {}, {}
        self.fail_rank = int(os.environ.get("SEQPACK_DDP_FAIL_RANK", "-1"))  # test-only failure injection
        self.fail_at = os.environ.get("SEQPACK_DDP_FAIL_AT", "")

    def release(self):
        """Drops every arm and model (the DDP modules, which hold the process group)."""
        self.arms.clear()
        self.models.clear()

    def answer(self, request: dict) -> dict:
        op = request["op"]
        failing = self.group.rank == self.fail_rank
        if op == "info":
            return {"ok": True, "side": "python", "threads": torch.get_num_threads(), "pid": os.getpid(),
                    "torch": torch.__version__, "ranks": self.group.ranks}
        if op not in ("prepare", "run", "release"):
            return {"ok": False, "error": f"no op {op!r}"}
        arm_id = request["id"]
        if op == "prepare":
            arm = request["arm"]
            if arm["kind"] != "data_parallel":
                raise ValueError(f"arm kind: the data-parallel worker runs data_parallel, not {arm['kind']!r}")
            if arm.get("device", "cpu") != "cpu":
                raise ValueError(f'device: the data-parallel worker runs on the CPU only (gloo), not "{arm["device"]}"')
            start = time.perf_counter()
            built = DataParallelArm(arm, self.group, self.model_settings, self.distributions, self.settings,
                                    self.models, fail=failing and self.fail_at == "prepare")
            self.arms[arm_id] = built
            return {"ok": True, "prepare_s": time.perf_counter() - start, "fill_ratio": built.fill_ratio,
                    "samples": built.samples, "timesteps": built.timesteps, "steps_per_unit": built.steps_per_unit,
                    "rank_fill_ratio": built.rank_fill_ratio}
        if arm_id not in self.arms:
            return {"ok": False, "error": f"no prepared arm {arm_id!r}"}
        if op == "run":
            if failing and self.fail_at == "exit":
                os._exit(3)  # a rank that dies: torchrun stops the group
            units = int(request["units"])
            if units < 1:
                return {"ok": False, "error": "units must be at least 1"}
            reset_peak_memory()
            start = time.perf_counter()
            times = self.arms[arm_id].run(units)
            return {"ok": True, "seconds": time.perf_counter() - start, "peak_memory_mib": peak_memory_mib(),
                    "timings": times}
        del self.arms[arm_id]  # release
        return {"ok": True}


def merged(op: str, replies: list[dict]) -> dict:
    """Rank 0's answer for all ranks: the failure of the lowest rank that failed on its own (not
    because another did), or rank 0's reply with every rank's part."""
    failed = [(rank, r.get("error", "failed")) for rank, r in enumerate(replies) if not r.get("ok")]
    if failed:
        rank, error = next(((k, e) for k, e in failed if OTHER_RANK_FAILED not in e), failed[0])
        return {"ok": False, "error": f"rank {rank}: {error}"}
    out = dict(replies[0])
    if op == "prepare":
        out["prepare_s"] = max(r["prepare_s"] for r in replies)
    if op == "run":
        out["peak_memory_mib"] = max(r["peak_memory_mib"] for r in replies)
        out["rank_timings"] = [r.pop("timings") for r in replies]
        out.pop("timings", None)
    return out


def serve(group: Group) -> int:
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    worker = Worker(group)
    try:
        _serve(group, worker)
    finally:
        worker.release()  # before Group.close: the DDP modules hold the group
    return 0


def _serve(group: Group, worker: Worker):
    out = None
    if group.rank == 0:  # the protocol's own descriptor, as worker.py
        out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    number = 0
    while True:
        key = f"request/{number}"
        if group.rank == 0:
            line = sys.stdin.readline().strip()
            group.store.set(key, line)  # empty: the coordinator is gone, every rank stops
        else:
            line = group.wait_for(key)
        if not line:
            break
        request = {}
        try:
            request = json.loads(line)
            reply = worker.answer(request)
        except Exception as error:  # a failing arm is a result; the ranks stay up
            message = (str(error).splitlines() or [""])[0][:300]
            reply = {"ok": False, "error": f"{type(error).__name__}: {message}"}
        group.store.set(f"reply/{number}/{group.rank}", json.dumps(reply))
        if group.rank == 0:
            replies = [json.loads(group.wait_for(f"reply/{number}/{r}")) for r in range(group.ranks)]
            out.write(json.dumps(merged(request.get("op", ""), replies)) + "\n")
            out.flush()
        number += 1


# ------------------------------------------------------------------ equivalence

EQUIVALENCE_BATCH, EQUIVALENCE_TE, EQUIVALENCE_TD = 4, 8, 4


def equivalence(args, group: Group | None) -> int:
    """N steps on R ranks (under torchrun, `group`) or on their concatenated shards in one process: the
    final parameters, to be compared (perf/tests/data_parallel_workers_test.py). Test-only failure:
    SEQPACK_DDP_FAIL_RANK=<r> with SEQPACK_DDP_FAIL_AT=step makes rank r raise after its first step."""
    from safetensors.torch import save_file

    torch.set_num_threads(1)
    distributed = group is not None
    fail = (distributed and os.environ.get("SEQPACK_DDP_FAIL_AT") == "step"
            and os.environ.get("SEQPACK_DDP_FAIL_RANK") == str(group.rank))
    ranks = group.ranks if distributed else args.as_ranks
    spec = MODEL_SPECS["model." + args.model]
    params = small_params(spec, EQUIVALENCE_TE, EQUIVALENCE_TD)
    size = EQUIVALENCE_BATCH * ranks * max(args.steps, 1)  # --steps 0: the initial parameters
    distribution = {d["name"]: d for d in read_distributions(PERF_DIR / "distributions.csv")}["triangular"]
    encoder_lengths = batch_lengths(distribution, size, EQUIVALENCE_TE, 1)
    decoder_lengths = batch_lengths(distribution, size, EQUIVALENCE_TD, 2)
    samples = windows(encoder_lengths, EQUIVALENCE_TE, decoder_lengths, EQUIVALENCE_TD,
                      params["num_past_features"], params["num_future_features"], dtype=torch.float64)
    plan, _, _ = batching.rank_batches(torch.tensor(encoder_lengths), ranks, EQUIVALENCE_BATCH, "random", seed=0)
    torch.manual_seed(0)
    model = spec.model_class(**params, packing="always" if args.path == "packed" else "never").double()
    forward = DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    try:
        for step, shards in enumerate(plan[:args.steps]):
            if fail and step == 1:
                raise RuntimeError(f"rank {group.rank} fails after its first step on purpose "
                                   "(SEQPACK_DDP_FAIL_AT=step)")
            members = shards[group.rank] if distributed else [i for shard in shards for i in shard]
            past, future, enc, dec, target = shard_batch(samples, members, (EQUIVALENCE_TE, EQUIVALENCE_TD))
            optimizer.zero_grad()
            # Unmasked MSE over batches padded to the window: every row weighs the same on every rank, so
            # the mean of the ranks' losses is the loss of the joined batch (docs/data-parallel.md).
            losses.calc_loss(forward(past, future, enc, dec), target, dec, "MSELoss",
                             use_loss_masking=False).backward()
            optimizer.step()
    finally:
        forward = None  # the DDP module (it holds the group) goes before Group.close, error or not
    if not distributed or group.rank == 0:
        save_file({name: p.detach().contiguous() for name, p in model.state_dict().items()}, args.equivalence)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--equivalence", metavar="OUT", help="train and write the final parameters (no serving)")
    parser.add_argument("--model", default="transformer_lstm")
    parser.add_argument("--path", choices=("padded", "packed"), default="padded")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--as-ranks", type=int, default=1, help="without torchrun: the ranks whose shards to join")
    args = parser.parse_args(argv)
    group = Group() if not args.equivalence or "WORLD_SIZE" in os.environ else None
    status = 1
    try:
        status = equivalence(args, group) if args.equivalence else serve(group)
    except Exception:
        # Reported here, not on the way out of the interpreter: the traceback's frames hold the DDP
        # modules, and through them the group, which must be gone before Group.close can end gloo.
        sys.excepthook(*sys.exc_info())
    finally:
        if group is not None:
            group.close(clean=status == 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
