#!/usr/bin/env python3
"""Tiny random-weight `qwen2` and `qwen3` models, converted to GGUF by llama.cpp's own
converter, with the logits of Hugging Face transformers and the token ids of llama.cpp as
golden files for edge (tests/tests/qwen_reference.rs).

Environment (nothing is installed by this script; versions pinned, checked at start):
    python3 -m venv /work/venv-qwen
    /work/venv-qwen/bin/pip install torch==2.15.0 transformers==5.23.0 tokenizers==0.23.3 \
        numpy==2.4.6 gguf==0.19.0 sentencepiece==0.2.3
plus a llama.cpp checkout built as a shared library ($LLAMA_CPP, default /tmp/llama.cpp:
include/, ggml/include/, gguf-py/, convert_hf_to_gguf.py, build/bin/libllama.so) and a C
compiler. Run from the repository root:
    LLAMA_CPP=/tmp/llama.cpp /work/venv-qwen/bin/python tests/refgen/qwen_tiny.py

What it does, deterministically (fixed seeds; CPU; float32):
 1. trains a small byte-level BPE (HF `tokenizers`) on the Apache-2.0 text of
    shared/reference/inputs plus the paragraphs below, with Qwen 2's pre-tokenizer (the
    regex llama.cpp uses for `tokenizer.ggml.pre = "qwen2"`), NFC, and Qwen's special
    tokens `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` after the merges; saved as a
    transformers `Qwen2Tokenizer` with a ChatML template;
 2. builds `Qwen2ForCausalLM` (QKV biases, untied output) and `Qwen3ForCausalLM` (QK-norm,
    head_dim 32 != hidden/heads = 16, tied output) with random weights: norms and biases
    random too (transformers starts them at one and zero, which would hide a missing one);
 3. converts each with llama.cpp's convert_hf_to_gguf.py, --outtype f32 (committed) and
    --outtype f16 (not committed: the test rebuilds it from the F32 file and checks it
    against the sha256 of each tensor recorded here); the converter refuses a tokenizer
    whose hash it does not know, so only its pre-tokenizer lookup is replaced, by the
    answer "qwen2";
 4. records transformers' logits (eager attention, float32) at every position of a few token
    sequences (texts tokenized by the HF tokenizer, a chat turn, random ids, one token);
 5. builds tests/refgen/qwen_llamacpp.c against libllama and runs llama.cpp on the same GGUF
    files: its logits (F32 and F16 weights, f32 and f16 KV cache) are compared with
    transformers' (figures in the manifest, with how far typical porting mistakes move
    transformers' own logits, for scale) and its token ids for a corpus of texts (with
    special-token text parsed, and as plain text) become the tokenizer golden.
    (tests/refgen/llamacpp_reference.c keeps only the top logits of text prompts; this needs
    every logit, raw token sequences, an f32 KV cache and plain-text tokenization.)

Writes tests/golden/qwen/: qwen2-tiny.f32.gguf, qwen3-tiny.f32.gguf, {model}.logits.f32
(little-endian float32, [positions, n_vocab], sequences one after the other) and
manifest.json (shapes, sequences, versions, seeds, sha256 of every file, agreement figures,
llama.cpp's token ids). Nothing here is computed by edge.
"""
import copy
import hashlib
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile

PINS = {
    "torch": "2.15.0",
    "transformers": "5.23.0",
    "tokenizers": "0.23.3",
    "numpy": "2.4.6",
    "gguf": "0.19.0",
    "sentencepiece": "0.2.3",  # imported by the converter before it falls back to BPE
}

import numpy as np  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from importlib.metadata import version  # noqa: E402
from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/
GOLDEN = os.path.join(ROOT, "golden", "qwen")
INPUTS = os.path.join(ROOT, "..", "..", "shared", "reference", "inputs")
LLAMA = os.environ.get("LLAMA_CPP", "/tmp/llama.cpp")

