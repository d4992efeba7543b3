#!/usr/bin/env bash
# The inner loop: formatting, lints (native and wasm32), rustdoc links and the native test
# suite, in a few minutes on a warm build. No setup, no browsers, no fuzzing
# and no wasm32 test runs: scripts/test.sh (what CI runs) does those.
#
#   bash scripts/check.sh           # fmt + clippy + native tests
#   bash scripts/check.sh --fix     # apply rustfmt first
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
step() { printf '\n\033[1m[check] %s\033[0m\n' "$*"; }

if [ "${1:-}" = --fix ]; then
  cargo fmt --all
fi
step "rustfmt"
cargo fmt --all -- --check
step "clippy (native and wasm32)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings
# the player-only wasm (scripts/build-wasm.sh's pkg/wasm-player)
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features player,opus,g722 -- -D warnings
# the Rust web API (feature `web`, src/web/): with everything, as an app
# takes it (only `web`), and the example app that uses it
cargo clippy --lib --target wasm32-unknown-unknown --features web -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features web -- -D warnings
cargo clippy -p voxlet-web-example --target wasm32-unknown-unknown -- -D warnings

step "rustdoc: no broken or private intra-doc links (native and wasm32)"
export RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links -D rustdoc::private_intra_doc_links"
cargo doc -q --no-deps --workspace
cargo doc -q --no-deps -p voxlet --target wasm32-unknown-unknown --features web
unset RUSTDOCFLAGS
step "native tests"
cargo test --workspace
step "ok"
