"""The context: evaluating tokens, logits, a full context."""

import pytest

import edgerun

from conftest import greedy_steps, not_quick


def test_logits_top1_equals_llama_cpp(model, smollm2_reference):
    prompt = smollm2_reference["prompts"][0]
    model.reset()
    assert model.logits() is None
    model.decode(prompt["tokens"])
    logits = model.logits()
    assert len(logits) == model.n_vocab
    top = prompt["positions"][-1]["top"]
    assert top[0][1] - top[1][1] >= 0.5, "reference has a near-tie here"
    assert max(range(len(logits)), key=logits.__getitem__) == top[0][0]


@not_quick
def test_full_context_is_an_error_and_changes_nothing(smollm2_path, smollm2_reference):
    tokens = smollm2_reference["prompts"][1]["tokens"]  # 13 tokens
    with edgerun.Model(smollm2_path, n_ctx=16, n_threads=2) as m:
        m.decode(tokens)
        before = m.logits()
        with pytest.raises(edgerun.ContextFullError) as err:
            m.decode(tokens)
        assert err.value.status == edgerun.Status.CONTEXT_FULL
        assert err.value.message
        assert m.logits() == before
        m.reset()
        m.decode(tokens)
        assert m.logits() == before


@not_quick
def test_generation_stops_at_a_full_context(smollm2_path, smollm2_reference):
    prompt = smollm2_reference["prompts"][2]  # code (7 tokens): no early end of generation
    with edgerun.Model(smollm2_path, n_ctx=16, n_threads=2) as m:
        tokens = [t for t, _ in m.generate_tokens(prompt["text"], max_tokens=64, temperature=0)]
        assert m.stop_reason == "context_full"
        assert len(prompt["tokens"]) + len(tokens) == m.n_past == m.n_ctx == 16
        # A prompt that does not fit at all is an error, and changes nothing.
        with pytest.raises(edgerun.ContextFullError):
            list(m.generate_tokens("word " * 40, max_tokens=4, reset=False))
        assert m.n_past == 16


@not_quick
def test_generation_continues_without_reset(model, smollm2_reference):
    """``reset=False`` continues the context: the greedy continuation split over two calls
    equals llama.cpp's in one."""
    prompt = smollm2_reference["prompts"][0]
    n = greedy_steps(prompt)
    first = [t for t, _ in model.generate_tokens(prompt["text"], max_tokens=2, temperature=0)]
    assert model.stop_reason == "max_tokens"
    assert model.n_past == len(prompt["tokens"]) + 2
    rest = [
        t
        for t, _ in model.generate_tokens(
            "", max_tokens=n - 2, temperature=0, repeat_penalty=1.0, reset=False
        )
    ]
    assert first + rest == prompt["greedy"][:n]


def test_closed_model_refuses_calls(smollm2_path):
    m = edgerun.Model(smollm2_path, n_ctx=64)
    m.close()
    m.close()
    assert m.closed
    with pytest.raises(ValueError):
        m.tokenize("x")
    with pytest.raises(ValueError):
        list(m.generate("x", max_tokens=1))
