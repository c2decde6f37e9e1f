"""Tokenization and model facts against llama.cpp's token ids on the same GGUF."""

import threading

import pytest

import edgerun

from conftest import QUICK, as_llama_cpp_read_it


def test_version_is_a_string():
    assert edgerun.version()


def test_tokenize_equals_llama_cpp(model, smollm2_reference):
    cases = smollm2_reference["tokenizer"]
    if QUICK:
        cases = cases[:8]
    for case in cases:
        text = as_llama_cpp_read_it(case["text"])
        assert model.tokenize(text) == case["ids_default"], text
        assert model.tokenize(text, add_special=False) == case["ids_no_bos"], text


def test_prompt_tokens_equal_llama_cpp(model, smollm2_reference):
    for prompt in smollm2_reference["prompts"]:
        assert model.tokenize(prompt["text"]) == prompt["tokens"], prompt["text"]


def test_tokenize_accepts_utf8_bytes(model, smollm2_reference):
    case = smollm2_reference["tokenizer"][0]
    assert "\\" not in case["text"]
    assert model.tokenize(case["text"].encode("utf-8")) == case["ids_default"]


def test_special_text_unparsed_is_plain_text(model):
    with_specials = model.tokenize("<|im_start|>user", add_special=False)
    as_text = model.tokenize("<|im_start|>user", add_special=False, parse_special=False)
    assert len(as_text) > len(with_specials)


def test_detokenize_round_trips_plain_text(model, smollm2_reference):
    for case in smollm2_reference["tokenizer"][:20]:
        text = as_llama_cpp_read_it(case["text"])
        if "<" in text:  # special-token text
            continue
        assert model.detokenize(case["ids_no_bos"]) == text


def test_token_to_piece(model):
    # "Hello world" is [19556, 905] for llama.cpp (see the reference's first case).
    assert model.token_to_piece(19556) == b"Hello"
    assert model.token_to_piece(905) == b" world"
    with pytest.raises(edgerun.InvalidArgumentError):
        model.token_to_piece(model.n_vocab)
    with pytest.raises(edgerun.InvalidArgumentError):
        model.token_to_piece(-1)


def test_model_facts(model):
    # SmolLM2-135M: a 49152-token vocabulary, trained with an 8192-token context
    # (the model's config.json: vocab_size, max_position_embeddings).
    assert model.n_vocab == 49152
    assert model.n_ctx_train == 8192
    assert model.meta("general.architecture") == "llama"
    assert model.meta("llama.context_length") == "8192"
    assert model.meta("no.such.key") is None
    assert model.meta("no.such.key", "x") == "x"
    metadata = model.metadata
    assert metadata["general.architecture"] == "llama"
    assert "tokenizer.ggml.tokens" not in metadata  # arrays are left out
    assert model.token_bos is not None and model.token_is_eog(model.token_eos)


def test_long_metadata_value_is_whole(model):
    template = model.meta("tokenizer.chat_template")
    assert template is not None and len(template) > 256
    assert "<|im_start|>" in template


def test_tokenize_from_threads(model, smollm2_reference):
    cases = smollm2_reference["tokenizer"][:10]
    failures = []

    def work():
        for case in cases:
            if model.tokenize(as_llama_cpp_read_it(case["text"])) != case["ids_default"]:
                failures.append(case["text"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
