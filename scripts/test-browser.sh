#!/usr/bin/env bash
# Browser tests of the npm package in real browsers, never downloaded ones:
# Debian's Chromium (playwright-core), Firefox ESR (puppeteer-core, WebDriver
# BiDi, headless) and WebKitGTK's MiniBrowser (WebKitWebDriver +
# selenium-webdriver, under Xvfb). Builds the wasm package and the worklet
# bundle, makes the native reference decodes of the RTP fixtures (`cargo run
# --example decode`), then runs tests/browser/*.test.mjs with Node's test
# runner once per engine, one file at a time (real-time audio on 2 cores),
# and prints a table of pass / fail / skip counts per engine.
#
#   bash scripts/test-browser.sh                               # every file, every engine (4 runs)
#   bash scripts/test-browser.sh fixture                       # only tests/browser/fixture.test.mjs
#   VOXLET_BROWSERS=firefox bash scripts/test-browser.sh fixture
#   VOXLET_BROWSERS="webkit webkit-sab" bash scripts/test-browser.sh
#
# Engines: chromium, firefox, webkit (no SharedArrayBuffer: the MessagePort
# fallback on isolated pages), webkit-sab (JSC_useSharedArrayBuffer=1);
# all four by default.
# Firefox and WebKit need an audio output (headless Firefox's
# AudioContext.resume() never resolves without one): a PulseAudio daemon
# with a null sink is started for the run and stopped at the end, as is the
# Xvfb that MiniBrowser (no headless mode) draws into. TAP output per engine
# goes to target/browser-results/<engine>.tap. Exits non-zero if any engine
# has a failing test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

read -r -a ENGINES <<< "${VOXLET_BROWSERS:-chromium firefox webkit webkit-sab}"
for e in "${ENGINES[@]}"; do
  case "$e" in chromium|firefox|webkit|webkit-sab) ;; *) echo "unknown engine '$e' in VOXLET_BROWSERS" >&2; exit 2 ;; esac
done

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

# examples/web (the Rust web API from a wasm-bindgen app), for web-example.test.mjs.
case " ${files[*]} " in *web-example.test.mjs*) bash scripts/build-web-example.sh ;; esac

need_audio=0; need_x=0
for e in "${ENGINES[@]}"; do
  case "$e" in firefox) need_audio=1 ;; webkit*) need_audio=1; need_x=1 ;; esac
done

RUNDIR=$(mktemp -d /tmp/voxlet-browsers.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$RUNDIR"
}
trap cleanup EXIT

if [ "$need_audio" = 1 ]; then
  # A user-level daemon (as root it warns "not intended to be run as root"
  # but works; --system is not needed), private to this run: its own
  # runtime dir and socket, no D-Bus, no autospawn, no idle exit, one null
  # sink at 48 kHz as the default output.
  mkdir -p "$RUNDIR/pulse"
  XDG_RUNTIME_DIR="$RUNDIR/pulse" HOME="$RUNDIR/pulse" pulseaudio --daemonize=no --exit-idle-time=-1 -n \
    --use-pid-file=no --disallow-module-loading=no \
    --load="module-null-sink sink_name=voxlet rate=48000 channels=2" \
    --load="module-native-protocol-unix auth-anonymous=1 socket=$RUNDIR/pulse/native" \
    --load="module-always-sink" >"$RUNDIR/pulse.log" 2>&1 &
  PIDS+=($!)
  export PULSE_SERVER="unix:$RUNDIR/pulse/native"
  for _ in $(seq 50); do [ -S "$RUNDIR/pulse/native" ] && break; sleep 0.1; done
  [ -S "$RUNDIR/pulse/native" ] || { cat "$RUNDIR/pulse.log"; echo "pulseaudio did not start" >&2; exit 1; }
  echo "# PulseAudio null sink at $PULSE_SERVER"
fi
if [ "$need_x" = 1 ]; then
  d=90
  while [ -e "/tmp/.X$d-lock" ] || [ -e "/tmp/.X11-unix/X$d" ]; do d=$((d + 1)); done
  Xvfb ":$d" -screen 0 1280x800x24 -nolisten tcp >"$RUNDIR/xvfb.log" 2>&1 &
  PIDS+=($!)
  export DISPLAY=":$d"
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$d" ] && break; sleep 0.1; done
  [ -e "/tmp/.X11-unix/X$d" ] || { cat "$RUNDIR/xvfb.log"; echo "Xvfb did not start" >&2; exit 1; }
  echo "# Xvfb on DISPLAY=$DISPLAY"
fi

OUT=target/browser-results
mkdir -p "$OUT"
status=0
rows=()
for e in "${ENGINES[@]}"; do
  echo "# ===== $e: ${files[*]}"
  t0=$SECONDS
  rc=0
  VOXLET_BROWSER="$e" node --test --test-concurrency=1 --test-timeout=300000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$OUT/$e.tap" \
    "${files[@]}" || rc=$?
  secs=$((SECONDS - t0))
  count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$OUT/$e.tap" | tail -1; }
  pass=$(count pass); fail=$(count fail); skip=$(count skipped); cancelled=$(count cancelled)
  [ "$rc" = 0 ] || status=1
  rows+=("$(printf '%-11s %5s %5s %5s %9s %6ss %s' "$e" "${pass:-?}" "${fail:-?}" "${skip:-?}" "${cancelled:-?}" "$secs" "$([ "$rc" = 0 ] && echo ok || echo FAILED)")")
done

echo
echo "# browser suite per engine (${files[*]})"
printf '%-11s %5s %5s %5s %9s %7s %s\n' engine pass fail skip cancelled time result
for r in "${rows[@]}"; do echo "$r"; done
for e in "${ENGINES[@]}"; do
  # Skipped checks, by name, with their reasons.
  grep -E '^ *ok [0-9]+ - .* # SKIP' "$OUT/$e.tap" | sed -E "s/^ *ok [0-9]+ - /  $e skipped: /" || true
done
exit $status
