"""A bad-input campaign against the lengths files a user hands the benchmarks (docs/your-data.md):
hundreds of variants of the real data sets' files and of a small file with every column kind,
truncated, with bytes replaced or inserted (NUL, 0xFF, quotes, commas, line ends, signs, points,
full-width digits), with their line ends, quoting, blank lines and headers changed, grown past the
size and line limits; and paths that name a directory, a FIFO, a device, a link or nothing.

Each variant is read by both workers' readers: the C++ one (LENGTHS_DUMP, one process for many
files) and the Python one, and by advise.py's. Checked: the C++ reader never crashes; both accept
the same files and give them the same batches, or refuse them with the same one line naming the file
(a CSV syntax error: the same start, "cannot be read as CSV:"); advise.py refuses with its one line
or accepts, never raising anything else.

Usage: lengths_file_campaign.py LENGTHS_DUMP [--seed N]   (exit 1 on any failure)"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "perf"))
import advise  # noqa: E402
from seqpack_reference.perf.distributions import (  # noqa: E402
    batch_decoder_lengths, batch_lengths, read_lengths_file)

SPECIAL = [b"\0", b"\xff", b'"', b",", b"\n", b"\r", b"\r\n", b"-", b"+", b".", b"e", b" ", b"\t", b"x", b"0", b"9",
           "\uff11".encode(), b"\xef\xbb\xbf", b'""', b"@"]
SMALL = b'series,length,decoder_length\na,5,2\nb,17,3\n"c,d",9,1\n e , 12 ,"4"\n'
CHUNK = 60  # files per C++ process
MAX_LINE = 1000


def whole_file_variants(seed: bytes) -> dict[str, bytes]:
    lines = seed.split(b"\n")
    return {
        "crlf": seed.replace(b"\n", b"\r\n"), "lone_cr": seed.replace(b"\n", b"\r"), "bom": b"\xef\xbb\xbf" + seed,
        "blank_lines_after": seed + b"\n\n \n\t\n", "blank_lines_before": b"\n  \n" + seed,
        "blank_lines_between": b"\n\n".join(lines), "no_final_newline": seed.rstrip(b"\n"),
        "quoted": b"\n".join(b",".join(b'"' + f + b'"' for f in line.split(b",")) if line else line for line in lines),
        "spaces": b"\n".join(b" , ".join(b"  " + f + b"  " for f in line.split(b",")) if line else line for line in lines),
        "tabs": b"\n".join(b"\t" + line + b"\t" if line else line for line in lines),
        "upper_header": lines[0].upper() + b"\n" + b"\n".join(lines[1:]),
        "header_twice": lines[0] + b"," + lines[0] + b"\n" + b"\n".join(line + b"," + line if line else line for line in lines[1:]),
        "extra_column": b"\n".join(line + b",x" if line else line for line in lines),
        "header_only": lines[0] + b"\n", "rows_only": b"\n".join(lines[1:]),
        "repeated_x100": lines[0] + b"\n" + b"\n".join(lines[1:]) * 100,
    }


def byte_variants(seed: bytes, rng: random.Random, count: int) -> dict[str, bytes]:
    out = {}
    for k in range(count):
        at = rng.randrange(len(seed))
        out[f"truncated_at_{at}"] = seed[:at]
        special = rng.choice(SPECIAL)
        at = rng.randrange(len(seed))
        out[f"replaced_{k}_at_{at}"] = seed[:at] + special + seed[at + 1:]
        at = rng.randrange(len(seed) + 1)
        out[f"inserted_{k}_at_{at}"] = seed[:at] + rng.choice(SPECIAL) + seed[at:]
    return out


def value_variants() -> dict[str, bytes]:
    values = ["0", "-0", "-1", "1", "007", "1e3", "0x10", "1.0", "+5", " 5 ", '" 5"', '"5"', '""5""', "5 5",
              "999999999", "1000000000", "1000000001", "9223372036854775807", "9223372036854775808",
              "-9223372036854775808", "99999999999999999999999", "\uff15", "\u00b2", "٣", "", " ", "NaN", "inf",
              "1" * 4301, "0" * 5000 + "7"]
    return {f"value_{i}": f"length\n4\n{v}\n6\n".encode() for i, v in enumerate(values)}


def limit_variants(folder: Path) -> dict[str, Path]:
    """Files that exceed a limit, written once (large; sparse where the size is all that matters)."""
    out = {}
    long_line = folder / "long_line.csv"
    with open(long_line, "wb") as f:
        f.write(b"length,note\n5," + b"x" * (1 << 24) + b"\n")
    out["line_past_2^24"] = long_line
    sparse = folder / "past_256_mib.csv"
    with open(sparse, "wb") as f:
        f.write(b"length\n5\n")
        f.truncate((256 << 20) + 1)
    out["past_256_mib"] = sparse
    # libfccp's issue 72: a large file whose last line has no end, with a line end 2^24 bytes before
    # the file's end, on which its reader hangs (aborts, with assertions on).
    unended = folder / "unended_48_mib.csv"
    unended.write_bytes(b"length\n" + b"1\n" * 25_165_821 + b"1")
    out["unended_48_mib"] = unended
    many = folder / "million_rows.csv"
    many.write_bytes(b"length\n" + b"".join(b"%d\n" % (1 + i % 997) for i in range(1_000_000)))
    out["million_rows"] = many
    return out


def path_variants(folder: Path) -> dict[str, str]:
    good = folder / "good.csv"
    good.write_bytes(SMALL)
    fifo = folder / "fifo.csv"
    os.mkfifo(fifo)
    (folder / "link.csv").symlink_to(good)
    (folder / "dangling.csv").symlink_to(folder / "nowhere.csv")
    (folder / "dir.csv").mkdir()
    (folder / "at@sign.csv").write_bytes(SMALL)
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    return {"directory": f"file:{folder / 'dir.csv'}", "fifo": f"file:{fifo}", "dev_zero": "file:/dev/zero",
            "dev_null": "file:/dev/null", "link": f"file:{folder / 'link.csv'}@scale",
            "dangling_link": f"file:{folder / 'dangling.csv'}", "nothing": f"file:{folder / 'absent.csv'}",
            "at_sign_in_name": f"file:{folder / 'at@sign.csv'}@clip", "at_sign_no_rule": f"file:{folder / 'at@sign.csv'}",
            "empty_spec": "file:", "only_rule": "file:@scale", "relative": "file:perf/datasets/plaid.csv",
            "trailing_slash": f"file:{good}/", "double_slash": f"file:{folder}//good.csv",
            "dot_segment": f"file:{folder}/./good.csv", "link_loop": f"file:{folder / 'loop.csv'}",
            "relative_trailing_slash": "file:perf/datasets/plaid.csv/"}


def cpp_readings(binary: str, specs: list[str]) -> tuple[dict, list[str]]:
    out, crashes = {}, []
    for start in range(0, len(specs), CHUNK):
        chunk = specs[start:start + CHUNK]
        result = subprocess.run([binary, *chunk], capture_output=True, text=True, timeout=600)
        if result.returncode == 0:
            out.update(json.loads(result.stdout))
            continue
        for spec in chunk:  # find the file that brought it down
            alone = subprocess.run([binary, spec], capture_output=True, text=True, timeout=600)
            if alone.returncode != 0:
                crashes.append(f"{spec}: the C++ reader exited {alone.returncode}: {alone.stderr.strip()[-300:]}")
            else:
                out.update(json.loads(alone.stdout))
    return out, crashes


def check(spec: str, cpp: dict, problems: list[str]) -> str:
    """Compares the two readers on one spec: "accepted", "refused", or a problem appended."""
    try:
        d, python_error = read_lengths_file(spec, ROOT), None
    except ValueError as error:
        d, python_error = None, str(error)
    cpp_error = cpp.get("error")
    for side, said in (("C++", cpp_error), ("Python", python_error)):
        if said is not None and ("\n" in said or len(said) > MAX_LINE or not said.startswith(spec + ": ")):
            problems.append(f"{spec}: {side}'s refusal is not one line naming it: {said[:200]!r}")
    if (cpp_error is None) != (python_error is None):
        problems.append(f"{spec}: C++ {'refuses' if cpp_error else 'accepts'} ({cpp_error}), "
                        f"Python {'refuses' if python_error else 'accepts'} ({python_error})")
        return "problem"
    if cpp_error is not None:
        syntax = "cannot be read as CSV:"
        same = (cpp_error.split(syntax)[0] == python_error.split(syntax)[0] if syntax in cpp_error
                else cpp_error == python_error)
        if not same:
            problems.append(f"{spec}: C++ says {cpp_error!r}, Python {python_error!r}")
        return "refused"
    for key, lengths in cpp["encoder"].items():
        batch, steps, seed = (int(v) for v in key.split("/"))
        if batch_lengths(d, batch, steps, seed) != lengths or batch_decoder_lengths(d, batch, steps, seed) != cpp["decoder"][key]:
            problems.append(f"{spec}: batch {key} differs between C++ and Python")
            break
    return "accepted"


def advise_reads(path: Path, problems: list[str], workers_accept: bool | None):
    """advise.py's reader on a file: one line naming it, or acceptance; where the file has no decoder
    column (which advise.py does not read), the same answer as the workers'."""
    try:
        advise.read_series_lengths(path, "length", None)
        accepted = True
    except advise.BadInput as error:
        accepted = False
        if "\n" in str(error) or not str(error).startswith(f"{path}: "):
            problems.append(f"advise.py on {path}: refusal is not one line naming it: {str(error)[:200]!r}")
    except Exception as error:  # noqa: BLE001 -- anything else is the failure this looks for
        problems.append(f"advise.py on {path}: raised {type(error).__name__}: {error}")
        return
    if workers_accept is not None and accepted != workers_accept:
        problems.append(f"advise.py {'accepts' if accepted else 'refuses'} {path}, the workers do not")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lengths_dump")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-seed", type=int, default=40, help="truncations, replacements and insertions per seed file")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    seeds = {"small": SMALL, "japanese_vowels": (ROOT / "perf/datasets/japanese_vowels.csv").read_bytes(),
             "plaid": (ROOT / "perf/datasets/plaid.csv").read_bytes()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files: dict[str, Path] = {}
        contents = dict(value_variants())
        for name, seed in seeds.items():
            contents.update({f"{name}.{k}": v for k, v in whole_file_variants(seed).items()})
            contents.update({f"{name}.{k}": v for k, v in byte_variants(seed, rng, args.per_seed).items()})
        contents.update({f"small.prefix_{n}": SMALL[:n] for n in range(len(SMALL) + 1)})
        for name, content in contents.items():
            files[name] = folder / f"{name}.csv"
            files[name].write_bytes(content)
        files.update(limit_variants(folder))
        specs = {name: f"file:{path}" for name, path in files.items()}
        specs.update({f"{name}@scale": f"file:{path}@scale" for name, path in list(files.items())[::7]})  # both rules
        paths = folder / "paths"
        paths.mkdir()
        specs.update(path_variants(paths))
        cpp, problems = cpp_readings(args.lengths_dump, list(specs.values()))
        outcomes = {"accepted": 0, "refused": 0, "problem": 0}
        for spec in specs.values():
            if spec not in cpp:
                problems.append(f"{spec}: the C++ reader gave no answer")
                continue
            outcomes[check(spec, cpp[spec], problems)] += 1
        for name, path in files.items():
            accepted = "error" not in cpp.get(specs[name], {"error": ""})
            advise_reads(path, problems, accepted if b"decoder_length" not in contents.get(name, b"") else None)
    for problem in problems:
        print("FAIL", problem)
    print(f"lengths files: {len(specs)} tried, {outcomes['accepted']} accepted alike, {outcomes['refused']} refused "
          f"alike, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
