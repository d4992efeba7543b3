#!/usr/bin/env bash
# Builds the wasm package with wasm-pack (--target web) into pkg/wasm/, then
# optimises it with binaryen's wasm-opt from npm (wasm-pack's own download of
# binaryen cannot work offline), bundles the AudioWorklet processors
# (pkg/src/worklet/, with the wasm-bindgen glue and the TextDecoder polyfill first)
# into pkg/worklet/voxlet-worklet.js with esbuild, and reports the sizes.
# pkg/package.json and pkg/src/ (worklet sources included) are hand-written
# and never touched here.
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

# wasm-pack's `*` .gitignore would also keep npm pack from shipping the
# files; pkg/.gitignore lists the generated directories instead.
rm -f "$OUT/.gitignore"
# One self-contained worklet module: bundlers copy a `new URL(..., import.meta.url)`
# asset verbatim, so it must not import anything itself.
mkdir -p pkg/worklet
esbuild pkg/src/worklet/index.js --bundle --format=esm --target=es2020 --legal-comments=none \
  --log-level=warning --outfile=pkg/worklet/voxlet-worklet.js
wl=$(stat -c %s pkg/worklet/voxlet-worklet.js); wlgz=$(gzip -9 -c pkg/worklet/voxlet-worklet.js | wc -c)
echo "voxlet-worklet.js: $wl bytes, $wlgz bytes gzip -9"
