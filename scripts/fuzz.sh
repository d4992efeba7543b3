#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/) for a bounded time each,
# starting from the committed seed corpus (fuzz/corpus/<target>/). New inputs
# go to target/fuzz-corpus/<target>/ (not committed); a crash stops with the
# reproducer in fuzz/artifacts/<target>/ and a non-zero exit.
#
#   bash scripts/fuzz.sh            # 12 s per target (CI: ~4 min with the build)
#   bash scripts/fuzz.sh 600        # longer
#   bash scripts/fuzz.sh 30 decode_opus receiver_sequence   # some targets
#   FUZZ_RUNS=10000000 bash scripts/fuzz.sh 3600 rtp_packet  # stop at N execs
#   FUZZ_SANITIZER=none FUZZ_TRACE_COMPARES=0 FUZZ_RUNS=10000000 \
#     bash scripts/fuzz.sh 7200 receiver_sequence            # the long run
#
# Reproduce a crash: cargo fuzz run <target> fuzz/artifacts/<target>/<file>
# (with the same RUSTC_BOOTSTRAP=1 and flags as below).
#
# Toolchain: the machine has only stable Rust (1.95). cargo-fuzz passes
# nightly-only flags (-Zsanitizer=address, -Zsanitizer-coverage...) to rustc;
# RUSTC_BOOTSTRAP=1 lets stable accept them. Builds are release with debug
# assertions and overflow checks (-O -a) and AddressSanitizer (the Rust
# code; the vendored libopus C code is not instrumented). FUZZ_SANITIZER=none
# builds without ASan (about 2x faster for long runs). FUZZ_TRACE_COMPARES=0
# drops the comparison tracing (--no-trace-compares): coarser guidance, but
# 3x the exec rate on DSP-heavy targets (receiver_sequence), where every
# loop bound in the resampler and decoders would otherwise call into it.
# FUZZ_MAX_LEN (default 65536) caps input size: long runs of the wire
# targets use 8192, since libFuzzer otherwise grows inputs until each run
# parses tens of KB of JSON/base64 and the rate falls tenfold.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
SECS=${1:-12}
shift || true
SAN=${FUZZ_SANITIZER:-address}
FLAGS=(-O -a --sanitizer "$SAN")
[ "${FUZZ_TRACE_COMPARES:-1}" = 0 ] && FLAGS+=(--no-trace-compares)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(cd fuzz && cargo fuzz list)
fi

T=${CARGO_TARGET_DIR:-$PWD/target}
(cd fuzz && cargo fuzz build "${FLAGS[@]}")

RUNS=${FUZZ_RUNS:+-runs=$FUZZ_RUNS}
status=0
printf '%-20s %12s %10s %8s %6s\n' target execs exec/s cov crash
for t in "${TARGETS[@]}"; do
  work="$T/fuzz-corpus/$t"
  mkdir -p "$work" "fuzz/artifacts/$t"
  log="$T/fuzz-logs/$t.log"
  mkdir -p "$(dirname "$log")"
  set +e
  (cd fuzz && cargo fuzz run "${FLAGS[@]}" "$t" "$work" "corpus/$t" -- \
      -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-65536}" \
      -print_final_stats=1 ${RUNS:-}) >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -oP 'stat::number_of_executed_units:\s*\K\d+' "$log" | tail -1 || true)
  rate=$(grep -oP 'stat::average_exec_per_sec:\s*\K\d+' "$log" | tail -1 || true)
  cov=$(grep -oP 'cov: \K\d+' "$log" | tail -1 || true)
  crash=no
  if [ $rc -ne 0 ]; then
    crash=YES
    status=1
  fi
  printf '%-20s %12s %10s %8s %6s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$crash"
  if [ $rc -ne 0 ]; then
    grep -E 'panicked|ERROR: |SUMMARY|artifact_prefix|Test unit written' "$log" | head -8 | sed 's/^/    /'
  fi
done
exit $status
