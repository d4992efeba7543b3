#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs every test voxlet has:
# formatting and lints, native unit/integration/property tests, the same
# codec tests compiled to wasm32 in Node and in headless Chromium, and the
# npm package (wasm-pack build, worklets) end to end in Chromium, the Rust
# web API (feature `web`) and its example app (examples/web), its
# TypeScript declarations (tsc), the
# softphone against the real gateway, and a short run of every fuzz target.
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
step() { printf '\n\033[1m[test] %s\033[0m\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

# fmt, clippy (native and wasm32), rustdoc links, native tests: the
# inner-loop script, so the two cannot drift apart.
bash scripts/check.sh

step "neural Opus build (cargo feature neural: deep PLC, DRED, OSCE): tests/codec_opus_neural.rs"
# Its own target dir: the feature changes how libopus is built, and sharing
# target/ would rebuild libopus back and forth with the default build.
CARGO_TARGET_DIR=target/neural cargo test -q --release --features neural --test codec_opus_neural

step "fuzzing: every cargo-fuzz target for 8 s from the committed corpus"
bash scripts/fuzz.sh 8

step "wasm32 tests: Node, and headless Chromium for tests/wasm_chromium.rs"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=600
cargo test --target wasm32-unknown-unknown --tests

step "npm package in Chromium, Firefox ESR and WebKitGTK: worklets, transports, wire formats, output routes, Vite app"
bash scripts/test-browser.sh

step "Rust web API (feature web) in headless Chromium: tests/web_chromium.rs on the npm package's worklet and wasm that test-browser.sh built"
cargo clippy -q --target wasm32-unknown-unknown --features web --test web_chromium -- -D warnings
cargo test --target wasm32-unknown-unknown --features web --test web_chromium

step "wasm size budgets (scripts/check-size.sh; the files test-browser.sh built)"
bash scripts/check-size.sh

step "TypeScript declarations: tsc --noEmit on tests/types/usage.ts (every option and event)"
bash scripts/check-types.sh

step "softphone (www/) end to end against the real gateway"
# The debug gateway (already compiled by the native tests) spares CI a
# 3-minute LTO release build; pkg/ was just built by test-browser.sh.
cargo build -q -p voxlet-gateway
VOXLET_E2E_NO_BUILD=1 VOXLET_E2E_BIN="${CARGO_TARGET_DIR:-target}/debug/voxlet-gateway" bash scripts/test-e2e.sh
