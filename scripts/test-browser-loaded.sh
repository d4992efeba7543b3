#!/usr/bin/env bash
# The browser suite on a busy machine: `runs` runs (default 5) of
# scripts/test-browser.sh (every engine, or VOXLET_BROWSERS), each with one
# busy loop per core beside it. Prints each run's engine table and a
# summary line; exits non-zero if any run failed. This is how the
# real-time browser tests are shown to hold under load (issue 14).
#
#   bash scripts/test-browser-loaded.sh [runs [test names…]]   (names as for test-browser.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
cores=$(nproc)
log=$(mktemp -d "${TMPDIR:-/tmp}/voxlet-loaded.XXXXXX")
hogs=()
stop_hogs() { [ ${#hogs[@]} -gt 0 ] && kill "${hogs[@]}" 2>/dev/null; hogs=(); }
trap stop_hogs EXIT
failed=0
for i in $(seq 1 "$runs"); do
  for _ in $(seq 1 "$cores"); do ( while :; do :; done ) & hogs+=($!); done
  start=$(date +%s)
  bash scripts/test-browser.sh "$@" > "$log/run$i.log" 2>&1
  rc=$?
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  stop_hogs
  [ $rc -eq 0 ] || failed=$((failed + 1))
  echo "# loaded run $i of $runs ($cores busy loops): rc=$rc in $(( $(date +%s) - start )) s, load $load (log $log/run$i.log)"
  grep -A5 "^engine" "$log/run$i.log" || tail -20 "$log/run$i.log"
  grep "✖" "$log/run$i.log" | sort -u | head -10
done
echo "# $((runs - failed)) of $runs loaded runs passed"
[ $failed -eq 0 ]
