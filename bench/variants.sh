#!/usr/bin/env bash
# Size and speed of build variants of the release wasm (issue 15): for each
# variant, builds the library wasm (wasm-bindgen --target web + wasm-opt, the
# shipped artifact: raw, gzip -9 and brotli -q 11 sizes) and
# examples/bench_anchors.rs with the same settings (wasm-bindgen --target
# nodejs + the same wasm-opt), then bench/variants.mjs times Opus
# decode/encode and the receive path of every variant in one Node process,
# in alternating rounds, as a ratio to the first variant.
#
#   bash bench/variants.sh [NAME ...]     # default: every variant below
#   PLAYER=1 bash bench/variants.sh base ...  # also the player-only build's size
#
# A variant is NAME|cargo args|wasm-opt args[|environment]; the environment
# (VOXLET_CC_HOT, VOXLET_CC_FLAGS: see wasm-libc/cc) reaches the C compiler,
# so libopus is rebuilt for every variant (cargo does not track it). The cargo args are --config
# overrides of the release profile / rustflags and --features; opusic-sys
# builds libopus with CMAKE_BUILD_TYPE MinSizeRel when its own opt-level is
# "s"/"z", else Release (its build.rs reads OPT_LEVEL), and turns on
# CMake's IPO (clang -flto) when the rustflags hold -C linker-plugin-lto.
# Output: target/variants/NAME/{web,node}, target/variants/sizes.tsv.
# Results and caveats: bench/variants-results.md. The names describe the
# settings they were measured with, when wasm-libc/cc compiled per file only
# under MinSizeRel and without -mbulk-memory; it now does both always, so
# `current` is the shipped build and the others differ from their rows
# (VOXLET_CC_PER_FILE=0 gives CMake's flags back).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
T=${CARGO_TARGET_DIR:-target}
O="$T/variants"
mkdir -p "$O"

