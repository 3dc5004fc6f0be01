#!/usr/bin/env bash
# Runs the test binaries of one build directory and one kind (unit or e2e),
# counting cmocka's results.  Prints "N passed, N failed" last; exits 1 on any
# failure.  Usage: tests/run.sh BUILD_DIR unit|e2e
set -u
build=$1
kind=$2
passed=0
failed=0
case "$kind" in
  unit) bins=$(ls "$build"/tests/test_* 2>/dev/null) ;;
  e2e) bins=$(ls "$build"/tests/e2e_* 2>/dev/null) ;;
  *) echo "usage: $0 BUILD_DIR unit|e2e" >&2; exit 2 ;;
esac
export AMPARO_BIN="$build/amparo"
for bin in $bins; do
  name=$(basename "$bin")
  out=$(CMOCKA_MESSAGE_OUTPUT=stdout "$bin" 2>&1)
  rc=$?
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or failed outside a test
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    printf '%s\n' "$out" | tail -40
    echo "FAIL $name ($p passed, $f failed)"
  else
    echo "ok   $name ($p passed)"
  fi
done
echo "$kind ($build): $passed passed, $failed failed"
[ $failed -eq 0 ]
