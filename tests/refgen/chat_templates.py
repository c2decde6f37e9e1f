#!/usr/bin/env python3
"""Expected renderings of real chat templates, by Python's jinja2 (the engine the templates
were written for), set up as Hugging Face transformers' `apply_chat_template` sets it up:
a sandboxed environment with trim_blocks, lstrip_blocks and loop controls, and the helpers
`raise_exception` and `strftime_now`.

Run from the repository root:  python3 tests/refgen/chat_templates.py
Needs: pip install gguf==0.19.0 jinja2; the test models in the cache (scripts/fetch-models.sh).

Templates:
- smollm2: `tokenizer.chat_template` of SmolLM2-135M-Instruct.Q4_1.gguf;
- gemma3: tests/golden/chat/gemma3-it.jinja, the `chat_template` of Google's Gemma 3
  instruction-tuned models (tokenizer_config.json). The 270M GGUF we test with is the base
  model and carries no template.
bos_token / eos_token are the texts of the model's BOS / EOS tokens.

Writes tests/golden/chat/cases.json (the conversations) and, per model and case,
tests/golden/chat/<model>-<case>.txt (the rendering), or <model>-<case>.error (the
exception message) when the template refuses the conversation.
"""
import json
import os

import gguf
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "golden", "chat")
CACHE = os.environ.get("EDGE_MODELS", os.path.expanduser("~/.cache/edge/models"))
MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}

CASES = {
    "user": {
        "messages": [{"role": "user", "content": "Hello!"}],
        "add_generation_prompt": True,
    },
    "system-user": {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is 2+2?"},
        ],
        "add_generation_prompt": True,
    },
    "multi-turn": {
        "messages": [
            {"role": "user", "content": "  Hi there  \n"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "Écris « bonjour » 👋\nen deux lignes."},
        ],
        "add_generation_prompt": True,
    },
    "no-generation-prompt": {
        "messages": [
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Blue."},
        ],
        "add_generation_prompt": False,
    },
    "not-alternating": {
        "messages": [
            {"role": "user", "content": "One"},
            {"role": "user", "content": "Two"},
        ],
        "add_generation_prompt": True,
    },
}


class TemplateError(Exception):
    pass


def raise_exception(message):
    raise TemplateError(message)


def environment():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )
    env.globals["raise_exception"] = raise_exception
    return env


def token_text(reader, key):
    tokens = reader.fields["tokenizer.ggml.tokens"]
    tid = int(reader.fields[key].contents())
    return tokens.contents()[tid]


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(CASES, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for model, file in MODELS.items():
        reader = gguf.GGUFReader(os.path.join(CACHE, file))
        field = reader.fields.get("tokenizer.chat_template")
        if field is not None:
            source = field.contents()
        else:
            with open(os.path.join(OUT, f"{model}-it.jinja"), encoding="utf-8") as f:
                source = f.read()
        template = environment().from_string(source)
        bos = token_text(reader, "tokenizer.ggml.bos_token_id")
        eos = token_text(reader, "tokenizer.ggml.eos_token_id")
        for name, case in CASES.items():
            base = os.path.join(OUT, f"{model}-{name}")
            for old in (base + ".txt", base + ".error"):
                if os.path.exists(old):
                    os.remove(old)
            try:
                text = template.render(
                    messages=case["messages"],
                    add_generation_prompt=case["add_generation_prompt"],
                    bos_token=bos,
                    eos_token=eos,
                )
                path, out = base + ".txt", text
            except TemplateError as e:
                path, out = base + ".error", str(e) + "\n"
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(out)
            print(path)


if __name__ == "__main__":
    main()
