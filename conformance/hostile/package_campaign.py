"""A bad-input campaign against the AOTInductor packages `seqpack eval compiled.run --package` loads:
variants of one good package (a zip archive) truncated, with each member dropped, with its
metadata, its compiled library or its archive records replaced, with members added where they do
not belong (a path that climbs out of the folder it is unpacked into, a name twice), and paths that
name a directory, a FIFO or a device.

A package's compiled library is code that seqpack runs: a library that loads and then misbehaves is
beyond what any loader can refuse (docs/bad-input.md). What must be refused is a package whose
structure is wrong: its archive, its library missing, damaged or not a library. The metadata the
loader reads is compiled into the library (the archive's .json copy is not read, so the variants that
change it may still work); metadata that contradicts the model is compiled in by
seqpack_reference.compiled.hostile and refused in compiled.cli.

Each variant runs as an outside user would run it: no crash, no hang, exit 3 with exactly one stderr
line that names --package, no output file, nothing written outside the folder it runs in. A
variant that may still be a working package (a member the loader does not need dropped) may
instead exit 0, with the golden's output.

Usage: package_campaign.py SEQPACK_BINARY CASES_ROOT PACKAGES_DIR   (exit 1 on any failure)"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reference"))
from seqpack_reference.golden import case_differences  # noqa: E402

CASE = "transformer_lstm/small_packing_never"
TIMEOUT_S = 120
METADATA = re.compile(r"\.wrapper_metadata\.json$")
LIBRARY = re.compile(r"\.wrapper\.so$")


def rewritten(source: Path, target: Path, replace=None, drop=None, add=()):
    """A copy of the archive with members dropped (drop(name) true), replaced (replace(name) -> bytes
    or None to keep), and (name, bytes) pairs added."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as out:
        for info in original.infolist():
            if drop and drop(info.filename):
                continue
            data = replace(info.filename) if replace else None
            out.writestr(info, original.read(info) if data is None else data)
        for name, data in add:
            out.writestr(name, data)


def variants(good: Path, folder: Path) -> dict[str, tuple[Path, bool]]:
    """name -> (package path, may it still work)."""
    out = {}
    blob = good.read_bytes()
    for share in (0.0, 0.1, 0.5, 0.9, 0.999):
        path = folder / f"truncated_{share}.pt2"
        path.write_bytes(blob[:int(len(blob) * share)])
        out[f"truncated to {share:.1%}"] = (path, False)
    path = folder / "no_end_record.pt2"
    path.write_bytes(blob[:-22])
    out["no end-of-archive record"] = (path, False)
    path = folder / "trailing_garbage.pt2"
    path.write_bytes(blob + b"\x00" * 4096)
    out["bytes after the archive"] = (path, True)
    with zipfile.ZipFile(good) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if METADATA.search(n))
        library = next(n for n in names if LIBRARY.search(n))
        claimed = json.loads(archive.read(metadata))
    prefix = names[0].split("/")[0]
    for index, name in enumerate(names):
        path = folder / f"without_{index}.pt2"
        rewritten(good, path, drop=lambda n, name=name: n == name)
        out[f"without {name.split('/', 1)[1]}"] = (path, name != library)

    def with_metadata(label, text):
        """The metadata file replaced: the loader reads the copy compiled into the library, so the
        package may still work; it must not crash (hostile.py's packages compile bad metadata in)."""
        path = folder / f"metadata_{len(out)}.pt2"
        rewritten(good, path, replace=lambda n: text.encode() if n == metadata else None)
        out[f"metadata file {label}"] = (path, True)

    with_metadata("empty", "")
    with_metadata("not JSON", "{")
    with_metadata("a list", "[]")
    with_metadata("nested 100,000 deep", "[" * 100_000 + "]" * 100_000)
    with_metadata("without seqpack's keys", json.dumps({k: v for k, v in claimed.items() if not k.startswith("seqpack")}))
    for key, value in (("seqpack.inputs", "not json"), ("seqpack.inputs", "{}"), ("seqpack.inputs", "[1, 2]"),
                       ("seqpack.inputs", json.dumps([{"name": "past_sequence", "dtype": "complex128", "shape": [-1]}])),
                       ("seqpack.inputs", json.dumps([{"name": "past_sequence", "dtype": "float64",
                                                       "shape": [-5, 10 ** 30]}])),
                       ("seqpack.op", "model.no_such_model"), ("seqpack.op", "create_mask"), ("seqpack.op", "x" * 100_000)):
        with_metadata(f"{key} = {value[:40]!r}", json.dumps({**claimed, key: value}))

    def with_library(label, data, may_work=False):
        path = folder / f"library_{len(out)}.pt2"
        rewritten(good, path, replace=lambda n: data if n == library else None)
        out[f"library {label}"] = (path, may_work)

    elf = blob_of(good, library)
    with_library("empty", b"")
    with_library("text", b"not a shared library\n")
    # Cut: refused where a segment is cut (else a SIGBUS); where only the tail after the segments
    # (section headers, symbols) is, the model still loads and must compute the golden's output.
    for share in (0.001, 0.5, 0.999):
        with_library(f"cut to {share:.1%}", elf[:int(len(elf) * share)], may_work=share > 0.4)
    with_library("one byte short", elf[:-1], may_work=True)
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    with_library("program headers past its end", elf[:0x20] + struct.pack("<Q", len(elf)) + elf[0x28:])
    with_library("2^16 - 1 program headers", elf[:0x38] + struct.pack("<H", 0xFFFF) + elf[0x3A:])
    offset_at = phoff + 8  # the first program header's p_offset
    with_library("a segment at 2^63", elf[:offset_at] + struct.pack("<Q", 1 << 63) + elf[offset_at + 8:])
    with_library("32-bit class", elf[:4] + b"\x01" + elf[5:])
    with_library("another shared library (libm)", Path(find_libm()).read_bytes())
    path = folder / "climbs_out.pt2"
    rewritten(good, path, add=[(f"{prefix}/../../../climbed_out.txt", b"written outside the unpacking folder")])
    out["a member whose path climbs out"] = (path, True)
    path = folder / "absolute_member.pt2"
    rewritten(good, path, add=[(str(folder / "absolute_member.txt"), b"written at an absolute path")])
    out["a member with an absolute path"] = (path, True)
    path = folder / "metadata_twice.pt2"
    with zipfile.ZipFile(path, "w") as archive, zipfile.ZipFile(good) as original:
        for info in original.infolist():
            archive.writestr(info, original.read(info))
        archive.writestr(metadata, b"{")  # a second member of the same name (zipfile warns, and writes it)
    out["the metadata twice, the second broken"] = (path, True)
    (folder / "a_directory.pt2").mkdir()
    out["a directory"] = (folder / "a_directory.pt2", False)
    os.mkfifo(folder / "a_fifo.pt2")
    out["a FIFO"] = (folder / "a_fifo.pt2", False)
    out["/dev/zero"] = (Path("/dev/zero"), False)
    return out


