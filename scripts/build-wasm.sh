#!/usr/bin/env bash
# Builds the wasm package with wasm-pack (--target web) into pkg/wasm/, then
# optimises it with binaryen's wasm-opt from npm (wasm-pack's own download of
# binaryen cannot work offline) and reports the sizes.
#
#   bash scripts/build-wasm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
OUT=pkg/wasm
wasm-pack build --target web --release --out-dir "$OUT" --out-name voxlet --no-pack . >/dev/null 2>&1 \
  || wasm-pack build --target web --release --out-dir "$OUT" --out-name voxlet --no-pack .
W="$OUT/voxlet_bg.wasm"
wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$W" -o "$W.opt" && mv "$W.opt" "$W"
raw=$(stat -c %s "$W"); gz=$(gzip -9 -c "$W" | wc -c)
echo "voxlet_bg.wasm: $raw bytes, $gz bytes gzip -9"
