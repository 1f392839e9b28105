"""Black-box check of `seqpack eval compiled.run --package`: the command reproduces an eager golden
from a package, and refuses bad input with exit status 3, one line on stderr naming the argument,
and no output file.

Usage: cli_compiled_test.py SEQPACK_BINARY CASES_ROOT PACKAGES_DIR
"""
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reference"))
from seqpack_reference.compiled.hostile import FOLDER as HOSTILE_FOLDER, PACKAGES as HOSTILE_PACKAGES  # noqa: E402
from seqpack_reference.golden import case_differences  # noqa: E402

CASE = "transformer_lstm/small_packing_never"


def main(binary, cases, packages):
    failures = []
    folder, package = Path(cases) / CASE, str(Path(packages) / f"{CASE}.pt2")
    inputs = {k: v for k, v in load_file(str(folder / "inputs.safetensors")).items() if k != "target"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        good = tmp / "inputs.safetensors"
        save_file(inputs, str(good))
        out = tmp / "out.safetensors"
        result = subprocess.run([binary, "eval", "compiled.run", "--package", package, "--in", str(good),
                                 "--out", str(out)], capture_output=True, text=True)
        if result.returncode != 0:
            failures.append(f"good package: exit {result.returncode}: {result.stderr.strip()}")
        else:
            # The package computes the forward only: its output against the golden's, under the case's
            # own tolerances (Inductor's reordered float64 reductions stay ~1e-16 from eager).
            meta = json.loads((folder / "case.json").read_text())
            want = {"output": load_file(str(folder / "expected.safetensors"))["output"]}
            found = case_differences(meta, want, load_file(str(out)))
            if found:
                failures.append(f"good package: {'; '.join(found)}")
        (tmp / "text.pt2").write_text("not a package")
        with zipfile.ZipFile(tmp / "no_model.pt2", "w") as archive:
            archive.writestr("archive/readme.txt", "a zip archive, but no compiled model inside")
        no_rows = tmp / "no_rows.safetensors"
        save_file({k: v[:0].contiguous() for k, v in inputs.items()}, str(no_rows))
        wrong_dtype = tmp / "wrong_dtype.safetensors"
        save_file({**inputs, "past_sequence": inputs["past_sequence"].float()}, str(wrong_dtype))
        refusals = {
            "no --package": ([], good, "--package"),
            "missing package": (["--package", str(tmp / "absent.pt2")], good, "--package"),
            "not a zip archive": (["--package", str(tmp / "text.pt2")], good, "--package"),
            "wrong dtype": (["--package", package], wrong_dtype, "past_sequence"),
            "a zip without a model": (["--package", str(tmp / "no_model.pt2")], good, "--package"),
            "a batch of no rows": (["--package", package], no_rows, "past_sequence"),
        }
        # hostile.py's packages: metadata that contradicts the compiled model
        for name in HOSTILE_PACKAGES:
            refusals[name.replace("_", " ")] = (["--package", str(Path(packages) / HOSTILE_FOLDER / f"{name}.pt2")], good,
                                                "--package")
        for what, (extra, inputs_file, mention) in refusals.items():
            out = tmp / f"out_{what.replace(' ', '_')}.safetensors"
            result = subprocess.run([binary, "eval", "compiled.run", *extra, "--in", str(inputs_file), "--out",
                                     str(out)], capture_output=True, text=True)
            lines = result.stderr.strip().splitlines()
            if result.returncode != 3 or len(lines) != 1 or mention not in lines[0] or out.exists():
                failures.append(f"{what}: exit {result.returncode}, stderr {lines}, output written: {out.exists()}")
    for failure in failures:
        print("FAIL", failure)
    checks = 1 + len(refusals)
    print(f"compiled cli: {checks - len(failures)}/{checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
