"""KV cache types (``type_k``/``type_v``, ``edge_context_params``): names checked before
anything loads, out-of-range values refused by libedge, q8_0 refused where the heads are
too narrow, and a q8_0 context continuing prompts greedily as llama.cpp does with the same
cache types (``tests/golden/kv-cache``, made by ``tests/refgen/llamacpp_kv_refs.sh``)."""

import json
from ctypes import byref

import pytest

import edgerun
from edgerun import _lib

from conftest import QUICK, REPO, greedy_steps

#: Committed with the repository: 4 attention heads of 16, too narrow for q8_0 blocks of 32.
QWEN2_TINY = REPO / "tests" / "golden" / "qwen" / "qwen2-tiny.f32.gguf"
KV_GOLDEN = REPO / "tests" / "golden" / "kv-cache"


def _last_error(lib):
    return lib.edge_last_error().decode("utf-8", "replace")


@pytest.mark.parametrize("field", ["type_k", "type_v"])
def test_unknown_names_are_value_errors_before_loading(field):
    # The file does not exist: the name is refused first.
    with pytest.raises(ValueError, match=rf"'q4_0' for {field} \(known: 'f16', 'q8_0'\)"):
        edgerun.Model("no-such-model.gguf", **{field: "q4_0"})
    with pytest.raises(TypeError, match=field):
        edgerun.Model("no-such-model.gguf", **{field: 1})


def test_names_are_case_insensitive_like_the_cli():
    with pytest.raises(edgerun.EdgeIOError):  # the names passed; the file is missing
        edgerun.Model("no-such-model.gguf", type_k="Q8_0", type_v="F16")


def test_out_of_range_values_are_invalid_arguments():
    lib = _lib.load()
    model = _lib.ModelPtr()
    assert lib.edge_model_load(str(QWEN2_TINY).encode(), None, byref(model)) == 0
    try:
        defaults = lib.edge_context_default_params()
        assert (defaults.type_k, defaults.type_v) == (_lib.CACHE_TYPES["f16"],) * 2
        for field in ("type_k", "type_v"):
            for bad in (-1, 2, 7, -(2**31)):
                params = lib.edge_context_default_params()
                params.n_ctx = 16
                setattr(params, field, bad)
                ctx = _lib.ContextPtr()
                status = lib.edge_context_new(model, byref(params), byref(ctx))
                assert status == edgerun.Status.INVALID_ARGUMENT
                assert not ctx
                assert _last_error(lib).startswith(f"{field} = {bad} is not an edge_cache_type")
    finally:
        lib.edge_model_free(model)


@pytest.mark.parametrize(
    "kwargs, fields",
    [
        ({"type_k": "q8_0"}, "type_k"),
        ({"type_v": "q8_0"}, "type_v"),
        ({"type_k": "q8_0", "type_v": "q8_0"}, "type_k and type_v"),
    ],
)
def test_q8_0_needs_heads_of_a_multiple_of_32(kwargs, fields):
    with pytest.raises(edgerun.InvalidArgumentError) as err:
        edgerun.Model(str(QWEN2_TINY), n_ctx=16, **kwargs)
    assert err.value.message.startswith(f"{fields} = EDGE_CACHE_Q8_0: ")
    assert "head width 16" in err.value.message
    with edgerun.Model(str(QWEN2_TINY), n_ctx=16, type_k="f16", type_v="f16") as m:
        m.decode([1, 2, 3])
        assert len(m.logits()) == 512


@pytest.mark.parametrize("name", ["smollm2-k_q8_0-v_q8_0", "smollm2-k_q8_0-v_f16"])
def test_q8_0_greedy_equals_llama_cpp(smollm2_path, name):
    with open(KV_GOLDEN / f"{name}.json", encoding="utf-8") as f:
        golden = json.load(f)
    prompts = golden["prompts"][:1] if QUICK else golden["prompts"]
    with edgerun.Model(
        smollm2_path,
        n_ctx=512,  # llama.cpp's
        n_threads=2,
        type_k=golden["cache_type_k"],
        type_v=golden["cache_type_v"],
    ) as m:
        for prompt in prompts:
            assert m.tokenize(prompt["text"]) == prompt["tokens"], prompt["id"]
            n = greedy_steps(prompt)
            ours = [t for t, _ in m.generate_tokens(prompt["text"], max_tokens=n, temperature=0)]
            assert ours == prompt["greedy"][:n], prompt["id"]
