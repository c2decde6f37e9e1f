"""Generation against llama.cpp's greedy continuations; streaming and stopping early."""

import threading

import pytest

import edgerun

from conftest import QUICK, greedy_steps, not_quick


def _greedy(model, text, n):
    return [
        token
        for token, _piece in model.generate_tokens(
            text, max_tokens=n, temperature=0, repeat_penalty=1.0
        )
    ]


def test_greedy_equals_llama_cpp(model, smollm2_reference):
    prompts = smollm2_reference["prompts"]
    if QUICK:
        prompts = prompts[:1]
    checked = []
    for prompt in prompts:
        n = greedy_steps(prompt)
        if n == 0:
            continue
        assert _greedy(model, prompt["text"], n) == prompt["greedy"][:n], prompt["text"]
        checked.append(n)
    assert checked, "no prompt without an early near-tie"


@not_quick
def test_generated_text_is_llama_cpp_text(model, smollm2_reference):
    prompt = smollm2_reference["prompts"][0]
    n = greedy_steps(prompt)
    text = "".join(model.generate(prompt["text"], max_tokens=n, temperature=0, repeat_penalty=1.0))
    assert text and prompt["greedy_text"].startswith(text), (text, prompt["greedy_text"])


@not_quick
def test_pieces_stream_before_the_end(model, smollm2_reference):
    """The first piece arrives while generation is still running."""
    prompt = smollm2_reference["prompts"][0]["text"]
    pieces = model.generate(prompt, max_tokens=12, temperature=0)
    first = next(pieces)
    assert first
    assert any(t.name == "edgerun-generate" for t in threading.enumerate())
    rest = list(pieces)
    assert len(rest) >= 1


def _generation_threads():
    return [t for t in threading.enumerate() if t.name == "edgerun-generate"]


def test_break_stops_generation(model, smollm2_reference):
    prompt = smollm2_reference["prompts"][0]
    n = min(greedy_steps(prompt), 2 if QUICK else 16)
    got = []
    for piece in model.generate(prompt["text"], max_tokens=200, temperature=0):
        got.append(piece)
        if len(got) == 2:
            break
    assert len(got) == 2
    # The worker has returned from edge_generate, stopped by the callback answering false...
    assert not _generation_threads()
    assert model.stop_reason == "callback"
    # ...and the model is fine afterwards: a new generation starts from a clean context.
    assert _greedy(model, prompt["text"], n) == prompt["greedy"][:n]


@not_quick
def test_close_generator_and_supersede(model, smollm2_reference):
    prompt = smollm2_reference["prompts"][0]
    first = model.generate(prompt["text"], max_tokens=200, temperature=0)
    next(first)
    second = model.generate_tokens(prompt["text"], max_tokens=1, temperature=0)
    assert [t for t, _ in second] == prompt["greedy"][:1]
    # The first generation was ended by the second.
    with pytest.raises(edgerun.CancelledError):
        list(first)
    third = model.generate(prompt["text"], max_tokens=200, temperature=0)
    next(third)
    third.close()
    assert not _generation_threads()


@not_quick
def test_exception_in_consumer_stops_generation(model, smollm2_reference):
    prompt = smollm2_reference["prompts"][0]["text"]
    with pytest.raises(RuntimeError, match="consumer"):
        for _ in model.generate(prompt, max_tokens=200, temperature=0):
            raise RuntimeError("consumer failed")
    assert not _generation_threads()


@not_quick
def test_max_tokens_bounds_generation(model, smollm2_reference):
    prompt = smollm2_reference["prompts"][2]["text"]  # code: no early end of generation
    assert len(list(model.generate_tokens(prompt, max_tokens=5, temperature=0))) == 5


@not_quick
def test_same_seed_same_text(model):
    def sample(seed):
        return "".join(
            model.generate("Once upon a time", max_tokens=12, temperature=0.9, seed=seed)
        )

    assert sample(1234) == sample(1234)


def test_sampling_parameters(model):
    params = model.sampling_params(top_k=7)
    assert params["top_k"] == 7
    with pytest.raises(TypeError):
        model.generate("x", no_such_parameter=1)


def test_chat_template_equals_jinja(model, chat_golden):
    import json

    cases = json.loads((chat_golden / "cases.json").read_text(encoding="utf-8"))
    for name in ["user", "system-user", "multi-turn", "no-generation-prompt"]:
        case = cases[name]
        expected = (chat_golden / f"smollm2-{name}.txt").read_text(encoding="utf-8")
        got = model.apply_chat_template(case["messages"], case["add_generation_prompt"])
        assert got == expected, name


# The fifth reference prompt is this conversation in SmolLM2's chat template.
CHAT = [
    {
        "role": "system",
        "content": "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
    },
    {"role": "user", "content": "What is the boiling point of water at sea level?"},
]


def test_chat_prompt_is_the_reference_prompt(model, smollm2_reference):
    assert model.apply_chat_template(CHAT) == smollm2_reference["prompts"][4]["text"]


@not_quick
def test_chat_answers_like_llama_cpp(model, smollm2_reference):
    prompt = smollm2_reference["prompts"][4]
    messages = CHAT
    n = max(greedy_steps(prompt), 1)
    answer = "".join(model.chat(messages, max_tokens=n, temperature=0, repeat_penalty=1.0))
    assert answer and prompt["greedy_text"].startswith(answer), (answer, prompt["greedy_text"])


def test_chat_rejects_bad_messages(model):
    with pytest.raises(TypeError):
        model.apply_chat_template([{"role": "user"}])


@not_quick
def test_close_inside_the_loop(smollm2_path, smollm2_reference):
    """Closing the model while iterating ends the generation; nothing crashes."""
    m = edgerun.Model(smollm2_path, n_ctx=64, n_threads=2)
    pieces = m.generate(smollm2_reference["prompts"][0]["text"], max_tokens=50, temperature=0)
    next(pieces)
    m.close()
    with pytest.raises(edgerun.CancelledError):
        list(pieces)
    assert not _generation_threads()
    with pytest.raises(ValueError):
        m.generate("x")
