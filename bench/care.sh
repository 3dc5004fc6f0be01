#!/usr/bin/env bash
# bench/care.sh — how long the care figures take (docs/CARE.md, "Speed").  Builds
# bench/care_bench.c against build/libamparo.a and runs it on a temporary data
# directory for each size in CARE_BENCH_SIZES (default "5000 20000" cases, each
# with a stay, a return, a plan and a visit).  Prints one JSON line per figure.
# The load is short (well under a minute at the default sizes).
#
# Environment: CARE_BENCH_SIZES="5000 20000", BENCH_DIR=/tmp.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SIZES=${CARE_BENCH_SIZES:-5000 20000}
make --no-print-directory -j2 build/libamparo.a >/dev/null
mkdir -p build/bench
PKGS=$(make --no-print-directory -s -pn 2>/dev/null | sed -n 's/^PKGS *:= *//p' | head -1)
# shellcheck disable=SC2046,SC2086
cc -O2 -g -std=c11 -D_GNU_SOURCE -pthread -Isrc $(pkg-config --cflags $PKGS) \
  -o build/bench/care_bench bench/care_bench.c build/libamparo.a \
  $(pkg-config --libs $PKGS) -lcsv -pthread -lm
for n in $SIZES; do
  DIR=$(mktemp -d "${BENCH_DIR:-/tmp}/amparo-care-bench-XXXXXX")
  build/bench/care_bench "$DIR" "$n"
  rm -rf "$DIR"
done
