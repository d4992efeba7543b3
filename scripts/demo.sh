#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs voxlet's main job.
# Until the softphone demo lands, that is: decode the committed RTP captures
# (ffmpeg's RTP muxer output) to WAV files and print their statistics.
#
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p target/demo
cargo build --release --example decode -q
for c in pcmu pcma g722 l16 opus; do
  echo
  target/release/examples/decode "tests/fixtures/$c.rtpdump" "target/demo/$c.wav"
done
bash scripts/build-wasm.sh