def blob_of(package: Path, member: str) -> bytes:
    with zipfile.ZipFile(package) as archive:
        return archive.read(member)


def find_libm() -> str:
    for candidate in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6"):
        if Path(candidate).exists():
            return candidate
    raise SystemExit("package_campaign.py: no libm.so.6 to stand in for a compiled model")


def main(binary, cases, packages) -> int:
    import warnings
    warnings.simplefilter("ignore")  # zipfile's "Duplicate name" for the variant that wants one
    folder, good = Path(cases) / CASE, Path(packages) / f"{CASE}.pt2"
    inputs = {k: v for k, v in load_file(str(folder / "inputs.safetensors")).items() if k != "target"}
    meta = json.loads((folder / "case.json").read_text())
    want = {"output": load_file(str(folder / "expected.safetensors"))["output"]}
    failures, tried = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        made, runs = tmp / "variants", tmp / "runs"
        made.mkdir()
        runs.mkdir()
        inputs_file = tmp / "inputs.safetensors"
        save_file(inputs, str(inputs_file))
        for index, (what, (package, may_work)) in enumerate(variants(good, made).items()):
            tried += 1
            work = runs / str(index)
            work.mkdir()
            out = work / "out.safetensors"
            try:
                result = subprocess.run([binary, "eval", "compiled.run", "--package", str(package), "--in",
                                         str(inputs_file), "--out", str(out)], capture_output=True, text=True,
                                        cwd=work, timeout=TIMEOUT_S, env={**os.environ, "TMPDIR": str(work)})
            except subprocess.TimeoutExpired:
                failures.append(f"{what}: hangs (over {TIMEOUT_S} s)")
                continue
            lines = result.stderr.strip().splitlines()
            if result.returncode == 0 and may_work:
                found = case_differences(meta, want, load_file(str(out))) if out.exists() else ["no output"]
                if found:
                    failures.append(f"{what}: exit 0, but not the golden's output: {'; '.join(found)}")
            elif result.returncode != 3 or len(lines) != 1 or "--package" not in lines[0] or out.exists():
                failures.append(f"{what}: exit {result.returncode}, stderr {[line[:300] for line in lines[:4]]}, "
                                f"output {'written' if out.exists() else 'absent'}")
            # Anything a variant's member names, found outside the run's own folder, escaped it.
            found = [*tmp.rglob("climbed_out.txt"), *tmp.rglob("absolute_member.txt"),
                     *(p for p in (tmp.parent / "climbed_out.txt", Path("/climbed_out.txt")) if p.exists())]
            strays = [p for p in found if work not in p.parents]
            if strays:
                failures.append(f"{what}: wrote outside its folder: {[str(p) for p in strays]}")
                for p in strays:
                    p.unlink()
    for failure in failures:
        print("FAIL", failure)
    print(f"packages: {tried} tried, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
