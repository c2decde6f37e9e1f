#!/usr/bin/env python3
"""Quantization error of llama.cpp's own quantizer, as golden numbers for edge's quantizers.

Run from the repository root, with a built llama.cpp:
    LLAMA_CPP=/path/to/llama.cpp python3 tests/refgen/llamacpp_rmse.py
($LLAMA_CPP holds ggml/include and build/bin/libggml*.so; benches/llamacpp-build.sh makes one.)

For each dataset (gaussian rows, committed here; and slices of real weights from the two test
models, dequantized by gguf-py) and each type, llama.cpp quantizes (tests/refgen/
llamacpp_quantize.c: ggml_quantize_chunk without an importance matrix), gguf-py dequantizes,
and the RMSE against the input is recorded in tests/golden/quant-rmse/rmse.json together with
the sha256 of llama.cpp's blocks. The Rust test requires edge's RMSE to be no worse.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "golden", "quant-rmse")
CACHE = os.environ.get("EDGE_MODELS", os.path.expanduser("~/.cache/edge/models"))
LLAMA = os.environ.get("LLAMA_CPP", "/tmp/llama.cpp")
MODELS = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3": "gemma-3-270m-q4_k_m.gguf"}
# (model, tensor): the first SLICE elements of the tensor, as rows of ROW elements.
REAL = [("smollm2", "token_embd.weight"), ("smollm2", "blk.0.ffn_down.weight"),
        ("gemma3", "blk.0.attn_q.weight"), ("gemma3", "blk.0.ffn_down.weight")]
SLICE = 131072
ROW = 2048
TYPES = [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K,
         T.IQ4_NL, T.IQ4_XS]


def build_harness(tmp: str) -> str:
    exe = os.path.join(tmp, "llamacpp_quantize")
    subprocess.run(["cc", "-O2", os.path.join(ROOT, "refgen", "llamacpp_quantize.c"),
                    "-I", os.path.join(LLAMA, "ggml", "include"),
                    "-L", os.path.join(LLAMA, "build", "bin"), "-lggml", "-lggml-base",
                    "-Wl,-rpath," + os.path.join(LLAMA, "build", "bin"), "-o", exe], check=True)
    return exe


def datasets(rng: np.random.Generator) -> dict:
    out = {}
    gauss = rng.standard_normal((16, ROW)).astype("<f4")
    gauss.tofile(os.path.join(GOLDEN, "gaussian.f32.bin"))
    out["gaussian"] = gauss
    for key, name in REAL:
        reader = gguf.GGUFReader(os.path.join(CACHE, MODELS[key]))
        t = next(t for t in reader.tensors if t.name == name)
        raw = np.ascontiguousarray(t.data).view(np.uint8).reshape(-1)
        f32 = gguf.quants.dequantize(raw, t.tensor_type).astype("<f4").reshape(-1)[:SLICE]
        out[f"{key}/{name}"] = f32.reshape(-1, ROW)
    return out


def main() -> None:
    os.makedirs(GOLDEN, exist_ok=True)
    rng = np.random.default_rng(7)
    result = {"llama_cpp": os.path.realpath(LLAMA), "slice": SLICE, "row": ROW, "rmse": {}}
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_harness(tmp)
        for ds, x in datasets(rng).items():
            src = os.path.join(tmp, "in.f32")
            x.astype("<f4").tofile(src)
            for qtype in TYPES:
                dst = os.path.join(tmp, "out.bin")
                subprocess.run([exe, src, str(ROW), str(int(qtype)), dst], check=True)
                q = np.fromfile(dst, dtype=np.uint8)
                y = gguf.quants.dequantize(q, qtype).astype(np.float64).reshape(x.shape)
                rmse = float(np.sqrt(np.mean((y - x.astype(np.float64)) ** 2)))
                result["rmse"].setdefault(ds, {})[qtype.name] = {
                    "rmse": rmse, "sha256": hashlib.sha256(q.tobytes()).hexdigest()}
                print(f"{ds:40s} {qtype.name:7s} {rmse:.6g}", file=sys.stderr)
    with open(os.path.join(GOLDEN, "rmse.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
