#!/usr/bin/env bash
# Every benchmark figure of issue 7 in one run, written to bench/results.md;
# the README's Results section is generated from the same run
# (bench/summary.py, between its bench:begin / bench:end markers):
#   - Opus decode/encode in wasm (Node) vs native libopus on the same packets,
#     and decode vs npm opus-decoder; G.711 vs npm alawmulaw; G.722 wasm vs
#     native vs ffmpeg; the receive path (jitter buffer + decode + resample
#     to 48 kHz), native and wasm. All in alternating rounds driven by
#     bench/ab.py (examples/bench_anchors.rs --serve, bench/anchors.mjs,
#     bench/ffmpeg_g722.py): each ratio is the median of per-round ratios,
#     with its spread, and a warning when the machine's load changed
#   - all codecs native vs wasm (scripts/bench-codecs.sh's table); the same
#     streams inside the player AudioWorklet in headless Chromium
#     (bench/worklet.mjs: OfflineAudioContext vs a do-nothing worklet)
#   - allocations per render quantum, native and wasm (examples/bench_alloc.rs)
#   - wasm size (full and player-only builds), gzip -9 and brotli -11
#   - latency / quality (PESQ) over clean, 40 ms jitter, 5 % and 10 % burst
#     loss, ±1000 ppm drift vs a fixed 60 ms zero-fill buffer
#     (bench/latency_quality.py, reusing bench/pesq and examples/impair.rs)
#
#   bash scripts/bench.sh            # ~5 min on 2 cores (after the first build)
#   bash scripts/bench.sh ratios     # only the alternating-round codec ratios
#                                    # (build, then bench/ab.py; no results.md)
#   AB_ROUNDS=10 AB_SLICE=0.1 AB_CPU=1 bash scripts/bench.sh   # bench/ab.py's
#                                    # rounds, CPU s per slice, taskset CPU
#
# Needs scripts/setup.sh (wasm32 target, wasm-bindgen, npm devDependencies
# incl. opus-decoder, alawmulaw and playwright-core, Debian chromium), ffmpeg
# and python3 (PESQ is pip-installed
# into target/pyenv on first use). Background load is tolerated by the
# codec ratios (alternating rounds, CPU time) and reported; the worklet,
# allocation and quality figures are single measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
T=${CARGO_TARGET_DIR:-target}
O="$T/bench"
mkdir -p "$O"
step() { printf '[bench] %s\n' "$*" >&2; }

[ -d node_modules/opus-decoder ] && [ -d node_modules/alawmulaw ] || npm install --no-audit --no-fund >&2

step "machine"
{
  echo "date:   $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu:    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores available)"
  echo "memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
  echo "os:     $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "rustc:  $(rustc -V)"
  echo "node:   $(node -v)"
  echo "ffmpeg: $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
  echo "git:    $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
} > "$O/machine.txt"
cat "$O/machine.txt" >&2

step "build (native and wasm32 release)"
cargo build -q --release --example bench_anchors --example bench_alloc --example bench_codecs --example impair
cargo build -q --release --target wasm32-unknown-unknown --example bench_anchors --example bench_alloc --example bench_codecs
for e in bench_anchors bench_alloc bench_codecs; do
  wasm-bindgen --target nodejs --out-dir "$O/wasm" "$T/wasm32-unknown-unknown/release/examples/$e.wasm"
done

step "codec anchors: inputs (the Opus packets every decoder gets, the receive-path streams)"
"$T/release/examples/bench_anchors" "$O"
step "codec anchors: native, wasm in Node, opus-decoder, alawmulaw, ffmpeg in alternating rounds"
AB_ARGS=(--rounds "${AB_ROUNDS:-10}" --slice "${AB_SLICE:-0.1}")
[ -n "${AB_CPU:-}" ] && AB_ARGS+=(--cpu "$AB_CPU")
python3 bench/ab.py "$O" "${AB_ARGS[@]}" > "$O/ab.json"
[ "${1:-}" = ratios ] && { step "done: $O/ab.json"; exit 0; }

step "receive path inside an AudioWorklet (headless Chromium)"
bash scripts/build-wasm.sh >&2
node bench/worklet.mjs "$O" > "$O/worklet.json"

step "echo-cancelled output route vs direct output (headless Chromium, real time)"
node bench/aec.mjs 5 > "$O/aec.json"

step "all codecs native vs wasm (bench_codecs)"
"$T/release/examples/bench_codecs" > "$O/codecs-native.csv"
node -e "process.stdout.write(require('./$O/wasm/bench_codecs.js').bench())" > "$O/codecs-wasm.csv"
python3 - "$O/codecs-native.csv" "$O/codecs-wasm.csv" > "$O/codecs.md" <<'PY'
import csv, sys
n = {r["codec"]: r for r in csv.DictReader(open(sys.argv[1]))}
w = {r["codec"]: r for r in csv.DictReader(open(sys.argv[2]))}
print("| codec | encode native | encode wasm | wasm/native | decode native | decode wasm | wasm/native |")
print("|---|---|---|---|---|---|---|")
for c in n:
    en, ew = float(n[c]["encode_x_realtime"]), float(w[c]["encode_x_realtime"])
    dn, dw = float(n[c]["decode_x_realtime"]), float(w[c]["decode_x_realtime"])
    print(f"| {c} | {en:,.0f}x | {ew:,.0f}x | {ew/en:.2f} | {dn:,.0f}x | {dw:,.0f}x | {dw/dn:.2f} |")
PY

step "allocations per render quantum"
"$T/release/examples/bench_alloc" > "$O/alloc_native.json"
node -e "process.stdout.write(require('./$O/wasm/bench_alloc.js').run())" > "$O/alloc_wasm.json"

step "wasm size (the files scripts/build-wasm.sh built above: full and player-only)"
size() { # {"raw", "gzip" (gzip -9, as scripts/check-size.sh), "brotli" (-11)} of one file
  printf '{"raw": %s, "gzip": %s, "brotli": %s}' "$(stat -c %s "$1")" "$(gzip -9 -n -c "$1" | wc -c)" \
    "$(node -e 'const z=require("zlib");console.log(z.brotliCompressSync(require("fs").readFileSync(process.argv[1]),
      {params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length)' "$1")"
}
full=$(size pkg/wasm/voxlet_bg.wasm)
echo "${full%\}}, \"player\": $(size pkg/wasm-player/voxlet_bg.wasm)}" > "$O/size.json"

step "latency / quality (PESQ) over the impairment scenarios"
python3 bench/latency_quality.py --seeds 3 > "$O/quality.md"

python3 bench/report.py "$O" > bench/results.md
python3 bench/summary.py "$O" --splice README.md
step "done: bench/results.md, and README.md's Results section"
cat bench/results.md
