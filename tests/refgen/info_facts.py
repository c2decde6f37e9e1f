#!/usr/bin/env python3
"""Facts about the test models for `edge-run info`, read by the `gguf` Python package
(llama.cpp's gguf-py), the independent reference.

Run from the repository root:  python3 tests/refgen/info_facts.py
Needs: pip install gguf==0.19.0; the test models in the cache (scripts/fetch-models.sh).

Writes tests/golden/info/<model>.json with: GGUF version, architecture, name, file type,
hyper-parameters, tokenizer model / pre-tokenizer / vocabulary size, chat template present,
metadata keys, parameter count, tensor count and bytes per type, and every tensor's name,
type, shape, data offset and byte size. Nothing here is computed by edge.
"""
import json
import os

import gguf
from importlib.metadata import version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "golden", "info")
CACHE = os.environ.get("EDGE_MODELS", os.path.expanduser("~/.cache/edge/models"))
MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}


def scalar(reader, key):
    """A scalar or string metadata value, or None when the key is absent."""
    field = reader.fields.get(key)
    if field is None:
        return None
    value = field.contents()
    return value


def array_len(reader, key):
    field = reader.fields.get(key)
    return None if field is None else len(field.data)


def facts(path):
    r = gguf.GGUFReader(path)
    arch = scalar(r, "general.architecture")
    types = {}
    tensors = []
    for t in r.tensors:
        name = t.tensor_type.name.lower()
        entry = types.setdefault(name, {"count": 0, "bytes": 0})
        entry["count"] += 1
        entry["bytes"] += int(t.n_bytes)
        tensors.append({
            "name": t.name,
            "type": name,
            "shape": [int(d) for d in t.shape],
            "offset": int(t.data_offset - r.data_offset),
            "n_bytes": int(t.n_bytes),
        })
    # GGUF.* are gguf-py's pseudo-fields for the header, not metadata.
    keys = sorted(k for k in r.fields if not k.startswith("GGUF."))
    return {
        "source": f"gguf-py {version('gguf')} GGUFReader on {os.path.basename(path)}",
        "gguf_version": scalar(r, "GGUF.version"),
        "architecture": arch,
        "name": scalar(r, "general.name"),
        "file_type": scalar(r, "general.file_type"),
        "block_count": scalar(r, f"{arch}.block_count"),
        "context_length": scalar(r, f"{arch}.context_length"),
        "embedding_length": scalar(r, f"{arch}.embedding_length"),
        "feed_forward_length": scalar(r, f"{arch}.feed_forward_length"),
        "head_count": scalar(r, f"{arch}.attention.head_count"),
        "head_count_kv": scalar(r, f"{arch}.attention.head_count_kv"),
        "tokenizer_model": scalar(r, "tokenizer.ggml.model"),
        "tokenizer_pre": scalar(r, "tokenizer.ggml.pre"),
        "vocab_size": array_len(r, "tokenizer.ggml.tokens"),
        "chat_template": "tokenizer.chat_template" in r.fields,
        "metadata_keys": keys,
        "parameters": sum(int(t.n_elements) for t in r.tensors),
        "file_size": os.path.getsize(path),
        "alignment": scalar(r, "general.alignment") or 32,
        "data_offset": int(r.data_offset),
        "tensor_count": len(r.tensors),
        "tensor_types": types,
        "tensors": tensors,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for key, file in MODELS.items():
        out = os.path.join(OUT, f"{key}.json")
        with open(out, "w") as f:
            json.dump(facts(os.path.join(CACHE, file)), f, indent=1)
            f.write("\n")
        print("wrote", os.path.relpath(out, os.path.dirname(ROOT)))


if __name__ == "__main__":
    main()
