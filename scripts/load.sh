#!/usr/bin/env bash
# Gateway load on loopback: starts voxlet-gateway on 127.0.0.1 (a free port),
# runs gateway/examples/load.rs against its echo peer (default 200 WebSocket
# sessions x 50 RTP packets/s for 60 s), prints packet loss, echo latency,
# the gateway's CPU and RSS, then stops the gateway. Bounded: the load
# generator stops itself (hard deadline duration + 60 s), and this script
# kills the gateway it started on exit.
#
#   bash scripts/load.sh                          # 200 sessions, 60 s
#   bash scripts/load.sh --sessions 50 --duration 10
#
# Extra arguments go to the load generator (see --help of the example).
# Limits raised for the test: --max-sessions (sessions + 16),
# --max-packets-per-sec 1000 (the default 250 is already above 50),
# --idle-timeout-secs 120.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
T=${CARGO_TARGET_DIR:-target}

SESSIONS=200
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = "--sessions" ]; then j=$((i + 1)); SESSIONS=${!j}; fi
done

cargo build -q --release -p voxlet-gateway --bin voxlet-gateway --example load
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

LOG="$T/load-gateway.log"
VOXLET_LOG=warn "$T/release/voxlet-gateway" --listen 127.0.0.1:0 --peer echo \
  --www "$T/load-www-none" --pkg "$T/load-pkg-none" \
  --max-sessions $((SESSIONS + 16)) --max-packets-per-sec 1000 --idle-timeout-secs 120 \
  > "$LOG.out" 2> "$LOG" &
GW=$!
trap 'kill "$GW" 2>/dev/null || true; wait "$GW" 2>/dev/null || true' EXIT

url=""
for _ in $(seq 150); do
  url=$(grep -oP 'WebSocket: \Kws://\S+' "$LOG.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  kill -0 "$GW" 2>/dev/null || { echo "gateway exited:"; cat "$LOG"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "gateway did not start"; cat "$LOG"; exit 1; }

echo "gateway pid $GW at $url ($(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))"
echo "gateway RSS before load: $(awk '/VmRSS/ {print $2, $3}' /proc/$GW/status)"
"$T/release/examples/load" --url "$url" --gateway-pid "$GW" --clk-tck "$(getconf CLK_TCK)" "$@"
echo "gateway log (warnings and errors): $(wc -l < "$LOG") lines"
grep -v 'is not a directory' "$LOG" | tail -5 || true