SEED = 20260514
BPE_VOCAB = 480  # 256 byte symbols + merges; then 3 special tokens
N_VOCAB = 512  # the models' vocabulary: the tokenizer's 483 tokens, padded as Qwen pads
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Qwen 2's pre-tokenizer pattern (as in its tokenizer.json and llama.cpp's "qwen2").
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                 r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

# A little more than licence English for the merges: code, numbers, other scripts.
EXTRA_TEXT = """\
def add(a, b):
    return a + b

for i in range(10):
    print(i, add(i, 2))

The quick brown fox jumps over the lazy dog. I'm sure you've heard it; they'll say we'd
agree. It costs $1,234.56 on 2024-05-17 at 13:45 -- about 1234 EUR.
Größe, café, naïve, résumé. Привет, мир! 你好，世界！ こんにちは。
<html><body class="main">Hello, world!</body></html>
{"json": [1, 2, 3], "nested": {"key": null}}
"""

# Texts whose logits are recorded (tokenized by the HF tokenizer; llama.cpp must agree).
LOGIT_TEXTS = [
    ("licence", "Licensed under the Apache License, Version 2.0 (the \"License\"); you may "
                "not use this file except in compliance with the License."),
    ("chat", "<|im_start|>user\nWhat is 2+2? I'm 42.<|im_end|>\n<|im_start|>assistant\n"),
]
# Extra texts for the tokenizer golden, beside shared/reference's tokenizer corpus.
EXTRA_TOKENIZER_TEXTS = [
    "I'M SURE YOU'VE HEARD: THEY'LL SAY IT'S FINE, WE'D AGREE.",
    "numbers 0 7 42 2024 1234567890 ٣٤ ½ Ⅻ",
    "windows\r\nline\r\n\r\nends \r\n  \n\t\n",
    "  leading and trailing  \n",
    "<|endoftext|><|im_start|>system\nYou are terse.<|im_end|>\n",
    "a<|im_end|>b <|im_start|> c",
    "e\u0301 (e + combining acute) and \u00e9",
    "?!... --- === +++ ``` ''' \"\"\"",
    "",
]

MODELS = {
    "qwen2": dict(
        cls="Qwen2ForCausalLM", config="Qwen2Config",
        kwargs=dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5,
                    rope_parameters={"rope_type": "default", "rope_theta": 50000.0},
                    tie_word_embeddings=False, max_position_embeddings=256)),
    "qwen3": dict(
        cls="Qwen3ForCausalLM", config="Qwen3Config",
        kwargs=dict(hidden_size=64, intermediate_size=192, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                    rms_norm_eps=2e-6,
                    rope_parameters={"rope_type": "default", "rope_theta": 20000.0},
                    tie_word_embeddings=True, max_position_embeddings=256,
                    attention_bias=False)),
}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def check_versions() -> dict:
    found = {name: version(name) for name in PINS}
    wrong = {k: v for k, v in found.items() if v != PINS[k]}
    if wrong:
        sys.exit(f"pinned versions differ: {wrong} (want {PINS})")
    return found


# ---------------------------------------------------------------------------------------
# 1. Tokenizer.

def training_lines() -> list:
    with open(os.path.join(INPUTS, "perplexity-apache-2.0.txt"), encoding="utf-8") as f:
        apache = f.read()
    return (apache + "\n" + EXTRA_TEXT).splitlines(keepends=True)


