#!/usr/bin/env python3
"""Golden files for edge-quant, produced by the `gguf` Python package (llama.cpp's gguf-py).

Run from the repository root:  python3 tests/refgen/gguf_goldens.py
Needs: pip install gguf==0.19.0 numpy; the test models in the cache (scripts/fetch-models.sh).

Writes under tests/golden/:
  ggml-types.json            gguf-py's (block size, type size) for every ggml type id
  dequant-models.json        sha256 of gguf.quants.dequantize(tensor) as little-endian f32, every
                             tensor of both test models
  random-blocks/<T>.in.bin   random blocks of type T (f16/f32 scale fields forced to finite values)
  random-blocks/<T>.out.bin  gguf.quants.dequantize of them, little-endian f32
  quantize/input.f32.bin     rows to quantize: gaussian rows and edge-case rows (f32 LE)
  quantize/<T>.bin           gguf.quants.quantize(input, T) for the types gguf-py quantizes
  quantize/model-rows.json   sha256 of gguf.quants.quantize(dequantize(tensor), T) for a few real
                             tensors (the test rebuilds the input with its own bit-exact dequantizer)
Nothing here is computed by edge.
"""
import hashlib
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "golden")
CACHE = os.environ.get("EDGE_MODELS", os.path.expanduser("~/.cache/edge/models"))
MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}
# The types edge-quant implements.
TYPES = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q8_1, T.Q2_K, T.Q3_K,
         T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K, T.IQ4_NL, T.IQ4_XS]
# Types gguf.quants can quantize among the ones the issue asks bit-exactness for.
QUANTIZE_TYPES = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
# Byte offsets of the f16 scale fields inside one block (from ggml-common.h); random bytes there
# would often be NaN/Inf, which says nothing about the decoder, so they get finite values.
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0], T.Q8_1: [0, 2],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    T.IQ4_NL: [0], T.IQ4_XS: [0],
}
N_RANDOM_BLOCKS = 16


def sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def dequant_f32(raw: np.ndarray, qtype: T) -> np.ndarray:
    if qtype == T.F32:
        return raw.view(np.float32).astype("<f4")
    if qtype == T.F16:
        return raw.view(np.float16).astype("<f4")
    return gguf.quants.dequantize(raw, qtype).astype("<f4")


def write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def types_table() -> None:
    table = {str(int(t)): {"name": t.name, "block_size": bs, "type_size": ts}
             for t, (bs, ts) in GGML_QUANT_SIZES.items()}
    with open(os.path.join(GOLDEN, "ggml-types.json"), "w") as f:
        json.dump({"gguf_version": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
                   "types": table}, f, indent=1)


