#!/usr/bin/env bash
# Type-checks the package's declarations (pkg/src/*.d.ts and the
# wasm-bindgen ones in pkg/wasm/) against tests/types/usage.ts, which
# touches every option and every event, with `tsc --noEmit --strict`.
# Needs pkg/wasm built (scripts/build-wasm.sh) and `typescript` in the dev
# dependencies (package.json).
#
#   bash scripts/check-types.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
if ! command -v tsc >/dev/null; then
  if grep -q '"typescript"' package.json; then
    echo "check-types: typescript is a dev dependency but tsc is missing: run scripts/setup.sh" >&2
    exit 1
  fi
  # Until typescript is in package.json's devDependencies: say so, loudly.
  echo "check-types: SKIPPED: typescript is not in package.json's devDependencies (add it to run this check)" >&2
  exit 0
fi
[ -f pkg/wasm/voxlet.d.ts ] || bash scripts/build-wasm.sh
tsc -p tests/types/tsconfig.json
echo "check-types: ok"
