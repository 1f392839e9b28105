"""Writes the committed seed corpora of the fuzz targets (impl/fuzz/corpus/<target>/) from the
golden cases, replacing what is there. Standard library only:

    python impl/fuzz/make_seeds.py [--cases conformance/cases]

Each target's input layout is the one its source file documents. A selector byte picks an op as
fuzz_support.cpp does: the ops with an "outputs" golden except compiled.run, in name order (the
registry's order), each with its smallest such case (inputs + weights bytes, then name); the model
ops are those whose case has weights.
"""

import argparse
import array
import json
import shutil
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
DELIMITER = b"\n%%\n"  # eval_fuzz.cpp
ELEMENT_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def read_safetensors(data):
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", None)
    body = data[8 + size:]
    tensors = {name: (e["dtype"], e["shape"], body[e["data_offsets"][0]:e["data_offsets"][1]])
               for name, e in header.items()}
    return tensors, metadata


def write_safetensors(tensors, metadata=None):
    header, body = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def as_float32(data):
    """The same state_dict in float32 (the loader takes either float dtype): half the bytes."""
    tensors, metadata = read_safetensors(data)
    converted = {}
    for name, (dtype, shape, raw) in tensors.items():
        if dtype == "F64":
            raw, dtype = array.array("f", array.array("d", raw)).tobytes(), "F32"
        converted[name] = (dtype, shape, raw)
    return write_safetensors(converted, metadata)


def with_lightning_names(data):
    tensors, metadata = read_safetensors(data)
    return write_safetensors({"model." + name: value for name, value in tensors.items()}, metadata)


def goldens(cases):
    """{op: case folder}: each op's smallest "outputs" case, as fuzz_support.cpp picks it."""
    best = {}
    for meta_path in sorted(cases.rglob("case.json")):
        meta = json.loads(meta_path.read_text())
        folder = meta_path.parent
        if meta.get("expect") != "outputs" or meta["op"] == "compiled.run":
            continue
        size = sum((folder / f).stat().st_size for f in ("inputs.safetensors", "weights.safetensors")
                   if (folder / f).exists())
        key = (size, folder.relative_to(cases).as_posix())
        if meta["op"] not in best or key < best[meta["op"]][0]:
            best[meta["op"]] = (key, folder)
    return {op: folder for op, (_, folder) in sorted(best.items())}


def params_of(folder):
    return json.loads((folder / "case.json").read_text())["params"]


def dumps(params):
    return json.dumps(params, sort_keys=True).encode()


def safetensors_seeds(chosen):
    seeds = {f"inputs_{op}": (folder / "inputs.safetensors").read_bytes() for op, folder in chosen.items()}
    every_dtype = {f"x_{dtype.lower()}": (dtype, [2], bytes(range(2 * size))) for dtype, size in ELEMENT_BYTES.items()}
    seeds["every_dtype"] = write_safetensors(every_dtype)
    seeds["empty_header"] = write_safetensors({})
    seeds["metadata_only"] = write_safetensors({}, {"op": "collate", "format": "pt"})
    seeds["scalar_and_empty"] = write_safetensors({"scalar": ("F32", [], b"\0\0\x80?"), "empty": ("I64", [0, 3], b"")})
    return seeds


def params_seeds(chosen, cases):
    ops = list(chosen)
    by_op = {}
    for meta_path in sorted(cases.rglob("case.json")):
        meta = json.loads(meta_path.read_text())
        if meta["op"] in chosen:
            by_op.setdefault(meta["op"], []).append(dumps(meta["params"]))
    seeds = {}
    for index, op in enumerate(ops):
        first = dumps(params_of(chosen[op]))
        others = sorted(set(by_op[op]) - {first}, key=len)
        for n, text in enumerate([first] + others[:1]):
            seeds[f"{op}_{n}"] = bytes([index]) + text
    return seeds


def weights_seeds(chosen):
    models = [op for op, folder in chosen.items() if (folder / "weights.safetensors").exists()]
    seeds = {}
    for index, op in enumerate(models):
        weights = (chosen[op] / "weights.safetensors").read_bytes()
        seeds[f"{op}_f32"] = bytes([index]) + as_float32(weights)
    smallest = min(models, key=lambda op: (chosen[op] / "weights.safetensors").stat().st_size)
    weights = (chosen[smallest] / "weights.safetensors").read_bytes()
    seeds[f"{smallest}_f64"] = bytes([models.index(smallest)]) + weights
    seeds[f"{smallest}_lightning"] = bytes([models.index(smallest)]) + with_lightning_names(as_float32(weights))
    return seeds


def eval_seed(arguments, *bodies):
    return DELIMITER.join([arguments.encode(), *bodies])


def eval_seeds(chosen):
    seeds = {}
    for op, folder in chosen.items():
        inputs = (folder / "inputs.safetensors").read_bytes()
        if (folder / "weights.safetensors").exists():
            continue
        seeds[f"eval_{op}"] = eval_seed(f"eval {op} --in @IN@ --params @PARAMS@ --out @OUT@", inputs,
                                        dumps(params_of(folder)))
    models = [op for op, folder in chosen.items() if (folder / "weights.safetensors").exists()]
    model = min(models, key=lambda op: (chosen[op] / "weights.safetensors").stat().st_size)
    folder = chosen[model]
    inputs, params = (folder / "inputs.safetensors").read_bytes(), dumps(params_of(folder))
    weights = (folder / "weights.safetensors").read_bytes()  # float64, as the golden's inputs
    seeds[f"eval_{model}"] = eval_seed(
        f"eval {model} --in @IN@ --params @PARAMS@ --weights @WEIGHTS@ --out @OUT@", inputs, params, weights)
    seeds["eval_model_printed"] = eval_seed(f"eval {model} --in @IN@ --params @PARAMS@ --weights @WEIGHTS@",
                                            inputs, params, weights)
    seeds["init_model"] = eval_seed(f"init {model} --params @PARAMS@ --seed 3 --dtype float64 --out @OUT@", b"",
                                    params)
    loss = chosen["loss.mse"]
    seeds["eval_backward_inline_params"] = eval_seed(
        "eval loss.mse --in @IN@ --params {\"reduction\":\"sum\"} --backward --max-tensor-bytes 65536 --out=@OUT@",
        (loss / "inputs.safetensors").read_bytes())
    seeds["ops"] = eval_seed("ops")
    seeds["help"] = eval_seed("eval --help")
    return seeds


def write(target, seeds):
    folder = HERE / "corpus" / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds, {sum(map(len, seeds.values())) // 1024} KiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=HERE.parents[1] / "conformance" / "cases")
    args = parser.parse_args()
    chosen = goldens(args.cases)
    write("safetensors_fuzz", safetensors_seeds(chosen))
    write("params_fuzz", params_seeds(chosen, args.cases))
    write("weights_fuzz", weights_seeds(chosen))
    write("eval_fuzz", eval_seeds(chosen))


if __name__ == "__main__":
    main()