def model_tensors() -> None:
    out = {}
    for key, fname in MODELS.items():
        reader = gguf.GGUFReader(os.path.join(CACHE, fname))
        tensors = {}
        for t in reader.tensors:
            raw = np.ascontiguousarray(t.data).view(np.uint8).reshape(-1)
            f32 = dequant_f32(raw, t.tensor_type)
            tensors[t.name] = {"type": t.tensor_type.name, "n_elements": int(t.n_elements),
                               "sha256": sha256(f32)}
            print(f"{key} {t.name} {t.tensor_type.name}", file=sys.stderr)
        out[key] = {"file": fname, "tensors": tensors}
    with open(os.path.join(GOLDEN, "dequant-models.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


def random_blocks(rng: np.random.Generator) -> None:
    for qtype in TYPES:
        bs, ts = GGML_QUANT_SIZES[qtype]
        if qtype == T.Q8_1:
            ts = 36  # gguf-py's table still has the old 40-byte layout; ggml's block_q8_1 is 36
            continue  # and gguf-py has no Q8_1 decoder; edge's is checked by hand-made tests
        if qtype in (T.F32, T.F16, T.BF16):
            n = N_RANDOM_BLOCKS * 32
            x = (rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, n))).astype(np.float32)
            raw = {T.F32: x.view(np.uint8),
                   T.F16: x.astype(np.float16).view(np.uint8),
                   T.BF16: (x.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)}[qtype]
        else:
            raw = rng.integers(0, 256, size=(N_RANDOM_BLOCKS, ts), dtype=np.uint8)
            for off in F16_FIELDS.get(qtype, []):
                d = (rng.standard_normal(N_RANDOM_BLOCKS) * 0.05).astype(np.float16)
                raw[:, off:off + 2] = d.view(np.uint8).reshape(-1, 2)
            if qtype == T.Q8_K:
                d = (rng.standard_normal(N_RANDOM_BLOCKS) * 0.01).astype("<f4")
                raw[:, 0:4] = d.view(np.uint8).reshape(-1, 4)
            raw = raw.reshape(-1)
        if qtype == T.Q8_K:
            # gguf-py has no Q8_K decoder: y = d * q, in f32 (ggml's dequantize_row_q8_K).
            blocks = raw.reshape(-1, ts)
            d = blocks[:, 0:4].copy().view("<f4")
            q = blocks[:, 4:260].copy().view(np.int8).astype(np.float32)
            out = (d * q).astype("<f4").reshape(-1)
        else:
            out = dequant_f32(raw, qtype)
        write(os.path.join(GOLDEN, "random-blocks", f"{qtype.name}.in.bin"), raw.tobytes())
        write(os.path.join(GOLDEN, "random-blocks", f"{qtype.name}.out.bin"), out.tobytes())


def quantize_inputs(rng: np.random.Generator) -> np.ndarray:
    n = 1024
    rows = [rng.standard_normal(n) * s for s in (1.0, 0.02, 1e3)]
    rows.append(np.zeros(n))
    rows.append(np.full(n, 0.5))
    spike = rng.standard_normal(n) * 0.01
    spike[::97] = 40.0
    rows.append(spike)
    rows.append(rng.standard_normal(n) * 1e-6)             # tiny: f16 scales go subnormal
    rows.append(rng.uniform(-1, 1, n) * 6e4)               # near the f16 maximum
    rows.append(np.round(rng.standard_normal(n) * 4))      # integers: ties in rounding
    rows.append(-np.abs(rng.standard_normal(n)))           # one sign only
    return np.stack(rows).astype(np.float32)


def quantize_goldens(rng: np.random.Generator) -> None:
    x = quantize_inputs(rng)
    write(os.path.join(GOLDEN, "quantize", "input.f32.bin"), x.astype("<f4").tobytes())
    for qtype in QUANTIZE_TYPES:
        q = gguf.quants.quantize(x, qtype)
        write(os.path.join(GOLDEN, "quantize", f"{qtype.name}.bin"), q.tobytes())
    # Real weights: a few whole tensors, dequantized then quantized by gguf-py.
    picks = {"smollm2": ["blk.0.attn_q.weight", "blk.3.ffn_down.weight", "token_embd.weight"],
             "gemma3": ["blk.0.ffn_down.weight", "blk.1.attn_output.weight", "blk.0.attn_q.weight"]}
    out = {}
    for key, names in picks.items():
        reader = gguf.GGUFReader(os.path.join(CACHE, MODELS[key]))
        by_name = {t.name: t for t in reader.tensors}
        for name in names:
            t = by_name[name]
            raw = np.ascontiguousarray(t.data).view(np.uint8).reshape(-1)
            f32 = dequant_f32(raw, t.tensor_type).reshape(-1, int(t.shape[0]))
            for qtype in QUANTIZE_TYPES:
                q = gguf.quants.quantize(f32, qtype)
                out[f"{key}/{name}/{qtype.name}"] = sha256(q)
    with open(os.path.join(GOLDEN, "quantize", "model-rows.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


def main() -> None:
    rng = np.random.default_rng(20261121)
    types_table()
    random_blocks(rng)
    quantize_goldens(rng)
    model_tensors()


if __name__ == "__main__":
    main()