def build_tokenizer(model_dir: str):
    tok = tokenizers.Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[])
    tok.train_from_iterator(training_lines(), trainer=trainer)
    trained = json.loads(tok.to_str())["model"]
    vocab = dict(trained["vocab"])
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    assert len(vocab) == BPE_VOCAB, len(vocab)
    for s in SPECIALS:
        vocab[s] = len(vocab)

    # transformers' own Qwen2Tokenizer (its pre-tokenizer, normalizer and decoder) over
    # the trained vocabulary and merges.
    hf = transformers.Qwen2Tokenizer(vocab=vocab, merges=merges, unk_token=None,
                                     bos_token=None, eos_token="<|im_end|>",
                                     pad_token="<|endoftext|>")
    hf.add_special_tokens({"additional_special_tokens": SPECIALS})
    hf.chat_template = CHATML
    hf.save_pretrained(model_dir)
    # As Qwen's own tokenizer_config.json says: no BOS (the converter writes
    # tokenizer.ggml.add_bos_token = false from it).
    config_path = os.path.join(model_dir, "tokenizer_config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config.update(add_bos_token=False, add_eos_token=False)
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1, ensure_ascii=False)
    hf = transformers.AutoTokenizer.from_pretrained(model_dir)
    for i, s in enumerate(SPECIALS):
        assert hf.convert_tokens_to_ids(s) == BPE_VOCAB + i, s
    return hf


def hf_ids(hf, text: str) -> list:
    return hf.encode(text, add_special_tokens=True)


# ---------------------------------------------------------------------------------------
# 2. Models.

def build_model(key: str, hf_tok, tok_dir: str, model_dir: str):
    spec = MODELS[key]
    config = getattr(transformers, spec["config"])(
        vocab_size=N_VOCAB, initializer_range=0.1,
        bos_token_id=hf_tok.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=hf_tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=hf_tok.convert_tokens_to_ids("<|endoftext|>"),
        **spec["kwargs"])
    config.architectures = [spec["cls"]]
    torch.manual_seed(SEED + (1 if key == "qwen3" else 0))
    model = getattr(transformers, spec["cls"])(config).to(torch.float32).eval()
    gen = torch.Generator().manual_seed(SEED + 100 + (1 if key == "qwen3" else 0))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                # Norm weights around 1, but not 1.
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif name in ("model.embed_tokens.weight", "lm_head.weight"):
                # Wide logits, so that the top token is decided by a clear margin.
                p.copy_(0.6 * torch.randn(p.shape, generator=gen))
    model.config._attn_implementation = "eager"
    model.save_pretrained(model_dir, safe_serialization=True)
    for name in os.listdir(tok_dir):
        shutil.copy(os.path.join(tok_dir, name), model_dir)
    return model


def sequences(hf, rng: np.random.Generator) -> list:
    out = []
    for name, text in LOGIT_TEXTS:
        out.append({"name": name, "text": text, "tokens": hf_ids(hf, text)})
    out.append({"name": "random", "tokens": [int(t) for t in rng.integers(0, N_VOCAB, 24)]})
    out.append({"name": "one", "tokens": hf_ids(hf, " the")[:1]})
    return out


def transformers_logits(model, tokens: list, dtype=torch.float32) -> np.ndarray:
    m = model.to(dtype)
    with torch.no_grad():
        ids = torch.tensor([tokens], dtype=torch.long)
        logits = m(input_ids=ids).logits[0]
    model.to(torch.float32)
    return logits.to(torch.float64 if dtype == torch.float64 else torch.float32).numpy()


# ---------------------------------------------------------------------------------------
# 3. Conversion by llama.cpp.

CONVERT = """
import sys
sys.path.insert(0, sys.argv[1])
import convert_hf_to_gguf
from conversion.base import TextModel
# The tokenizer is new to the converter's table of known pre-tokenizer hashes; it is Qwen 2's.
TextModel.get_vocab_base_pre = lambda self, tokenizer: "qwen2"
sys.argv = ["convert_hf_to_gguf.py"] + sys.argv[2:]
convert_hf_to_gguf.main()
"""


