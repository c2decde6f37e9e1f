"""edgerun: Python bindings for edge, over its C ABI (libedge) with ctypes.

libedge is found through the environment variable ``EDGE_LIBRARY`` (a file path), else
next to this package (``edgerun/libedge.so``), else on the system's library path::

    import edgerun

    with edgerun.Model("SmolLM2-135M-Instruct.Q4_1.gguf") as model:
        for piece in model.generate("The capital of France is", max_tokens=16, temperature=0):
            print(piece, end="", flush=True)
"""

from .errors import (
    CancelledError,
    ContextFullError,
    EdgeError,
    EdgeIOError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    OutOfMemoryError,
    Status,
    UnsupportedError,
)
from .model import Model, version

__all__ = [
    "CancelledError",
    "ContextFullError",
    "EdgeError",
    "EdgeIOError",
    "FormatError",
    "InternalError",
    "InvalidArgumentError",
    "Model",
    "OutOfMemoryError",
    "Status",
    "UnsupportedError",
    "version",
]
