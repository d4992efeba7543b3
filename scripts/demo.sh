#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds the npm package (wasm +
# worklet) and the gateway (release), then starts the softphone demo: the
# gateway on http://127.0.0.1:8080/ with the built-in peers echo, announce and
# room. Runs until Ctrl-C (or SIGTERM); needs no terminal input, so it works
# under CI and with stdin redirected.
#
#   bash scripts/demo.sh                                   # open the printed URL
#   bash scripts/demo.sh --peer pbx=udp:192.0.2.10:4000    # plus a real RTP peer (RTCP on port+1)
#   bash scripts/demo.sh --listen 127.0.0.1:9000 --no-isolation
#
# Every argument goes to voxlet-gateway (`--help` lists them: --token,
# --rtp-ports, --udp-codecs, --webrtc-ip, limits…). The built-in peers are
# kept next to the ones you add (unless you reuse their names); --listen
# defaults to 127.0.0.1:8080, or the next free port up to 8090 if 8080 is
# taken.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[demo]\033[0m %s\n' "$*"; }

bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
say "building the npm package (wasm + AudioWorklet)"
bash scripts/build-wasm.sh
say "building the gateway (release)"
cargo build --release -p voxlet-gateway

# Which peer names and options the caller gave.
names=() listen=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  a=${args[$i]} v=""
  case "$a" in
    --peer) v=${args[$((i + 1))]:-} ;;
    --peer=*) v=${a#--peer=} ;;
    --listen|--listen=*) listen=1 ;;
    -h|--help|-V|--version) exec target/release/voxlet-gateway "$@" ;;
  esac
  if [ -n "$v" ]; then
    IFS=',' read -ra specs <<<"$v"
    for s in "${specs[@]}"; do
      if [[ $s == *=* ]]; then names+=("${s%%=*}"); else names+=("${s%%:*}"); fi
    done
  fi
done
extra=()
for p in echo announce room; do
  [[ " ${names[*]-} " == *" $p "* ]] || extra+=(--peer "$p")
done
if [ -z "$listen" ]; then
  port=8080
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    say "port $port is taken"
    port=$((port + 1))
    if [ "$port" -gt 8090 ]; then say "ports 8080-8090 are all taken: pass --listen 127.0.0.1:PORT"; exit 1; fi
  done
  extra+=(--listen "127.0.0.1:$port")
fi

say "starting the gateway (Ctrl-C stops it). Open the URL below in Chrome, Edge or Firefox."
say "a real RTP peer: bash scripts/demo.sh --peer pbx=udp:HOST:PORT   (all options: --help)"
exec target/release/voxlet-gateway --www www --pkg pkg --fixtures tests/fixtures "${extra[@]}" "$@"
