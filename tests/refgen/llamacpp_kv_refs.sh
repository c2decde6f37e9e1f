#!/usr/bin/env bash
# llama.cpp's outputs on the test models with a quantized KV cache: the references of
# tests/tests/kv_cache_types.rs.
#
#   tests/refgen/llamacpp_kv_refs.sh
#
# For each test model and each cache setting below, runs llamacpp_reference.c (libllama, CPU,
# 2 threads, flash attention auto, which llama.cpp turns on for a quantized V cache) with
# `--cache-type-k K --cache-type-v V` on the inputs of shared/reference/inputs, and writes
# tests/golden/kv-cache/<model>-k_<K>-v_<V>.json: the reference JSON (format of
# shared/reference/llama.cpp/<model>.json without the tokenizer section; top-2 logits per
# prompt position, 16 greedy steps) plus `cache_type_k` / `cache_type_v`.
#
# Needs llama.cpp built (benches/llamacpp-build.sh; $LLAMA_CPP or /tmp/llama.cpp), a C
# compiler, python3, and the test models (scripts/fetch-models.sh). Nothing here runs at test
# time.
set -euo pipefail
cd "$(dirname "$0")/../.."
llama="${LLAMA_CPP:-/tmp/llama.cpp}"
[ -f "$llama/build/bin/libllama.so" ] || llama="$(benches/llamacpp-build.sh)"
cache="${EDGE_MODELS:-$HOME/.cache/edge/models}"
inputs="$(cd ../shared/reference/inputs && pwd)"
out_dir=tests/golden/kv-cache
mkdir -p "$out_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=tests/refgen/llamacpp_common.sh
. tests/refgen/llamacpp_common.sh
build_reference "$llama" "$tmp/llamacpp_reference"
# MODEL:K:V
settings=(smollm2:q8_0:q8_0 smollm2:q8_0:f16 gemma3:q8_0:q8_0)

{
  echo "llama.cpp: $(cd "$llama" && git log -1 --format='%H %s' 2>/dev/null || echo unknown)"
  echo "models: ${source[*]} (from scripts/fetch-models.sh)"
  echo "made by: tests/refgen/llamacpp_kv_refs.sh (llamacpp_reference.c)"
  echo "context: CPU, 2 threads, flash attention auto, n_ctx = n_batch = 512"
} > "$out_dir/PROVENANCE.txt"

for s in "${settings[@]}"; do
  IFS=: read -r key k v <<< "$s"
  out="$out_dir/$key-k_$k-v_$v.json"
  "$tmp/llamacpp_reference" "$cache/${source[$key]}" "$key" "$inputs" "$tmp/ref.json" \
    --top 2 --greedy 16 --cache-type-k "$k" --cache-type-v "$v"
  python3 - "$tmp/ref.json" "$k" "$v" "$out" <<'PY'
import json, sys

sys.path.insert(0, "tests/refgen")
import golden_json

ref_path, k, v, out = sys.argv[1:]
ref = json.load(open(ref_path))
doc = {"model": ref["model"], "cache_type_k": k, "cache_type_v": v,
       "prompts": ref["prompts"], "perplexity": ref["perplexity"]}

golden_json.write(out, doc)
print(f"wrote {out}: perplexity {ref['perplexity'][0]['perplexity']}", file=sys.stderr)
PY
done