def convert(model_dir: str, out: str, outtype: str) -> None:
    subprocess.run([sys.executable, "-c", CONVERT, LLAMA, model_dir, "--outtype", outtype,
                    "--outfile", out, "--model-name", os.path.basename(out).split(".")[0]],
                   check=True, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------------------------------
# 4. llama.cpp on the GGUF files.

def build_llamacpp_tool(tmp: str) -> str:
    exe = os.path.join(tmp, "qwen_llamacpp")
    bindir = os.path.join(LLAMA, "build", "bin")
    subprocess.run(["cc", "-O2", "-std=c11", os.path.join(ROOT, "refgen", "qwen_llamacpp.c"),
                    "-I", os.path.join(LLAMA, "include"),
                    "-I", os.path.join(LLAMA, "ggml", "include"),
                    "-L", bindir, "-lllama", "-lggml", "-lggml-base",
                    "-Wl,-rpath," + bindir, "-o", exe], check=True)
    return exe


def run_llamacpp(exe: str, gguf_path: str, kv: str, requests: list, n_vocab: int,
                 tmp: str) -> list:
    """requests: ('t'|'p', text) or ('e', [ids]); answers in order."""
    req = os.path.join(tmp, "requests.bin")
    ans = os.path.join(tmp, "answers.bin")
    with open(req, "wb") as f:
        for kind, payload in requests:
            if kind in "tp":
                data = payload.encode("utf-8")
                f.write(kind.encode() + struct.pack("<I", len(data)) + data)
            else:
                f.write(b"e" + struct.pack("<I", len(payload)))
                f.write(np.asarray(payload, dtype="<i4").tobytes())
    subprocess.run([exe, gguf_path, kv, req, ans], check=True)
    data = open(ans, "rb").read()
    out, at = [], 0
    for kind, payload in requests:
        if kind in "tp":
            (n,) = struct.unpack_from("<I", data, at)
            at += 4
            out.append(np.frombuffer(data, "<i4", n, at).tolist())
            at += 4 * n
        else:
            n = len(payload) * n_vocab
            out.append(np.frombuffer(data, "<f4", n, at).reshape(len(payload), n_vocab))
            at += 4 * n
    assert at == len(data)
    return out


def variant(model, config_changes=None, edit=None):
    """A copy of `model` with its config changed and/or its weights edited in place."""
    config = copy.deepcopy(model.config)
    for k, v in (config_changes or {}).items():
        setattr(config, k, v)
    other = type(model)(config).to(torch.float32).eval()
    other.load_state_dict(model.state_dict())
    if edit is not None:
        with torch.no_grad():
            edit(other)
    return other


def sensitivity(key: str, model, seqs: list, ref: np.ndarray) -> dict:
    """How far transformers' logits move under mistakes a port could make: the scale of
    error the tolerances must catch."""
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads

    def interleave(m):
        # GPT-J style rotation of adjacent pairs instead of NeoX halves: equivalent, for the
        # attention scores, to NeoX rotation of each head's dims reordered evens-then-odds.
        perm = torch.cat([torch.arange(0, head_dim, 2), torch.arange(1, head_dim, 2)])
        for layer in m.model.layers:
            att = layer.self_attn
            for proj in (att.q_proj, att.k_proj):
                rows = proj.weight.shape[0] // head_dim
                idx = (torch.arange(rows)[:, None] * head_dim + perm[None, :]).reshape(-1)
                proj.weight.copy_(proj.weight[idx])
                if proj.bias is not None:
                    proj.bias.copy_(proj.bias[idx])
            for norm in (getattr(att, "q_norm", None), getattr(att, "k_norm", None)):
                if norm is not None:
                    norm.weight.copy_(norm.weight[perm])

    cases = {
        "rope_theta_10000": variant(model, {"rope_parameters": {"rope_type": "default",
                                                                "rope_theta": 10000.0}}),
        "interleaved_rope": variant(model, edit=interleave),
    }
    if key == "qwen2":
        def no_bias(m):
            for layer in m.model.layers:
                for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj,
                             layer.self_attn.v_proj):
                    proj.bias.zero_()
        cases["no_qkv_bias"] = variant(model, edit=no_bias)
    else:
        def unit_qk_norm(m):
            for layer in m.model.layers:
                layer.self_attn.q_norm.weight.fill_(1.0)
                layer.self_attn.k_norm.weight.fill_(1.0)

        def no_qk_norm(m):
            for layer in m.model.layers:
                layer.self_attn.q_norm = torch.nn.Identity()
                layer.self_attn.k_norm = torch.nn.Identity()
        cases["qk_norm_weights_ignored"] = variant(model, edit=unit_qk_norm)
        cases["no_qk_norm"] = variant(model, edit=no_qk_norm)
    return {name: compare(np.concatenate([transformers_logits(m, s["tokens"]) for s in seqs]),
                          ref)
            for name, m in cases.items()}


