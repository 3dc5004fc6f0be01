#!/usr/bin/env bash
# bench/audit.sh — throughput and cost of the audit trail (see bench/README.md,
# "Audit trail").  Builds bench/audit_bench.c against build/libamparo.a and runs
# it on a temporary data directory: durable audit_log calls from 1, 8 and 64
# concurrent callers, the CPU cost of an entry inside a job, and verification
# speed.  Each caller run lasts AUDIT_BENCH_SECONDS (default 5), so the whole
# benchmark stays under a minute of load.
#
# Environment: AUDIT_BENCH_SECONDS=5, AUDIT_BENCH_CALLERS="1 8 64",
# BENCH_DIR=/tmp (its disk is the one that fsyncs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${AUDIT_BENCH_SECONDS:-5}
CALLERS=${AUDIT_BENCH_CALLERS:-1 8 64}
make --no-print-directory -j2 build/libamparo.a >/dev/null
PKGS=$(make --no-print-directory -s -pn 2>/dev/null | sed -n 's/^PKGS *:= *//p' | head -1)
mkdir -p build/bench
# shellcheck disable=SC2046,SC2086
cc -O2 -g -std=c11 -D_GNU_SOURCE -pthread -Isrc $(pkg-config --cflags $PKGS) \
  -o build/bench/audit_bench bench/audit_bench.c build/libamparo.a \
  $(pkg-config --libs $PKGS) -lcsv -pthread -lm
DIR=$(mktemp -d "${BENCH_DIR:-/tmp}/amparo-audit-bench-XXXXXX")
trap 'rm -rf "$DIR"' EXIT
echo "audit bench: $(nproc) CPUs, data in $DIR ($(df --output=source "$DIR" | tail -1)), ${SECS}s per run"
# shellcheck disable=SC2086
build/bench/audit_bench "$DIR" "$SECS" $CALLERS 2> >(grep -v 'applied migration' >&2)
# the space an entry takes (table and its five indexes), after a checkpoint
sqlite3 "$DIR/amparo.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
entries=$(sqlite3 "$DIR/amparo.db" "SELECT count(*) FROM audit")
bytes=$(stat -c %s "$DIR/amparo.db")
echo "{\"test\":\"size\",\"entries\":$entries,\"db_bytes\":$bytes,\"bytes_per_entry\":$((bytes / entries))}"
