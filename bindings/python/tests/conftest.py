"""Shared fixtures: the test models, llama.cpp's reference outputs, the repository.

A missing model or reference skips the tests that need it, unless ``EDGE_CI=1``, where it
is a failure. ``EDGE_TEST_QUICK=1`` (set for the runs under emulation) keeps the slow
model-based tests to a subset.
"""

import json
import os
from pathlib import Path

import pytest

#: The repository root (bindings/python/tests/ is three levels below it).
REPO = Path(__file__).resolve().parents[3]
REFERENCE = Path(os.environ.get("EDGE_REFERENCE", REPO.parent / "shared" / "reference"))
MODELS = Path(os.environ.get("EDGE_MODELS", Path.home() / ".cache" / "edge" / "models"))
QUICK = os.environ.get("EDGE_TEST_QUICK") == "1"

#: Marks a test left out of the quick subset (emulated CPUs evaluate about one token a second).
not_quick = pytest.mark.skipif(QUICK, reason="left out of the quick subset (EDGE_TEST_QUICK=1)")


def _need(path):
    if path.exists():
        return path
    if os.environ.get("EDGE_CI") == "1":
        pytest.fail(f"{path} is missing (EDGE_CI=1)")
    pytest.skip(f"{path} not found")


@pytest.fixture(scope="session")
def smollm2_path():
    return str(_need(MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"))


@pytest.fixture(scope="session")
def gemma3_path():
    return str(_need(MODELS / "gemma-3-270m-q4_k_m.gguf"))


@pytest.fixture(scope="session")
def smollm2_reference():
    with open(_need(REFERENCE / "llama.cpp" / "smollm2.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def model(smollm2_path):
    import edgerun

    with edgerun.Model(smollm2_path, n_ctx=512, n_threads=2) as m:
        yield m


@pytest.fixture(scope="session")
def chat_golden():
    return _need(REPO / "tests" / "golden" / "chat")


def as_llama_cpp_read_it(text):
    """The text llama.cpp tokenized for a reference corpus line: its tools read their input
    with C-style escapes processed (``\\n``, ``\\r``, ``\\t``, ``\\'``, ``\\"``,
    ``\\\\``, ``\\xNN``; any other backslash is kept), so in ``C:\\Users\\name`` the
    ``\\n`` became a newline, as the reference ids show (see tests/tests/tokenizer_reference.rs)."""
    data = text.encode("utf-8")
    out = bytearray()
    simple = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("'"): 39, ord('"'): 34, ord("\\"): 92}
    i = 0
    while i < len(data):
        if data[i] != 92 or i + 1 == len(data):
            out.append(data[i])
            i += 1
            continue
        nxt = data[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
        elif nxt == ord("x") and _is_hex(data[i + 2 : i + 4]):
            out.append(int(data[i + 2 : i + 4], 16))
            i += 2
        else:
            out += data[i : i + 2]
        i += 2
    return out.decode("utf-8")


def _is_hex(b):
    return len(b) == 2 and all(c in b"0123456789abcdefABCDEF" for c in b)


def greedy_steps(prompt, limit=16):
    """How many of llama.cpp's greedy steps a correct runtime must reproduce: up to
    ``limit``, stopping before the first near-tie (``greedy_margin`` < 0.5), as in
    tests/tests/llm_reference.rs."""
    n = 0
    for margin in prompt["greedy_margin"][: min(limit, len(prompt["greedy"]))]:
        if margin < 0.5:
            break
        n += 1
    return n
