"""The ctypes declarations match ffi/include/edge.h: every function's return and argument
types, and every params structure field by field (they are passed and returned by value, so
a difference would corrupt memory rather than fail)."""

import os
import re
from ctypes import POINTER, c_bool, c_char_p, c_float, c_int32, c_uint64, c_void_p
from pathlib import Path

import pytest

from edgerun import _lib

from conftest import REPO

HEADER = Path(os.environ.get("EDGE_HEADER", REPO / "ffi" / "include" / "edge.h"))

C_TYPES = {
    "void": None,
    "bool": c_bool,
    "int32_t": c_int32,
    "uint64_t": c_uint64,
    "float": c_float,
    "void *": c_void_p,
    "char *": c_char_p,
    "const char *": c_char_p,
    "const char *const *": POINTER(c_char_p),
    "int32_t *": POINTER(c_int32),
    "const int32_t *": POINTER(c_int32),
    "const float *": POINTER(c_float),
    "enum edge_status": c_int32,
    "enum edge_stop_reason": c_int32,
    "edge_progress_callback": _lib.ProgressCallback,
    "edge_token_callback": _lib.TokenCallback,
    "struct edge_model *": _lib.ModelPtr,
    "const struct edge_model *": _lib.ModelPtr,
    "struct edge_model **": POINTER(_lib.ModelPtr),
    "struct edge_context *": _lib.ContextPtr,
    "struct edge_context **": POINTER(_lib.ContextPtr),
    "struct edge_model_params": _lib.ModelParams,
    "const struct edge_model_params *": POINTER(_lib.ModelParams),
    "struct edge_context_params": _lib.ContextParams,
    "const struct edge_context_params *": POINTER(_lib.ContextParams),
    "struct edge_sampling_params": _lib.SamplingParams,
    "const struct edge_sampling_params *": POINTER(_lib.SamplingParams),
}


@pytest.fixture(scope="module")
def header():
    if not HEADER.exists():
        if os.environ.get("EDGE_CI") == "1":
            pytest.fail(f"{HEADER} is missing (EDGE_CI=1)")
        pytest.skip(f"{HEADER} not found (an installed package without the repository)")
    text = HEADER.read_text(encoding="utf-8")
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)


def _split(decl):
    """'const char *name' -> ('const char *', 'name')."""
    decl = " ".join(decl.split())
    m = re.match(r"(.*?)\s*\b(\w+)$", decl)
    ctype = m.group(1).replace(" *", " *").strip()
    ctype = re.sub(r"\s*\*\s*", " *", ctype).replace("* *", "**").strip()
    return ctype, m.group(2)


def _ctype(name):
    assert name in C_TYPES, f"edge.h type {name!r} has no ctypes mapping in test_abi.py"
    return C_TYPES[name]


def test_params_structs_match_the_header(header):
    structs = dict(re.findall(r"typedef struct (\w+) \{(.*?)\} \1;", header, re.S))
    for cname, cls in [
        ("edge_model_params", _lib.ModelParams),
        ("edge_context_params", _lib.ContextParams),
        ("edge_sampling_params", _lib.SamplingParams),
    ]:
        assert cname in structs, cname
        fields = [_split(f) for f in structs[cname].split(";") if f.strip()]
        want = [(name, _ctype(ctype)) for ctype, name in fields]
        assert [(n, t) for n, t in cls._fields_] == want, cname


def test_functions_match_the_header(header):
    decls = re.findall(r"^([^\n;{}#]*?\b(edge_\w+))\(([^)]*)\);", header, re.M)
    found = {}
    for whole, name, args in decls:
        ret = whole[: whole.rindex(name)].strip()
        ret = re.sub(r"\s*\*\s*", " *", ret).strip()
        argtypes = [] if args.strip() in ("", "void") else [_split(a)[0] for a in args.split(",")]
        found[name] = (_ctype(ret), [_ctype(a) for a in argtypes])
    for name, (restype, argtypes) in _lib._PROTOTYPES.items():
        assert name in found, f"{name} is not in edge.h"
        assert found[name] == (restype, argtypes), name
    unbound = sorted(set(found) - set(_lib._PROTOTYPES))
    assert not unbound, f"edge.h functions the Python binding does not declare: {unbound}"


def test_structs_round_trip_through_the_library():
    lib = _lib.load()
    sp = lib.edge_sampling_default_params()
    assert sp.seed == _lib.DEFAULT_SEED and sp.max_tokens == 256 and sp.top_k == 40
    assert abs(sp.temperature - 0.8) < 1e-6
    mp = lib.edge_model_default_params()
    assert mp.use_mmap and mp.n_threads == 0 and not mp.progress


def test_cache_type_names_match_the_header(header):
    m = re.search(r"typedef enum edge_cache_type \{(.*?)\} edge_cache_type;", header, re.S)
    assert m, "edge_cache_type is not in edge.h"
    values = dict(re.findall(r"EDGE_CACHE_(\w+) = (\d+)", m.group(1)))
    assert {name.lower(): int(v) for name, v in values.items()} == _lib.CACHE_TYPES
