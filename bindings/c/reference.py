#!/usr/bin/env python3
"""Turns reference outputs for SmolLM2 into a line format the C test program reads without
a JSON parser: llama.cpp's tokens and greedy continuations
(shared/reference/llama.cpp/smollm2.json, produced by libllama; with a q8_0 KV cache:
tests/golden/kv-cache/smollm2-*.json, made by tests/refgen/llamacpp_kv_refs.sh, found next
to the chat goldens) and the chat-template renderings of jinja2 (tests/golden/chat/, made
by tests/refgen/chat_templates.py). Texts are hex-encoded UTF-8 ("-" when empty) so that
any byte survives.

  T <add_special 0|1> <hex text> <n> <id>...                  tokenization
  G <type_k> <type_v> <hex prompt> <n_checked> <n_prompt> <id>... <n> <id>...
                                                              greedy continuation with a
                                                              KV cache of these types
                                                              (f16 or q8_0)
  C <add_generation_prompt 0|1> <n> (<hex role> <hex content>)... <hex rendered>

Greedy steps are checked up to the first one where llama.cpp's own best-minus-second logit
margin is below 0.5 (a near-tie another correct runtime may break the other way), at most 8.

usage: reference.py smollm2.json tests/golden/chat > reference.txt
"""
import json
import os
import sys


def hexed(text):
    return text.encode("utf-8").hex() or "-"


def as_llama_cpp_read_it(text):
    """The text llama.cpp tokenized for a corpus line: its tools read their input with
    C-style escapes processed (\\n \\r \\t \\' \\" \\\\ \\xNN; any other backslash is kept), so
    in `C:\\Users\\name` the `\\n` became a newline, as the reference ids show."""
    raw = text.encode("utf-8")
    out = bytearray()
    simple = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("'"): 39, ord('"'): 34, ord("\\"): 92}
    i = 0
    while i < len(raw):
        if raw[i] != 92 or i + 1 == len(raw):
            out.append(raw[i])
            i += 1
            continue
        c = raw[i + 1]
        if c in simple:
            out.append(simple[c])
        elif c == ord("x") and len(raw) >= i + 4 and all(
            chr(h) in "0123456789abcdefABCDEF" for h in raw[i + 2 : i + 4]
        ):
            out.append(int(raw[i + 2 : i + 4], 16))
            i += 2
        else:
            out.extend(raw[i : i + 2])
        i += 2
    return out.decode("utf-8")


def ids(values):
    return " ".join([str(len(values))] + [str(v) for v in values])


ref = json.load(open(sys.argv[1]))
out = []
for case in ref["tokenizer"]:
    text = as_llama_cpp_read_it(case["text"])
    out.append(f"T 1 {hexed(text)} {ids(case['ids_default'])}")
    out.append(f"T 0 {hexed(text)} {ids(case['ids_no_bos'])}")


def greedy_lines(prompts, type_k, type_v):
    for prompt in prompts:
        margins = prompt["greedy_margin"]
        n = next((i for i, m in enumerate(margins) if m < 0.5), len(margins))
        n = min(n, 8, len(prompt["greedy"]))
        yield (
            f"G {type_k} {type_v} {hexed(prompt['text'])} {n} {ids(prompt['tokens'])} "
            f"{ids(prompt['greedy'][:n])}"
        )


out += greedy_lines(ref["prompts"], "f16", "f16")
chat_dir = sys.argv[2]
kv_dir = os.path.join(chat_dir, os.pardir, "kv-cache")
for name in sorted(os.listdir(kv_dir)):
    if name.startswith("smollm2-") and name.endswith(".json"):
        kv = json.load(open(os.path.join(kv_dir, name)))
        out += greedy_lines(kv["prompts"], kv["cache_type_k"], kv["cache_type_v"])
cases = json.load(open(os.path.join(chat_dir, "cases.json")))
for name, case in cases.items():
    path = os.path.join(chat_dir, f"smollm2-{name}.txt")
    if not os.path.exists(path):
        continue
    expected = open(path, encoding="utf-8", newline="").read()
    messages = " ".join(f"{hexed(m['role'])} {hexed(m['content'])}" for m in case["messages"])
    gen = int(case["add_generation_prompt"])
    out.append(f"C {gen} {len(case['messages'])} {messages} {hexed(expected)}")
print("\n".join(out))
