#!/usr/bin/env bash
# edge-run quantize against llama-quantize, side by side on this machine: wall time, peak RSS,
# output size, and the quality of the result measured by llama.cpp itself (llama-perplexity on
# the reference text) — so "loads and runs in llama.cpp, no worse" is checked by the peer.
#
#   benches/quantize-vs-llamacpp.sh [MODEL] [THREADS] [RUNS] [MIXES...]
#
# Defaults: SmolLM2 Q4_1 from the model cache, 2 threads, 3 runs, mixes q4_0 q8_0 q4_k_m q6_k.
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-${EDGE_MODELS:-$HOME/.cache/edge/models}/SmolLM2-135M-Instruct.Q4_1.gguf}"
threads="${2:-2}"
runs="${3:-3}"
shift $(( $# > 3 ? 3 : $# )) || true
mixes=("$@")
[ ${#mixes[@]} -gt 0 ] || mixes=(q4_0 q8_0 q4_k_m q6_k)

llama="$(benches/llamacpp-build.sh)"
command -v /usr/bin/time >/dev/null 2>&1 || apt-get install -y -q time >/dev/null
cargo build --release -q -p edge-cli
edge="${CARGO_TARGET_DIR:-target}/release/edge-run"
text="$(cd .. && pwd)/shared/reference/inputs/perplexity-apache-2.0.txt"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run NAME CMD... → prints "seconds peak_kib"
run() {
  /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>"$out/log" \
    || { cat "$out/log" >&2; exit 1; }
  cat "$out/time"
}
stats() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print(f"{s.mean(v):.2f} ± {s.pstdev(v):.2f}")' "$@"; }
ppl() {
  "$llama/build/bin/llama-perplexity" -m "$1" -f "$text" -c 512 -t "$threads" 2>&1 \
    | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p'
}

echo "| mix | llama-quantize s | edge-run quantize s | speed ratio | RSS llama MiB | RSS edge MiB | size llama MiB | size edge MiB | PPL llama.cpp's file | PPL edge's file |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for mix in "${mixes[@]}"; do
  lt=(); et=(); lr=0; er=0
  for _ in $(seq "$runs"); do
    read -r s m < <(run "$llama/build/bin/llama-quantize" --allow-requantize "$model" "$out/llama.gguf" "${mix^^}" "$threads")
    lt+=("$s"); lr=$m
    read -r s m < <(run "$edge" quantize "$model" "$out/edge.gguf" "$mix" --allow-requantize --threads "$threads")
    et+=("$s"); er=$m
  done
  lmean=$(python3 -c 'import sys,statistics as s; print(s.mean(map(float,sys.argv[1:])))' "${lt[@]}")
  emean=$(python3 -c 'import sys,statistics as s; print(s.mean(map(float,sys.argv[1:])))' "${et[@]}")
  ratio=$(python3 -c "print(f'{$lmean/$emean:.2f}×')")
  lsize=$(python3 -c "import os; print(f'{os.path.getsize(\"$out/llama.gguf\")/2**20:.1f}')")
  esize=$(python3 -c "import os; print(f'{os.path.getsize(\"$out/edge.gguf\")/2**20:.1f}')")
  echo "| $mix | $(stats "${lt[@]}") | $(stats "${et[@]}") | $ratio | $((lr/1024)) | $((er/1024)) | $lsize | $esize | $(ppl "$out/llama.gguf") | $(ppl "$out/edge.gguf") |"
done
