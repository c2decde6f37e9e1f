#!/usr/bin/env python3
"""Golden IQ4_NL / IQ4_XS blocks decoded by gguf-py, for the unit tests in quant/src/iq4.rs.

Run from the repository root (needs numpy and the `gguf` package from llama.cpp):
    python3 quant/tests/refgen/iq4_dequant.py

Writes quant/tests/golden/iq4_{nl,xs}.{blocks,f32}.bin: seeded random blocks whose f16
scales are kept finite (an arbitrary f16 would too often be NaN/Inf and hide the rest), and
gguf-py's little-endian f32 decoding of them.
"""
import os

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")


def finite_f16(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random f16 scales, normal or subnormal, either sign, as little-endian bytes."""
    bits = rng.integers(0, 0x7C00, n, dtype=np.uint16) | (rng.integers(0, 2, n, dtype=np.uint16) << 15)
    return bits.astype("<u2").view(np.uint8).reshape(n, 2)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240601)
    cases = {
        "iq4_nl": (T.IQ4_NL, 16, 18),
        "iq4_xs": (T.IQ4_XS, 4, 136),
    }
    for name, (qtype, n, size) in cases.items():
        blocks = rng.integers(0, 256, (n, size), dtype=np.uint8)
        blocks[:, :2] = finite_f16(rng, n)
        y = gguf.quants.dequantize(blocks.reshape(-1), qtype).astype("<f4").reshape(-1)
        blocks.tofile(os.path.join(OUT, f"{name}.blocks.bin"))
        y.tofile(os.path.join(OUT, f"{name}.f32.bin"))
        print(f"{name}: {n} blocks, {y.size} values")


if __name__ == "__main__":
    main()
