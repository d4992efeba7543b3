#!/usr/bin/env bash
# End-to-end tests of the softphone page (www/) against the real gateway:
# builds the npm package (wasm + worklet) and the gateway (release), starts
# two gateways on 127.0.0.1 with free ports and a bounded lifetime (one
# cross-origin isolated with echo/announce/room and a `pbx` UDP peer for
# ffmpeg, one with --no-isolation and a token; sip.test.mjs starts its own
# with a `sip` peer, and baresip), runs tests/e2e/*.test.mjs in
# headless Chromium (Debian's, via playwright-core) one file at a time, and
# always stops the gateways.
#
#   bash scripts/test-e2e.sh              # everything
#   bash scripts/test-e2e.sh softphone    # only tests/e2e/softphone.test.mjs
#   VOXLET_E2E_NO_BUILD=1 bash scripts/test-e2e.sh   # pkg/ and the gateway are already built
#   VOXLET_E2E_BIN=path/to/voxlet-gateway             # use that gateway binary (e.g. a debug build)
#
# The page's screenshot (docs/softphone.png) is taken separately:
#   node tests/e2e/screenshot.mjs
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
LIFETIME=${VOXLET_E2E_LIFETIME:-480}   # seconds: the gateways die after this whatever happens

if [ -z "${VOXLET_E2E_NO_BUILD:-}" ]; then
  bash scripts/build-wasm.sh
  cargo build -q --release -p voxlet-gateway
fi
BIN=${VOXLET_E2E_BIN:-${CARGO_TARGET_DIR:-target}/release/voxlet-gateway}
# Tests that need a gateway of their own (tests/e2e/sip.test.mjs) start this binary.
export VOXLET_GATEWAY_BIN
VOXLET_GATEWAY_BIN=$(realpath "$BIN")

OUT=target/e2e
mkdir -p "$OUT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# start NAME ARGS...: runs the gateway on 127.0.0.1:0 and sets URL from what it prints.
start() {
  local name=$1; shift
  timeout -s KILL "$LIFETIME" "$BIN" --listen 127.0.0.1:0 --www www --pkg pkg --fixtures tests/fixtures "$@" \
    >"$OUT/$name.out" 2>"$OUT/$name.log" &
  pids+=($!)
  URL=""
  for _ in $(seq 100); do
    URL=$(sed -n 's|^voxlet gateway: open \(http://[^ ]*\)/$|\1|p' "$OUT/$name.out")
    [ -n "$URL" ] && break
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then cat "$OUT/$name.log" >&2; echo "gateway $name did not start" >&2; exit 1; fi
    sleep 0.1
  done
  [ -n "$URL" ] || { echo "gateway $name printed no URL" >&2; exit 1; }
}

read -r PBX_PORT RTP_PORT < <(node tests/e2e/lib.mjs ports 2)
start main --peer echo --peer announce --peer room --peer "pbx=udp:127.0.0.1:$PBX_PORT" \
  --rtp-ports "$RTP_PORT-$((RTP_PORT + 2))"
export VOXLET_E2E_URL=$URL VOXLET_E2E_PBX_PORT=$PBX_PORT
start noiso --no-isolation --token e2e-secret
export VOXLET_E2E_URL_NOISO=$URL
echo "gateways: $VOXLET_E2E_URL (pbx peer 127.0.0.1:$PBX_PORT, RTP port $RTP_PORT), $VOXLET_E2E_URL_NOISO (no isolation)"

files=()
if [ $# -gt 0 ]; then
  for n in "$@"; do files+=("tests/e2e/$n.test.mjs"); done
else
  files=(tests/e2e/*.test.mjs)
fi
# One file at a time (real-time audio on 2 cores); bounded whatever happens.
timeout 420 node --test --test-concurrency=1 --test-timeout=120000 "${files[@]}"
