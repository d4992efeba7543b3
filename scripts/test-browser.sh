#!/usr/bin/env bash
# Browser tests of the npm package in real Chromium (Debian's, driven by
# playwright-core): builds the wasm package and the worklet bundle, makes the
# native reference decodes of the RTP fixtures (`cargo run --example
# decode`), then runs tests/browser/*.test.mjs with Node's test runner, one
# file at a time (real-time audio on 2 cores).
#
#   bash scripts/test-browser.sh            # everything
#   bash scripts/test-browser.sh fixture    # only tests/browser/fixture.test.mjs
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

bash scripts/build-wasm.sh

REF=target/browser-ref
mkdir -p "$REF"
for f in pcmu pcma g722 l16 opus; do
  if [ ! -s "$REF/$f.wav" ] || [ "tests/fixtures/$f.rtpdump" -nt "$REF/$f.wav" ]; then
    cargo run -q --release --example decode -- "tests/fixtures/$f.rtpdump" "$REF/$f.wav" >/dev/null
  fi
done
export VOXLET_REF_DIR="$PWD/$REF"

files=()
if [ $# -gt 0 ]; then
  for n in "$@"; do files+=("tests/browser/$n.test.mjs"); done
else
  files=(tests/browser/*.test.mjs)
fi
node --test --test-concurrency=1 "${files[@]}"
