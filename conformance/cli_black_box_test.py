"""Black-box check of `seqpack eval`: run the command on golden cases as an outside user would.

Usage: cli_black_box_test.py SEQPACK_BINARY CASES_ROOT [CASES_PER_OP]
Runs the first CASES_PER_OP (default 4) cases of each op, successes and rejections (the sanitizer
build asks for 1: every case already runs in-process there, through the conformance runner); a success must reproduce expected.safetensors,
a rejection must exit 3 with exactly one line on stderr and leave no output file. Usage errors
must exit 2.
"""
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
from seqpack_reference.cases import model_cases, tft_cases  # noqa: E402
from seqpack_reference.golden import case_differences, differences  # noqa: E402
from seqpack_reference.models import SPECS, small_params  # noqa: E402

PER_OP = 4  # cases of each op and expectation, by default


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)


def exported_weights_load_in_pytorch(binary, tmp):
    """`seqpack init` writes a state_dict that PyTorch's model loads strictly, and with it seqpack
    and PyTorch compute the same output."""
    failures = []
    for spec in SPECS:
        op = spec.op
        params = small_params(spec, tft_cases.TE, tft_cases.TD)
        if spec.family == "tft":
            inputs = tft_cases.model_inputs("cli/" + op, spec, params, with_static=spec.static_covariates is not None)
        else:
            params["packing"] = "always"
            inputs = model_cases.model_inputs("cli/" + op, 1)
        weights, out = tmp / f"{op}.weights.safetensors", tmp / f"{op}.out.safetensors"
        result = run(binary, "init", op, "--params", json.dumps(params), "--dtype", "float64", "--seed", "3",
                     "--out", str(weights))
        if result.returncode != 0:
            failures.append(f"init {op}: exit {result.returncode}: {result.stderr.strip()}")
            continue
        model = spec.model_class(**params).double().eval()
        try:
            model.load_state_dict(load_file(str(weights)), strict=True)
        except RuntimeError as error:
            failures.append(f"init {op}: PyTorch refuses the weights: {str(error)[:300]}")
            continue
        del inputs["target"]
        inputs_file = tmp / f"{op}.in.safetensors"
        save_file(inputs, str(inputs_file))
        result = run(binary, "eval", op, "--in", str(inputs_file), "--params", json.dumps(params),
                     "--weights", str(weights), "--out", str(out))
        if result.returncode != 0:
            failures.append(f"init {op}: eval with the exported weights: exit {result.returncode}: "
                            f"{result.stderr.strip()}")
            continue
        found = differences({"output": model(**inputs).detach()}, load_file(str(out)), rtol=1e-10, atol=1e-10)
        if found:
            failures.append(f"init {op}: seqpack's output with its exported weights differs from PyTorch's: "
                            + "; ".join(found))
    return failures


def main(binary, root, cases_per_op=PER_OP):
    root, cases_per_op = Path(root), int(cases_per_op)
    chosen, per_op = [], defaultdict(int)
    for case_json in sorted(root.rglob("case.json")):
        meta = json.loads(case_json.read_text())
        if per_op[meta["op"], meta["expect"]] < cases_per_op:
            per_op[meta["op"], meta["expect"]] += 1
            chosen.append((case_json.parent, meta))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (folder, meta) in enumerate(chosen):
            out = Path(tmp) / f"out{index}.safetensors"
            backward = ["--backward"] if meta.get("backward") else []
            if (folder / "weights.safetensors").exists():
                backward += ["--weights", str(folder / "weights.safetensors")]
            result = run(binary, "eval", meta["op"], "--in", str(folder / "inputs.safetensors"),
                         "--params", json.dumps(meta["params"]), *backward, "--out", str(out))
            name = folder.relative_to(root)
            if meta["expect"] == "error":
                lines = result.stderr.strip().splitlines()
                if result.returncode != 3 or len(lines) != 1 or out.exists():
                    failures.append(f"{name}: want exit 3, one stderr line, no output; got {result.returncode}, "
                                    f"{len(lines)} lines, output {'written' if out.exists() else 'absent'}")
            elif result.returncode != 0:
                failures.append(f"{name}: exit {result.returncode}: {result.stderr.strip()}")
            else:
                found = case_differences(meta, load_file(str(folder / "expected.safetensors")), load_file(str(out)))
                if found:
                    failures.append(f"{name}: differs from expected.safetensors: {'; '.join(found)}")
        failures += exported_weights_load_in_pytorch(binary, Path(tmp))
        usage = [("no op", ["eval"]), ("unknown op", ["eval", "no_such_op", "--in", "x", "--out", "y"]),
                 ("unknown flag", ["eval", "create_mask", "--frobnicate"])]
        for label, args in usage:
            result = run(binary, *args)
            if result.returncode != 2:
                failures.append(f"usage error ({label}): want exit 2, got {result.returncode}")
    for failure in failures:
        print("FAIL", failure)
    print(f"cli black-box: {len(chosen) + 3 + len(SPECS) - len(failures)} ok, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
