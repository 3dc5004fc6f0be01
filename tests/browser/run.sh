#!/usr/bin/env bash
# Runs the web UI's browser tests (tests/browser/ui.test.mjs) against the
# given build's `amparo`.  Installs the pinned test modules with `npm ci` when
# they are missing (npm serves these tests only; Amparo never needs it) and
# uses Debian's chromium (tools/install-deps.sh installs it).  The last line
# is "browser: N passed, N failed, N skipped".  Usage: tests/browser/run.sh [BUILD_DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
export AMPARO_BIN="$root/$build/amparo"
export ARTIFACTS="$root/build/browser-artifacts"
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium is not installed (run tools/install-deps.sh)"
  echo "browser: 0 passed, 1 failed, 0 skipped"; exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "node is not installed (run tools/install-deps.sh)"
  echo "browser: 0 passed, 1 failed, 0 skipped"; exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) || {
    echo "npm ci failed"; echo "browser: 0 passed, 1 failed, 0 skipped"; exit 1; }
fi
rm -rf "$ARTIFACTS"
cd "$here" && exec node ui.test.mjs