def tensor_hashes(path: str) -> dict:
    """name -> [ggml type name, sha256 of the tensor's bytes] of every tensor of a GGUF."""
    import gguf
    reader = gguf.GGUFReader(path)
    return {t.name: [t.tensor_type.name, hashlib.sha256(
        np.ascontiguousarray(t.data).view(np.uint8).tobytes()).hexdigest()]
        for t in reader.tensors}


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return {"max_abs": float(d.max()), "mean_abs": float(d.mean()),
            "top1_equal": int((a.argmax(1) == b.argmax(1)).sum()), "positions": int(len(a))}


def top1_margin(logits: np.ndarray) -> float:
    s = np.sort(logits.astype(np.float64), axis=1)
    return float((s[:, -1] - s[:, -2]).min())


# ---------------------------------------------------------------------------------------

def main() -> None:
    versions = check_versions()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    os.makedirs(GOLDEN, exist_ok=True)
    commit = subprocess.run(["git", "-C", LLAMA, "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    with open(os.path.join(INPUTS, "tokenizer-corpus.jsonl"), encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    corpus += EXTRA_TOKENIZER_TEXTS

    manifest = {
        "made_by": "tests/refgen/qwen_tiny.py",
        "versions": {**versions, "python": platform.python_version(),
                     "llama.cpp": commit},
        "seed": SEED,
        "training_text_sha256": hashlib.sha256(
            "".join(training_lines()).encode("utf-8")).hexdigest(),
        "logits_layout": "little-endian float32, [positions, n_vocab], sequences in order",
        "tokenizer_note": "tokenizer[].ids: llama.cpp (specials parsed, model's BOS setting), "
                          "ids_plain: specials as text; transformers_ids only where the HF "
                          "tokenizer differs (it applies NFC, llama.cpp does not)",
        "models": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_llamacpp_tool(tmp)
        tok_dir = os.path.join(tmp, "tokenizer")
        hf = build_tokenizer(tok_dir)
        for key in MODELS:
            model_dir = os.path.join(tmp, key)
            os.makedirs(model_dir)
            model = build_model(key, hf, tok_dir, model_dir)
            gguf_name = f"{key}-tiny.f32.gguf"
            gguf_path = os.path.join(GOLDEN, gguf_name)
            convert(model_dir, gguf_path, "f32")
            # The F16 conversion is not committed: it is the F32 file with every tensor the
            # converter makes F16 rounded to f16, which the test redoes and checks against
            # these hashes.
            f16_path = os.path.join(tmp, f"{key}-tiny.f16.gguf")
            convert(model_dir, f16_path, "f16")
            f16_tensors = tensor_hashes(f16_path)

            rng = np.random.default_rng(SEED + 7)
            seqs = sequences(hf, rng)
            ref = [transformers_logits(model, s["tokens"]) for s in seqs]
            ref64 = [transformers_logits(model, s["tokens"], torch.float64) for s in seqs]
            all_ref = np.concatenate(ref)

            # llama.cpp: tokens of the logit texts, logits with f32 and f16 KV caches, and
            # the tokenizer corpus (specials parsed, and as plain text).
            reqs = [("t", s["text"]) for s in seqs if "text" in s]
            reqs += [("e", s["tokens"]) for s in seqs]
            reqs += [("t", t) for t in corpus] + [("p", t) for t in corpus]
            got32 = run_llamacpp(exe, gguf_path, "f32", reqs, N_VOCAB, tmp)
            got16 = run_llamacpp(exe, gguf_path, "f16", reqs, N_VOCAB, tmp)
            n_eval = len(seqs)
            evals = [("e", s["tokens"]) for s in seqs]
            lc_f16w = np.concatenate(run_llamacpp(exe, f16_path, "f16", evals, N_VOCAB, tmp))
            lc_f16w32 = np.concatenate(run_llamacpp(exe, f16_path, "f32", evals, N_VOCAB, tmp))
            assert n_eval == len(evals)
            n_text = sum(1 for s in seqs if "text" in s)
            for s, ids in zip([s for s in seqs if "text" in s], got32[:n_text]):
                assert ids == s["tokens"], (s["name"], ids, s["tokens"])
            lc32 = np.concatenate(got32[n_text:n_text + len(seqs)])
            lc16 = np.concatenate(got16[n_text:n_text + len(seqs)])
            tok_special = got32[n_text + len(seqs):n_text + len(seqs) + len(corpus)]
            tok_plain = got32[n_text + len(seqs) + len(corpus):]

            logits_name = f"{key}.logits.f32"
            all_ref.astype("<f4").tofile(os.path.join(GOLDEN, logits_name))
            offset = 0
            for s in seqs:
                s["offset"] = offset
                offset += len(s["tokens"])
            agreement = {
                "llama.cpp_f32kv_vs_transformers": compare(lc32, all_ref),
                "llama.cpp_f16kv_vs_transformers": compare(lc16, all_ref),
                "llama.cpp_f16weights_f32kv_vs_transformers": compare(lc_f16w32, all_ref),
                "llama.cpp_f16weights_f16kv_vs_transformers": compare(lc_f16w, all_ref),
                "transformers_f32_vs_f64": compare(all_ref, np.concatenate(ref64)),
                "transformers_min_top1_margin": top1_margin(all_ref),
                "mistakes_vs_transformers": sensitivity(key, model, seqs, all_ref),
            }
            hf_corpus = [hf_ids(hf, t) for t in corpus]
            tokenizer = [{"text": t, "ids": a, "ids_plain": b,
                          **({} if h == a else {"transformers_ids": h})}
                         for t, a, b, h in zip(corpus, tok_special, tok_plain, hf_corpus)]
            cfg = model.config
            manifest["models"][key] = {
                "architecture": key,
                "hf_class": MODELS[key]["cls"],
                "config": {k: getattr(cfg, k) for k in [
                    "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps",
                    "rope_parameters", "tie_word_embeddings", "max_position_embeddings"]
                    if hasattr(cfg, k)},
                "gguf": gguf_name,
                "gguf_sha256": sha256_file(gguf_path),
                "gguf_bytes": os.path.getsize(gguf_path),
                "converted_by": "llama.cpp convert_hf_to_gguf.py --outtype f32 "
                                "(pre-tokenizer name supplied: qwen2)",
                "f16_variant": {
                    "converted_by": "llama.cpp convert_hf_to_gguf.py --outtype f16",
                    "tensors": f16_tensors,
                },
                "logits": logits_name,
                "logits_shape": [int(all_ref.shape[0]), N_VOCAB],
                "logits_sha256": sha256_file(os.path.join(GOLDEN, logits_name)),
                "sequences": seqs,
                "agreement": agreement,
            }
            if "tokenizer" in manifest:
                assert manifest["tokenizer"] == tokenizer, "llama.cpp tokenizes the files alike"
            manifest["tokenizer"] = tokenizer
            print(f"{key}: gguf {os.path.getsize(gguf_path)} bytes, {offset} positions")
            for name, v in agreement.items():
                print(f"  {name}: {v}")
            n_diff = sum(1 for t in tokenizer if "transformers_ids" in t)
            print(f"  tokenizer: {len(corpus)} texts, transformers differs from llama.cpp "
                  f"on {n_diff}")

    with open(os.path.join(GOLDEN, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(GOLDEN, n)) for n in os.listdir(GOLDEN))
    print(f"tests/golden/qwen: {total} bytes")


if __name__ == "__main__":
    main()