FEAT="--enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue"
SIMD='target.wasm32-unknown-unknown.rustflags=["-C","target-feature=+simd128"]'
XLTO='target.wasm32-unknown-unknown.rustflags=["-C","target-feature=+simd128","-C","linker-plugin-lto"]'
P=profile.release
declare -A V=(
  [current]="|-O3"
  [base]="|-O3|VOXLET_CC_PER_FILE=0"
  [o3-Oz]="|-Oz"
  [s-Oz]="--config $P.opt-level=\\\"s\\\"|-Oz"
  [z-Oz]="--config $P.opt-level=\\\"z\\\"|-Oz"
  [z-O3]="--config $P.opt-level=\\\"z\\\"|-O3"
  [s-opus3-Oz]="--config $P.opt-level=\\\"s\\\" --config $P.package.opusic-sys.opt-level=3|-Oz"
  [s-opus3-O3]="--config $P.opt-level=\\\"s\\\" --config $P.package.opusic-sys.opt-level=3|-O3"
  [z-opus3-Oz]="--config $P.opt-level=\\\"z\\\" --config $P.package.opusic-sys.opt-level=3|-Oz"
  [3-opusz-Oz]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-Oz"
  [3-opuss-O3]="--config $P.package.opusic-sys.opt-level=\\\"s\\\"|-O3"
  [z-xlto-Oz-conv]="--config $P.opt-level=\\\"z\\\" --config '$XLTO'|-Oz --converge"
  [s-opus3-xlto-Oz]="--config $P.opt-level=\\\"s\\\" --config $P.package.opusic-sys.opt-level=3 --config '$XLTO'|-Oz"
  [3-xlto-O3]="--config '$XLTO'|-O3"
  [base-conv]="|-O3 --converge"
  [3-O2]="|-O2"
  [3-opusz-O3]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-O3"
  [3-opusz-hot-O3]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-O3"
  [3-opusz-O3-nohot]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-O3|VOXLET_CC_HOT=none"
  [3-opusz-hot-bulk-O3]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-O3|VOXLET_CC_FLAGS='-mbulk-memory -mnontrapping-fptoint'"
  [3-opusz-hot-xlto-O3]="--config $P.package.opusic-sys.opt-level=\\\"z\\\" --config '$XLTO'|-O3"
  [3-opusz-hot2-bulk-O3]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-O3|VOXLET_CC_FLAGS='-mbulk-memory -mnontrapping-fptoint' VOXLET_CC_HOT='decode_core.c resampler_private_IIR_FIR.c resampler_private_up2_HQ.c kiss_fft.c mdct.c celt_decoder.c celt.c entdec.c vq.c pitch.c celt_lpc.c LPC_analysis_filter.c NSQ_del_dec.c NSQ.c warped_autocorrelation_FLP.c NLSF_del_dec_quant.c LPC_analysis_filter_FLP.c inner_product_FLP.c resampler_private_down_FIR.c burg_modified_FLP.c'"
  [3-opusz-hot3-bulk-O3]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-O3|VOXLET_CC_FLAGS='-mbulk-memory -mnontrapping-fptoint' VOXLET_CC_HOT='decode_core.c kiss_fft.c mdct.c celt.c entdec.c pitch.c celt_lpc.c LPC_analysis_filter.c NSQ_del_dec.c warped_autocorrelation_FLP.c NLSF_del_dec_quant.c LPC_analysis_filter_FLP.c inner_product_FLP.c burg_modified_FLP.c'"
  [3-opusz-nohot-bulk-O3]="--config $P.package.opusic-sys.opt-level=\\\"z\\\"|-O3|VOXLET_CC_FLAGS='-mbulk-memory -mnontrapping-fptoint' VOXLET_CC_HOT=none"
  [base-bulk]="|-O3|VOXLET_CC_FLAGS='-mbulk-memory -mnontrapping-fptoint'"
  [2-O3]="--config $P.opt-level=2|-O3"
  [s-opus3-Oz-conv]="--config $P.opt-level=\\\"s\\\" --config $P.package.opusic-sys.opt-level=3|-Oz --converge"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(base o3-Oz s-Oz z-Oz s-opus3-Oz 3-opusz-Oz z-xlto-Oz-conv)

# brotli -q 11 with Node's zlib (no brotli CLI needed).
br() { node -e 'const z=require("zlib");console.log(z.brotliCompressSync(require("fs").readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length)' "$1"; }

for n in "${names[@]}"; do
  spec=${V[$n]:-}
  [ -n "$spec" ] || { echo "unknown variant $n" >&2; exit 1; }
  cargs=${spec%%|*}; rest=${spec#*|}; oargs=${rest%%|*}; envs=
  [ "$rest" = "$oargs" ] || envs=${rest#*|}
  echo "[variants] $n: cargo $cargs; wasm-opt $oargs; env $envs" >&2
  cargo clean -q -p opusic-sys --release --target wasm32-unknown-unknown
  eval "$envs nice -n 10 cargo build -q --release --target wasm32-unknown-unknown --lib --example bench_anchors $cargs"
  d="$O/$n"; rm -rf "$d"; mkdir -p "$d"
  wasm-bindgen --target web --out-dir "$d/web" --out-name voxlet "$T/wasm32-unknown-unknown/release/voxlet.wasm"
  wasm-bindgen --target nodejs --out-dir "$d/node" "$T/wasm32-unknown-unknown/release/examples/bench_anchors.wasm"
  for w in "$d/web/voxlet_bg.wasm" "$d/node/bench_anchors_bg.wasm"; do
    # shellcheck disable=SC2086
    nice -n 10 wasm-opt $oargs $FEAT "$w" -o "$w.opt" && mv "$w.opt" "$w"
  done
  w="$d/web/voxlet_bg.wasm"
  if [ -n "${PLAYER:-}" ]; then # the player-only build (scripts/build-wasm.sh's pkg/wasm-player) too
    eval "$envs nice -n 10 cargo build -q --release --target wasm32-unknown-unknown --lib --no-default-features --features player,opus,g722 $cargs"
    wasm-bindgen --target web --out-dir "$d/player" --out-name voxlet "$T/wasm32-unknown-unknown/release/voxlet.wasm"
    p="$d/player/voxlet_bg.wasm"
    # shellcheck disable=SC2086
    nice -n 10 wasm-opt $oargs $FEAT "$p" -o "$p.opt" && mv "$p.opt" "$p"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n/player" "$(stat -c %s "$p")" "$(gzip -9 -c "$p" | wc -c)" "$(br "$p")" "$cargs $envs" "$oargs" \
      | tee -a "$O/sizes.tsv" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$(stat -c %s "$w")" "$(gzip -9 -c "$w" | wc -c)" "$(br "$w")" "$cargs $envs" "$oargs" \
    | tee -a "$O/sizes.tsv" >&2
done
