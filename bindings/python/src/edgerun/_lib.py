"""Finding libedge and declaring its C ABI (``edge.h``) for ctypes.

The structures below mirror the header field by field, in its order and with its types:
a ``*_default_params()`` result is returned by value, so a mismatch would corrupt memory.
``tests/test_abi.py`` checks them against ``ffi/include/edge.h``.
"""

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import POINTER, c_bool, c_char, c_char_p, c_float, c_int32, c_uint64, c_void_p

#: Environment variable naming the libedge shared library to load (a file path).
LIBRARY_ENV = "EDGE_LIBRARY"


class _Model(ctypes.Structure):
    """Opaque ``edge_model``."""


class _Context(ctypes.Structure):
    """Opaque ``edge_context``."""


ModelPtr = POINTER(_Model)
ContextPtr = POINTER(_Context)

#: ``bool (*edge_progress_callback)(float progress, void *user_data)``
ProgressCallback = ctypes.CFUNCTYPE(c_bool, c_float, c_void_p)
#: ``bool (*edge_token_callback)(const char *piece, int32_t piece_len, int32_t token,
#: void *user_data)``
TokenCallback = ctypes.CFUNCTYPE(c_bool, POINTER(c_char), c_int32, c_int32, c_void_p)


class ModelParams(ctypes.Structure):
    """``edge_model_params``."""

    _fields_ = [
        ("use_mmap", c_bool),
        ("n_threads", c_int32),
        ("progress", ProgressCallback),
        ("progress_user_data", c_void_p),
    ]


class ContextParams(ctypes.Structure):
    """``edge_context_params``."""

    _fields_ = [
        ("n_ctx", c_int32),
        ("n_threads", c_int32),
        ("type_k", c_int32),
        ("type_v", c_int32),
    ]


#: ``edge_cache_type`` by the names of llama.cpp's ``--cache-type-k``/``--cache-type-v``:
#: ``EDGE_CACHE_F16``, ``EDGE_CACHE_Q8_0``.
CACHE_TYPES = {"f16": 0, "q8_0": 1}


class SamplingParams(ctypes.Structure):
    """``edge_sampling_params``."""

    _fields_ = [
        ("temperature", c_float),
        ("top_k", c_int32),
        ("top_p", c_float),
        ("min_p", c_float),
        ("repeat_penalty", c_float),
        ("seed", c_uint64),
        ("max_tokens", c_int32),
        ("repeat_last_n", c_int32),
        ("frequency_penalty", c_float),
        ("presence_penalty", c_float),
    ]


#: ``EDGE_DEFAULT_SEED``: a new random seed at each call.
DEFAULT_SEED = 2**64 - 1


_Int32Ptr = POINTER(c_int32)

# name: (restype, argtypes), in the order of edge.h.
_PROTOTYPES = {
    "edge_version": (c_char_p, []),
    "edge_last_error": (c_char_p, []),
    "edge_chat_apply_template": (
        c_int32,
        [ModelPtr, POINTER(c_char_p), POINTER(c_char_p), c_int32, c_bool, c_char_p, c_int32],
    ),
    "edge_context_default_params": (ContextParams, []),
    "edge_context_new": (c_int32, [ModelPtr, POINTER(ContextParams), POINTER(ContextPtr)]),
    "edge_context_free": (None, [ContextPtr]),
    "edge_context_reset": (c_int32, [ContextPtr]),
    "edge_decode": (c_int32, [ContextPtr, _Int32Ptr, c_int32]),
    "edge_get_logits": (POINTER(c_float), [ContextPtr, _Int32Ptr]),
    "edge_context_n_ctx": (c_int32, [ContextPtr]),
    "edge_context_n_past": (c_int32, [ContextPtr]),
    "edge_sampling_default_params": (SamplingParams, []),
    "edge_generate": (
        c_int32,
        [ContextPtr, c_char_p, POINTER(SamplingParams), TokenCallback, c_void_p],
    ),
    "edge_context_stop_reason": (c_int32, [ContextPtr]),
    "edge_model_meta_str": (c_int32, [ModelPtr, c_char_p, c_char_p, c_int32]),
    "edge_model_meta_count": (c_int32, [ModelPtr]),
    "edge_model_meta_key_by_index": (c_int32, [ModelPtr, c_int32, c_char_p, c_int32]),
    "edge_model_meta_val_str_by_index": (c_int32, [ModelPtr, c_int32, c_char_p, c_int32]),
    "edge_model_default_params": (ModelParams, []),
    "edge_model_load": (c_int32, [c_char_p, POINTER(ModelParams), POINTER(ModelPtr)]),
    "edge_model_free": (None, [ModelPtr]),
    "edge_model_n_vocab": (c_int32, [ModelPtr]),
    "edge_model_n_ctx_train": (c_int32, [ModelPtr]),
    "edge_model_n_embd": (c_int32, [ModelPtr]),
    "edge_model_n_layer": (c_int32, [ModelPtr]),
    "edge_tokenize": (
        c_int32,
        [ModelPtr, c_char_p, c_int32, _Int32Ptr, c_int32, c_bool, c_bool],
    ),
    "edge_token_to_piece": (c_int32, [ModelPtr, c_int32, c_char_p, c_int32]),
    "edge_detokenize": (
        c_int32,
        [ModelPtr, _Int32Ptr, c_int32, c_char_p, c_int32, c_bool, c_bool],
    ),
    "edge_token_bos": (c_int32, [ModelPtr]),
    "edge_token_eos": (c_int32, [ModelPtr]),
    "edge_token_is_eog": (c_bool, [ModelPtr, c_int32]),
}

#: ``edge_tokenize`` and friends return this on error.
INT32_MIN = -(2**31)

_lock = threading.Lock()
_lib = None


def _library_file_name():
    if sys.platform == "darwin":
        return "libedge.dylib"
    if sys.platform == "win32":
        return "edge.dll"
    return "libedge.so"


def _candidates():
    """Where libedge is looked for, in order: ``$EDGE_LIBRARY``, next to this package,
    then the system's library search path."""
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        return [explicit], True
    found = []
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), _library_file_name())
    if os.path.exists(beside):
        found.append(beside)
    system = ctypes.util.find_library("edge")
    if system:
        found.append(system)
    return found, False


def _declare(lib):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def load():
    """The loaded libedge (loaded on first use, then shared).

    Raises ``OSError`` when no libedge can be found or loaded, naming where it looked.
    """
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        candidates, explicit = _candidates()
        errors = []
        for path in candidates:
            try:
                _lib = _declare(ctypes.CDLL(path))
                return _lib
            except (OSError, AttributeError) as e:
                errors.append(f"{path}: {e}")
        where = (
            f"${LIBRARY_ENV}"
            if explicit
            else f"${LIBRARY_ENV} (unset), next to the package ({_library_file_name()}), "
            "the system library path (libedge)"
        )
        detail = "; ".join(errors) if errors else "not found"
        raise OSError(f"edgerun: cannot load libedge, looked in {where}: {detail}")
