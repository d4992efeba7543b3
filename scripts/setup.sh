#!/usr/bin/env bash
# Installs everything voxlet needs to build and test, idempotently: each step
# is skipped when what it installs is already there, so a second run is fast
# and works offline. Reaches only the package registries (Debian, crates.io,
# npm). Run as root (or with passwordless sudo) on a Debian 12 machine.
#
#   bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# --- Debian packages -------------------------------------------------------
# clang-19/llvm-19: C → wasm32 for libopus; cmake: libopus' build;
# ffmpeg/espeak-ng/sox: fixtures and reference peers; chromium(+driver):
# browser tests; wabt: wasm inspection in tests.
APT_PKGS=(clang-19 llvm-19 lld-19 cmake pkg-config ffmpeg espeak-ng sox chromium chromium-driver wabt python3-venv)
# Real receivers for bench/pesq (same arrivals as voxlet): libwebrtc's NetEq
# (libtgowt-dev, static, + its absl and opus) and GStreamer's rtpjitterbuffer
# driven from python3 on a GstCheck test clock (gir1.2-gstreamer-1.0 has the
# Gst/GstCheck typelibs, gir1.2-gst-plugins-base-1.0 GstApp/GstAudio).
APT_PKGS+=(g++ libtgowt-dev libabsl-dev libopus-dev gstreamer1.0-tools gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-libav python3-gst-1.0 gir1.2-gstreamer-1.0
  gir1.2-gst-plugins-base-1.0)
# The browser suite in two more engines (scripts/test-browser.sh): Firefox ESR
# (driven by puppeteer-core over WebDriver BiDi), WebKitGTK (WebKitWebDriver
# from webkit2gtk-driver drives its MiniBrowser; selenium-webdriver), Xvfb
# because MiniBrowser has no headless mode, PulseAudio for a null sink
# because headless Firefox's AudioContext never starts without an output.
APT_PKGS+=(firefox-esr webkit2gtk-driver xvfb pulseaudio)
# A real SIP phone for the gateway's SIP tests (gateway/tests/sip_baresip.rs):
# baresip-core has the modules they use (aufile, sndfile, g711, g722, opus,
# menu, stdio) without baresip's GTK front end.
APT_PKGS+=(baresip-core)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# --- Rust ------------------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for c in clippy rustfmt; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

# wasm-bindgen-cli must equal the wasm-bindgen crate pinned in Cargo.toml.
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WB_VERSION (2-4 min)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi
if ! command -v wasm-pack >/dev/null; then
  say "cargo install wasm-pack (2-3 min)"
  cargo install wasm-pack --locked
fi

# --- npm: wasm-opt (binaryen), esbuild, playwright-core, puppeteer-core,
# selenium-webdriver, vite, ws, tsc ------------------------------------------
# Browsers are never downloaded: Debian's are used (PUPPETEER_SKIP_DOWNLOAD;
# puppeteer-core and selenium-webdriver download nothing at install anyway).
export PUPPETEER_SKIP_DOWNLOAD=1
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ ! -x node_modules/.bin/tsc ] \
   || [ ! -d node_modules/puppeteer-core ] || [ ! -d node_modules/selenium-webdriver ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` rather than `npm ci`: npm 11's ci rejects lock files that
  # list platform-specific optional packages (rollup, esbuild) for other OSes.
  say "npm install"
  npm install --no-audit --no-fund --loglevel=error
fi
say "ready"
