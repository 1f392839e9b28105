"""A worker that speaks the engine's protocol (perf/worker/perf_worker.cpp) without running anything:
it answers "run" with made-up seconds, so that the engine's rounds, ratios and stopping can be
tested exactly. Seconds per unit by arm mode (MODES), times a log-normal noise of sd NOISE; a mode
"broken" fails to prepare, "dies" kills the worker on its first run. Every run is logged to
$FAKE_WORKER_LOG as "<id>" lines, in the order they came, and every start as "start"; the length of
each start's environment pad to $FAKE_WORKER_PADS, when set.

What a real process fixes once, made up too: each prepared instance runs at a speed of its own,
exp(N(0, $FAKE_WORKER_INSTANCE_SD)) times its mode's. A stall: the $FAKE_WORKER_STALL_AT-th run
(counted over the worker's life) takes 20 times as long. Each start draws from its own stream
(the seed plus the number of starts logged before it), so that launches differ, repeatably."""
import json
import math
import os
import random
import sys

MODES = {"padded": 0.010, "packed": 0.005, "slow": 0.020}
NOISE = 0.02


def main():
    log_path = os.environ["FAKE_WORKER_LOG"]
    starts = open(log_path).read().count("start\n") if os.path.exists(log_path) else 0
    rng = random.Random(int(os.environ.get("FAKE_WORKER_SEED", "0")) * 1000 + starts)
    instance_sd = float(os.environ.get("FAKE_WORKER_INSTANCE_SD", "0"))
    stall_at, runs = int(os.environ.get("FAKE_WORKER_STALL_AT", "0")), 0
    arms, speed, log = {}, {}, open(log_path, "a")
    log.write("start\n")
    log.flush()
    if "FAKE_WORKER_PADS" in os.environ:  # how long an environment pad each start was given
        with open(os.environ["FAKE_WORKER_PADS"], "a") as pads:
            pads.write(f"{len(os.environ.get('SEQPACK_LAYOUT_PAD', '-'))}\n")
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "info":
            reply = {"ok": True, "side": "fake", "threads": 1, "pid": os.getpid(), "torch": "none"}
        elif op == "prepare":
            mode = request["arm"]["mode"]
            if mode == "broken":
                reply = {"ok": False, "error": "arm mode: broken on purpose"}
            else:
                arms[request["id"]] = mode
                speed[request["id"]] = math.exp(rng.gauss(0, instance_sd))
                reply = {"ok": True, "prepare_s": 0.5, "fill_ratio": 0.5, "samples": 8, "timesteps": 100,
                         "steps_per_unit": 1}
        elif op == "run" and request["id"] not in arms:  # as the real workers answer
            reply = {"ok": False, "error": f"no prepared arm {request['id']!r}"}
        elif op == "run":
            mode = arms[request["id"]]
            if mode == "dies":
                sys.exit(9)
            log.write(request["id"] + "\n")
            log.flush()
            runs += 1
            stall = 20.0 if runs == stall_at else 1.0
            seconds = request["units"] * MODES[mode] * speed[request["id"]] * math.exp(rng.gauss(0, NOISE)) * stall
            reply = {"ok": True, "seconds": seconds, "peak_memory_mib": 1.0}
        else:
            arms.pop(request["id"], None)
            reply = {"ok": True}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
