#!/usr/bin/env bash
# Builds examples/web (the Rust web API, cargo feature `web`, used from a
# plain wasm-bindgen app) into examples/web/pkg/: cargo for wasm32,
# wasm-bindgen --target web (the CLI setup.sh installs), wasm-opt from npm
# with the flags of scripts/build-wasm.sh; reports the sizes. The page also
# needs the npm package's files (scripts/build-wasm.sh) at /pkg.
#
#   bash scripts/build-web-example.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
cargo build -q --release --target wasm32-unknown-unknown -p voxlet-web-example
out=examples/web/pkg
wasm-bindgen --target web --out-dir "$out" "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/voxlet_web_example.wasm"
w="$out/voxlet_web_example_bg.wasm"
wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$w" -o "$w.opt" && mv "$w.opt" "$w"
echo "$w: $(stat -c %s "$w") bytes, $(gzip -9 -n -c "$w" | wc -c) bytes gzip -9"
