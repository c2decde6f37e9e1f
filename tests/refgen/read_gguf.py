#!/usr/bin/env python3
"""Describe a GGUF file as JSON, as llama.cpp's own Python reader (`gguf.GGUFReader`) sees it.

Usage: python3 tests/refgen/read_gguf.py FILE > description.json

This is the independent reference for edge's GGUF reader and writer (tests/tests/gguf_python.rs)
and the source of the facts checked in formats/tests/real_models.rs. Output:

  {
    "gguf_version": "<version of the gguf package>",
    "version": 3, "tensor_count": N, "kv_count": N, "alignment": 32, "data_offset": N,
    "metadata": [ {"key": K, "type": T, "value": V}, ... ]          # in file order
    "tensors":  [ {"name", "ggml_type": id, "ggml_type_name", "shape": [ne0, ne1, ...],
                   "offset": bytes from the data section, "n_bytes", "sha256"}, ... ]
  }

Types are gguf's GGUFValueType names (UINT8 ... FLOAT64). An array's value is
{"element_type": T, "values": [...]}, recursively for nested arrays: GGUFReader's own
`contents()` flattens nested arrays and loses the type of empty ones, so nested arrays are
rebuilt here from the reader's parsed `parts`. Floats are given as their IEEE-754 bit patterns
(integers) so that comparisons are exact and NaN survives JSON.
"""

import hashlib
import json
import sys
from importlib.metadata import version as package_version

import numpy as np
from gguf import GGUFReader, GGUFValueType

# GGUFReader reports the header as three pseudo-fields before the real metadata.
HEADER_FIELDS = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"}
# Offset where the first real metadata entry starts: magic, version, two u64 counts.
FIRST_KV_OFFSET = 24


def scalar(vtype, part):
    """A scalar from a one-element numpy array parsed by GGUFReader."""
    if vtype == GGUFValueType.FLOAT32:
        return int(part.view(np.uint32)[0])
    if vtype == GGUFValueType.FLOAT64:
        return int(part.view(np.uint64)[0])
    if vtype == GGUFValueType.BOOL:
        return bool(part[0])
    return int(part[0])


def decode(parts, i, vtype):
    """Decodes the value of type `vtype` whose first part is parts[i]; returns (json, next i)."""
    if vtype == GGUFValueType.STRING:
        # A string is two parts: its u64 length and its bytes.
        return parts[i + 1].tobytes().decode("utf-8"), i + 2
    if vtype == GGUFValueType.ARRAY:
        # An array is its u32 element type, its u64 count, then the parts of each element.
        etype = GGUFValueType(int(parts[i][0]))
        count = int(parts[i + 1][0])
        i += 2
        values = []
        for _ in range(count):
            value, i = decode(parts, i, etype)
            values.append(value)
        return {"element_type": etype.name, "values": values}, i
    return scalar(vtype, parts[i]), i + 1


def check_against_contents(field, vtype, value):
    """For shapes that GGUFReader.contents() handles, our decoding must agree with it."""
    if vtype == GGUFValueType.STRING:
        assert field.contents() == value, field.name
    elif vtype == GGUFValueType.ARRAY:
        etype = GGUFValueType[value["element_type"]]
        if etype == GGUFValueType.STRING:
            assert field.contents() == value["values"], field.name
        elif etype not in (GGUFValueType.ARRAY, GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
            assert [type(v)(x) for v, x in zip(value["values"], field.contents())] == value["values"], field.name
    elif vtype not in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        assert type(value)(field.contents()) == value, field.name


def describe(path):
    reader = GGUFReader(path, "r")
    header = {name: int(reader.fields[name].parts[0][0]) for name in HEADER_FIELDS}
    metadata = []
    for key, field in reader.fields.items():
        if key in HEADER_FIELDS and field.offset < FIRST_KV_OFFSET:
            continue
        # parts: key length, key bytes, value type, then the value's parts.
        vtype = GGUFValueType(int(field.parts[2][0]))
        value, end = decode(field.parts, 3, vtype)
        assert end == len(field.parts), f"{key}: {len(field.parts) - end} parts left over"
        check_against_contents(field, vtype, value)
        metadata.append({"key": key, "type": vtype.name, "value": value})

    tensors = []
    for t in reader.tensors:
        raw = reader.data[t.data_offset : t.data_offset + t.n_bytes]
        tensors.append(
            {
                "name": t.name,
                "ggml_type": int(t.tensor_type),
                "ggml_type_name": t.tensor_type.name,
                "shape": [int(d) for d in t.shape],
                "offset": int(t.data_offset - reader.data_offset),
                "n_bytes": int(t.n_bytes),
                "sha256": hashlib.sha256(raw.tobytes()).hexdigest(),
            }
        )

    return {
        "gguf_version": package_version("gguf"),
        "version": header["GGUF.version"],
        "tensor_count": header["GGUF.tensor_count"],
        "kv_count": header["GGUF.kv_count"],
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "metadata": metadata,
        "tensors": tensors,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} FILE.gguf")
    json.dump(describe(sys.argv[1]), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
