#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: unit and end-to-end tests on the
# normal build, the same under AddressSanitizer + UndefinedBehaviorSanitizer, and
# short libFuzzer runs of every parser.  The last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
total_p=0
total_f=0
stage() { # name, command...
  local name=$1; shift
  echo "== $name"
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local line p f
  line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  p=$(printf '%s' "$line" | sed -E -n 's/(^|.*[^0-9])([0-9]+) passed.*/\2/p')
  f=$(printf '%s' "$line" | sed -E -n 's/.*[^0-9]([0-9]+) failed.*/\1/p')
  if [ -z "$line" ]; then p=0; f=1; echo "stage '$name' did not report its results"; fi
  total_p=$((total_p + ${p:-0})); total_f=$((total_f + ${f:-0}))
  rm -f "$log"
}
build() { # make arguments...
  make --no-print-directory -j"$jobs" "$@" >/dev/null || { echo "build failed: make $*"; make --no-print-directory "$@" 2>&1 | tail -30; return 1; }
}
tests_of() { # build dir: every unit and e2e test binary of that build
  ls tests/unit/test_*.c tests/e2e/e2e_*.c 2>/dev/null | sed -E "s|tests/(unit\|e2e)/(.*)\.c|$1/tests/\2|"
}
if build all $(tests_of build); then
  stage unit tests/run.sh build unit
  stage e2e tests/run.sh build e2e
else
  total_f=$((total_f + 1))
fi
if build SAN=1 all $(tests_of build-asan); then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  stage "unit (asan+ubsan)" tests/run.sh build-asan unit
  stage "e2e (asan+ubsan)" tests/run.sh build-asan e2e
else
  total_f=$((total_f + 1))
fi
stage fuzz tests/fuzz-smoke.sh
# The web UI in a real browser (Debian's chromium driven by playwright-core),
# with axe-core accessibility checks; screenshots in build/browser-artifacts/.
# Steps whose API is not on this build yet are reported as skipped.
stage browser tests/browser/run.sh build
format_check() {
  if make --no-print-directory check-format >/dev/null 2>&1; then echo "format: 1 passed, 0 failed"
  else make --no-print-directory check-format 2>&1 | head -20; echo "format: 0 passed, 1 failed"; fi
}
stage clang-format format_check
echo "$total_p passed, $total_f failed"
[ $total_f -eq 0 ]
