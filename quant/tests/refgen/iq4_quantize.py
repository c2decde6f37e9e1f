#!/usr/bin/env python3
"""Golden IQ4_NL / IQ4_XS quantizations made by llama.cpp, for the unit tests in
quant/src/iq4.rs (gguf-py has no IQ4 quantizer to compare with).

Run from the repository root with a llama.cpp source tree (only ggml/ is used):
    LLAMA_CPP=/path/to/llama.cpp python3 quant/tests/refgen/iq4_quantize.py

ggml-quants.c is compiled on its own with -ffp-contract=off: builds for a CPU with FMA
(llama.cpp's default -march=native) let the compiler fuse the weighted sums of the scale
search, which flips the choice in roughly 1 block in 1000. Without fusion the arithmetic is
plain IEEE f32, the same on every machine, and that is what edge reproduces.

Writes quant/tests/golden/iq4_quant.f32.bin (the input rows) and iq4_quant.{nl,xs}.bin.
"""
import os
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "golden")
LLAMA = os.environ.get("LLAMA_CPP", "/tmp/llama.cpp")
ROW = 256


def inputs() -> np.ndarray:
    """Four rows of 256: gaussian; gaussian with outliers; tiny values; one row mixing a
    zero sub-block, a constant sub-block, values exactly on the IQ4 grid, and huge ones."""
    rng = np.random.default_rng(4242)
    gauss = rng.standard_normal(ROW)
    outliers = rng.standard_normal(ROW)
    outliers[::19] *= 40.0
    tiny = rng.standard_normal(ROW) * 1e-6
    mixed = rng.standard_normal(ROW) * 3.0
    mixed[0:32] = 0.0
    mixed[32:64] = 0.37
    grid = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113])
    mixed[64:96] = np.concatenate([grid, grid[::-1]]) * 0.01
    mixed[224:256] *= 1e4
    return np.stack([gauss, outliers, tiny, mixed]).astype("<f4")


def main() -> None:
    ggml = os.path.join(LLAMA, "ggml")
    x = inputs()
    os.makedirs(OUT, exist_ok=True)
    x.tofile(os.path.join(OUT, "iq4_quant.f32.bin"))
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "iq4_quantize")
        subprocess.run(["cc", "-O2", "-DNDEBUG", "-ffp-contract=off",
                        "-I", os.path.join(ggml, "include"), "-I", os.path.join(ggml, "src"),
                        os.path.join(HERE, "iq4_quantize.c"), os.path.join(ggml, "src", "ggml-quants.c"),
                        "-lm", "-o", exe], check=True)
        src = os.path.join(OUT, "iq4_quant.f32.bin")
        for kind in ("nl", "xs"):
            dst = os.path.join(OUT, f"iq4_quant.{kind}.bin")
            subprocess.run([exe, kind, src, str(ROW), dst], check=True)
            print(f"{dst}: {os.path.getsize(dst)} bytes")


if __name__ == "__main__":
    main()
