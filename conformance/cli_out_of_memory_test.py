"""`seqpack eval` on legal input larger than the process may allocate: exit 5, one line naming what
could not be allocated, and no output file (an existing one left as it was).

Usage: cli_out_of_memory_test.py SEQPACK_BINARY

The process runs under an address-space limit (RLIMIT_AS) a few GiB above what loading LibTorch
maps, so that both of seqpack's allocation paths fail for certain whatever the machine's memory:
reading an input file (a sparse file twice the limit, so it costs no disk) and a tensor LibTorch
allocates (a mask bigger than the limit, made from a four-element input).
"""

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file

GIB = 1 << 30
# Loading LibTorch with its CUDA libraries maps about 2.5 GiB of address space here; six leaves
# room for that and is far below what either case asks for.
ADDRESS_SPACE_LIMIT = 6 * GIB
EXIT_OUT_OF_MEMORY = 5


def limited():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=300, preexec_fn=limited)


def sparse_safetensors(path, data_bytes):
    """A valid safetensors file holding one float32 tensor of data_bytes zero bytes, written sparse."""
    header = json.dumps({"sequences": {"dtype": "F32", "shape": [1, data_bytes // 4, 1],
                                       "data_offsets": [0, data_bytes]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as out:
        out.write(len(header).to_bytes(8, "little"))
        out.write(header)
        out.truncate(8 + len(header) + data_bytes)


def check(failures, name, result, out, mentions):
    lines = result.stderr.splitlines()
    if result.returncode != EXIT_OUT_OF_MEMORY:
        failures.append(f"{name}: exit {result.returncode}, expected {EXIT_OUT_OF_MEMORY}: {result.stderr[:300]!r}")
    elif len(lines) != 1 or not lines[0].startswith("seqpack: out of memory: ") or mentions not in lines[0]:
        failures.append(f"{name}: expected one 'seqpack: out of memory:' line naming {mentions!r}, got {lines!r}")
    if out.read_bytes() != b"kept":
        failures.append(f"{name}: the existing output file was changed")
    if out.with_name(out.name + ".partial").exists():
        failures.append(f"{name}: a .partial file was left behind")


def main(binary):
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        out = tmp / "out.safetensors"
        out.write_bytes(b"kept")

        big = tmp / "big.safetensors"
        sparse_safetensors(big, 2 * ADDRESS_SPACE_LIMIT)
        result = run(binary, "eval", "validate_encoder_alignment", "--in", str(big), "--params", "{}",
                     "--max-file-bytes", str(4 * ADDRESS_SPACE_LIMIT), "--out", str(out))
        check(failures, "input file beyond the limit", result, out, "--in")

        lengths = tmp / "lengths.safetensors"
        save_file({"lengths": torch.tensor([1, 2, 3, 4], dtype=torch.int64)}, str(lengths))
        size = ADDRESS_SPACE_LIMIT // 2  # four rows of bool: twice the limit
        result = run(binary, "eval", "create_mask", "--in", str(lengths),
                     "--params", json.dumps({"size": size, "alignment": "left", "inverse": False}),
                     "--max-tensor-bytes", str(8 * ADDRESS_SPACE_LIMIT),
                     "--max-tensor-elements", str(8 * ADDRESS_SPACE_LIMIT), "--out", str(out))
        check(failures, "tensor beyond the limit", result, out, "allocate")

    for failure in failures:
        print("FAIL", failure)
    print(f"{2 - len(failures)} of 2 out-of-memory cases behave")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
