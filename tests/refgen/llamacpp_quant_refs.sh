#!/usr/bin/env bash
# llama.cpp's outputs on the test models requantized to other types: the references of
# tests/tests/quant_parity.rs.
#
#   tests/refgen/llamacpp_quant_refs.sh [MODEL-TYPE ...]     (default: every file below)
#
# For each (model, type): makes the file with llama.cpp's own quantizer
# (`llama-quantize --allow-requantize [--pure] IN OUT TYPE 2`; the test models are already
# quantized, SmolLM2 Q4_1 and Gemma3 Q4_K_M, so requantizing is the only way here), runs
# llamacpp_reference.c (libllama, CPU, 2 threads, f16 KV cache) on it with the inputs of
# shared/reference/inputs, and writes tests/golden/quant-parity/<model>-<type>.json: the
# reference JSON (format of shared/reference/llama.cpp/<model>.json without the tokenizer
# section; top-2 logits per prompt position, 16 greedy steps), `perplexity_flash_attn_off` (the
# same perplexity from llama.cpp's other CPU attention path), plus how the file was made:
# `type` (the `edge-run quantize` target that asks for the same thing), `llama_quantize` (the
# arguments), `sha256` (of llama-quantize's output), `tensor_types` (count per type).
#
# `<type>` is the edge-run quantize target: a llama.cpp file type (q4_0, q6_k, iq4_xs, ...,
# q2_k being the Q2_K mix) or q3_k / q4_k / q5_k, one type everywhere, which llama-quantize
# spells `--pure Q3_K_M` etc.
#
# With EDGE_RUN=path/to/edge-run set, it also runs `edge-run quantize` with the same target and
# says on stderr whether the two files are byte-identical (informative only).
# Needs llama.cpp built (benches/llamacpp-build.sh; $LLAMA_CPP or /tmp/llama.cpp), a C
# compiler, python3 with gguf-py, and the test models (scripts/fetch-models.sh). Nothing here
# runs at test time.
set -euo pipefail
cd "$(dirname "$0")/../.."
llama="${LLAMA_CPP:-/tmp/llama.cpp}"
[ -x "$llama/build/bin/llama-quantize" ] || llama="$(benches/llamacpp-build.sh)"
quantize="$llama/build/bin/llama-quantize"
cache="${EDGE_MODELS:-$HOME/.cache/edge/models}"
inputs="$(cd ../shared/reference/inputs && pwd)"
out_dir=tests/golden/quant-parity
mkdir -p "$out_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=tests/refgen/llamacpp_common.sh
. tests/refgen/llamacpp_common.sh
build_reference "$llama" "$tmp/llamacpp_reference"
# MODEL-TYPE and llama-quantize's arguments for it.
declare -A args=(
  [smollm2-q4_0]="Q4_0"
  [smollm2-q5_0]="Q5_0"
  [smollm2-q5_1]="Q5_1"
  [smollm2-q8_0]="Q8_0"
  [smollm2-q2_k]="Q2_K"
  [smollm2-q3_k]="--pure Q3_K_M"
  [smollm2-q4_k]="--pure Q4_K_M"
  [smollm2-q5_k]="--pure Q5_K_M"
  [smollm2-q6_k]="Q6_K"
  [smollm2-iq4_nl]="IQ4_NL"
  [smollm2-iq4_xs]="IQ4_XS"
  [gemma3-q8_0]="Q8_0"
  [gemma3-q4_0]="Q4_0"
  [gemma3-q6_k]="Q6_K"
  [gemma3-q5_k]="--pure Q5_K_M"
)
order=(smollm2-q4_0 smollm2-q5_0 smollm2-q5_1 smollm2-q8_0 smollm2-q2_k smollm2-q3_k
       smollm2-q4_k smollm2-q5_k smollm2-q6_k smollm2-iq4_nl smollm2-iq4_xs
       gemma3-q8_0 gemma3-q4_0 gemma3-q6_k gemma3-q5_k)
[ $# -gt 0 ] && order=("$@")

{
  echo "llama.cpp: $(cd "$llama" && git log -1 --format='%H %s' 2>/dev/null || echo unknown)"
  echo "models: ${source[*]} (from scripts/fetch-models.sh)"
  echo "made by: tests/refgen/llamacpp_quant_refs.sh (llama-quantize, then llamacpp_reference.c)"
  echo "context: CPU, 2 threads, f16 KV cache, flash attention auto, n_ctx = n_batch = 512"
  echo "perplexity_flash_attn_off: the same perplexity with --flash-attn off"
} > "$out_dir/PROVENANCE.txt"

for name in "${order[@]}"; do
  key=${name%%-*}
  type=${name#*-}
  [ -n "${args[$name]:-}" ] || { echo "unknown file $name" >&2; exit 1; }
  in="$cache/${source[$key]}"
  gguf="$tmp/$key-$type.gguf"
  # shellcheck disable=SC2086 # the arguments are words on purpose
  set -- ${args[$name]}
  type_arg=${!#}
  opts=("${@:1:$#-1}")
  "$quantize" --allow-requantize "${opts[@]}" "$in" "$gguf" "$type_arg" 2 > "$tmp/log" 2>&1 \
    || { cat "$tmp/log" >&2; exit 1; }
  if [ -n "${EDGE_RUN:-}" ]; then
    "$EDGE_RUN" quantize --allow-requantize -t 2 "$in" "$tmp/edge.gguf" "$type" > /dev/null
    if cmp -s "$gguf" "$tmp/edge.gguf"; then echo "$name: edge-run quantize: identical" >&2
    else echo "$name: edge-run quantize: DIFFERENT file" >&2; fi
    rm -f "$tmp/edge.gguf"
  fi
  "$tmp/llamacpp_reference" "$gguf" "$key" "$inputs" "$tmp/ref.json" --top 2 --greedy 16
  # llama.cpp's other CPU attention path (no flash attention) rounds differently; on these
  # requantized files its perplexity moves by up to ~1% from the default path's.
  "$tmp/llamacpp_reference" "$gguf" "$key" "$inputs" "$tmp/ref-fa-off.json" --top 2 --greedy 1 \
    --flash-attn off
  python3 - "$gguf" "$tmp/ref.json" "$type" "${args[$name]}" "$out_dir/$name.json" \
    "$tmp/ref-fa-off.json" <<'PY'
import collections, hashlib, json, sys

sys.path.insert(0, "tests/refgen")
import golden_json
import gguf

path, ref_path, target, qargs, out, ref_off_path = sys.argv[1:]
h = hashlib.sha256()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
r = gguf.GGUFReader(path)
counts = collections.Counter(t.tensor_type.name for t in r.tensors)
ref = json.load(open(ref_path))
doc = {
    "model": ref["model"],
    "type": target,
    "llama_quantize": f"--allow-requantize {qargs}",
    "sha256": h.hexdigest(),
    "file_type": int(r.fields["general.file_type"].contents()),
    "tensor_types": dict(sorted(counts.items())),
    "prompts": ref["prompts"],
    "perplexity": ref["perplexity"],
    "perplexity_flash_attn_off": json.load(open(ref_off_path))["perplexity"][0]["perplexity"],
}

golden_json.write(out, doc)
print(f"wrote {out}: perplexity {ref['perplexity'][0]['perplexity']}", file=sys.stderr)
PY
done
