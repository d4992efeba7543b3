#!/usr/bin/env bash
# Builds the wasm package with wasm-pack (--target web) into pkg/wasm/ (and a
# player-only build into pkg/wasm-player/), then
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
# Two builds of the same crate (cargo features, see Cargo.toml):
#   pkg/wasm/         everything (default features): what register() and the
#                     worklet bundle use;
#   pkg/wasm-player/  player only (`player,opus,g722`): Receiver,
#                     StreamPlayer and the decoders; no Sender, no encoders,
#                     no wire adapters;
#   pkg/wasm-neural/  everything plus neural Opus (`neural`), loaded only by
#                     registerNeural() from 'voxlet/neural'.
# WASM_OPT: see the comment at [profile.release] in Cargo.toml for why these
# flags (bench/variants.sh measures the alternatives).
WASM_OPT=(-O3)
build() { # OUT_DIR [cargo args...]
  local out=$1; shift
  wasm-pack build --target web --release --out-dir "$out" --out-name voxlet --no-pack . -- "$@" >/dev/null 2>&1 \
    || wasm-pack build --target web --release --out-dir "$out" --out-name voxlet --no-pack . -- "$@"
  local w="$out/voxlet_bg.wasm"
  wasm-opt "${WASM_OPT[@]}" --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$w" -o "$w.opt"
  mv "$w.opt" "$w"
  # wasm-pack's `*` .gitignore would also keep npm pack from shipping the
  # files; pkg/.gitignore lists the generated directories instead.
  rm -f "$out/.gitignore"
  echo "$w: $(stat -c %s "$w") bytes, $(gzip -9 -c "$w" | wc -c) bytes gzip -9"
}
build pkg/wasm
build pkg/wasm-player --no-default-features --features player,opus,g722
# The neural Opus build (issue 16): everything plus libopus' deep PLC, DRED
# and OSCE models (~4 MB). Its own target dir: the feature changes how
# libopus is compiled, and sharing target/ would rebuild it back and forth.
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}/neural build pkg/wasm-neural --features neural

# One self-contained worklet module: bundlers copy a `new URL(..., import.meta.url)`
# asset verbatim, so it must not import anything itself.
mkdir -p pkg/worklet
esbuild pkg/src/worklet/index.js --bundle --format=esm --target=es2020 --legal-comments=none \
  --log-level=warning --outfile=pkg/worklet/voxlet-worklet.js
wl=$(stat -c %s pkg/worklet/voxlet-worklet.js); wlgz=$(gzip -9 -c pkg/worklet/voxlet-worklet.js | wc -c)
echo "voxlet-worklet.js: $wl bytes, $wlgz bytes gzip -9"
