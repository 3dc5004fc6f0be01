#!/usr/bin/env bash
# bench/audit_verify.sh — how long `audit verify` takes on a trail of
# VERIFY_ENTRIES entries (bench/audit_verify_bench.c; figures in docs/AUDIT.md,
# "Verification").
#
#   bench/audit_verify.sh [BUILD_DIR...]
#
# Builds the bench against BUILD_DIR/libamparo.a for each build directory given
# (default: build), writes one trail in a temporary directory, then times
# VERIFY_RUNS verifications with each build in turn on that same database, so
# their ratio is measured in one run.  Wrap it in
# `flock /tmp/amparo-bench.lock` on a shared machine.
#
# Environment: VERIFY_ENTRIES=200000, VERIFY_RUNS=5, BENCH_DIR=/tmp.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ENTRIES=${VERIFY_ENTRIES:-200000}
RUNS=${VERIFY_RUNS:-5}
[ $# -gt 0 ] || set -- build
PKGS="libmicrohttpd jansson libsodium sqlite3 liboath libqrencode icu-uc icu-i18n xlsxwriter libxml-2.0"
for b in "$@"; do
  [ "$b" = build ] && make --no-print-directory -j2 build/libamparo.a >/dev/null
  mkdir -p "$b/bench"
  # shellcheck disable=SC2046
  cc -O2 -g -std=c11 -D_GNU_SOURCE -pthread -Isrc $(pkg-config --cflags $PKGS) \
    -o "$b/bench/audit_verify_bench" bench/audit_verify_bench.c "$b/libamparo.a" \
    $(pkg-config --libs $PKGS) -lcsv -pthread -lm
done
DIR=$(mktemp -d "${BENCH_DIR:-/tmp}/amparo-verify-bench-XXXXXX")
trap 'rm -rf "$DIR"' EXIT
echo "verify bench: $(nproc) CPUs, $ENTRIES entries in $DIR, $RUNS runs per build"
for b in "$@"; do
  echo "== $b"
  "$b/bench/audit_verify_bench" "$DIR" "$ENTRIES" "$RUNS" 2> >(grep -v "applied migration\|created a new audit key" >&2) || echo "(verify failed with $b)"
done
