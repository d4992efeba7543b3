#!/usr/bin/env bash
# Codec speed natively and in wasm (Node) in one run, as x-realtime, plus the
# wasm/native ratio. Needs scripts/setup.sh to have run.
#
#   bash scripts/bench-codecs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
T=${CARGO_TARGET_DIR:-target}
cargo build -q --release --example bench_codecs
cargo build -q --release --example bench_codecs --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir "$T/bench-wasm" "$T/wasm32-unknown-unknown/release/examples/bench_codecs.wasm"
"$T/release/examples/bench_codecs" > "$T/bench-native.csv"
node -e "process.stdout.write(require('./$T/bench-wasm/bench_codecs.js').bench())" > "$T/bench-wasm.csv"
python3 - "$T/bench-native.csv" "$T/bench-wasm.csv" <<'PY'
import csv, sys
n = {r["codec"]: r for r in csv.DictReader(open(sys.argv[1]))}
w = {r["codec"]: r for r in csv.DictReader(open(sys.argv[2]))}
print("| codec | encode native | encode wasm | wasm/native | decode native | decode wasm | wasm/native |")
print("|---|---|---|---|---|---|---|")
for c in n:
    en, ew = float(n[c]["encode_x_realtime"]), float(w[c]["encode_x_realtime"])
    dn, dw = float(n[c]["decode_x_realtime"]), float(w[c]["decode_x_realtime"])
    print(f"| {c} | {en:.0f}x | {ew:.0f}x | {ew/en:.2} | {dn:.0f}x | {dw:.0f}x | {dw/dn:.2} |")
PY
