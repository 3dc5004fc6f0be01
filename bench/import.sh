#!/usr/bin/env bash
# bench/import.sh — HTCDS CSV import speed (issue 6, item 6: >= 100,000 rows/s),
# side by side with its storage floor.  See bench/README.md, "HTCDS import".
#
# BENCH_IMPORT demo cases (seed 99) are exported with their identity as HTCDS CSV
# and imported into a data directory holding only the organisations: a dry run,
# then the real import.  Then the floor: the sqlite3 command-line tool copies the
# very rows the import wrote (cases, their indexes and terms, data keys, history,
# field lists, audit entries and their keys) from the imported database into a
# copy of the empty one, in one transaction with the import's settings
# (synchronous = FULL, the same page cache), with INSERT … SELECT: every b-tree
# insert and every byte the import writes, none of its parsing, checking, sealing
# or hashing.  No import of this schema can be faster than the floor.
#
# With BENCH_BASE=/path/to/other/amparo, each round also runs that binary (the
# two alternate, so the machine's load falls on both alike): the same-run ratio is
# what counts on a shared machine.
#
# Environment (all optional):
#   BENCH_IMPORT=100000  rows       BENCH_ROUNDS=3  rounds (medians are reported)
#   BENCH_BASE=BIN       a second binary to compare with
# Writes bench/results/import-latest.md.  Nothing listens on the network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
ROWS=${BENCH_IMPORT:-100000}
ROUNDS=${BENCH_ROUNDS:-3}
BASE=${BENCH_BASE:-}
BIN=$ROOT/build/amparo
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

command -v sqlite3 >/dev/null || tools/install-deps.sh sqlite3 >/dev/null
make --no-print-directory build/amparo >/dev/null
[ -z "$BASE" ] || [ -x "$BASE" ] || die "BENCH_BASE=$BASE is not an executable"
WORK=$(mktemp -d /tmp/amparo-bench-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
now_ms() { date +%s%3N; }

say "exporting $ROWS demo cases as HTCDS CSV"
"$BIN" init --data "$WORK/src" --country EC >/dev/null 2>&1
"$BIN" demo --data "$WORK/src" --cases "$ROWS" --seed 99 >/dev/null 2>&1
"$BIN" export htcds --data "$WORK/src" --with-identity --out "$WORK/import.csv" 2>/dev/null
rm -rf "$WORK/src"
"$BIN" init --data "$WORK/empty" --country EC >/dev/null 2>&1
"$BIN" demo --data "$WORK/empty" --cases 1 --seed 99 >/dev/null 2>&1 # the organisations

# the page cache a bulk load gives itself (sq_bulk_begin): an eighth of the
# memory, 64 MiB to 1 GiB
KIB=$(awk '/MemTotal/ {k = int($2 / 8); if (k < 65536) k = 65536; if (k > 1048576) k = 1048576; print k}' /proc/meminfo)

# rate BIN: dry run and real import into a fresh copy of the empty directory;
# prints "dry_rows_s real_rows_s real_s process_ms"
rate() {
    local bin=$1 out dry real t0 ms
    rm -rf "$WORK/dst" && cp -a "$WORK/empty" "$WORK/dst" && sync
    dry=$("$bin" import htcds --data "$WORK/dst" --dry-run "$WORK/import.csv" 2>/dev/null | tail -1)
    sync
    t0=$(now_ms)
    real=$("$bin" import htcds --data "$WORK/dst" "$WORK/import.csv" 2>/dev/null | tail -1)
    ms=$(($(now_ms) - t0))
    grep -q " $ROWS imported" <<<"$real" || die "import failed: $real"
    out="$(sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p' <<<"$dry") "
    out+="$(sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p' <<<"$real") "
    out+="$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' <<<"$real") $ms"
    echo "$out"
}

# floor: copies the rows of $WORK/dst (just imported) into a copy of the empty
# directory; prints the seconds from BEGIN to the end of COMMIT
floor() {
    rm -rf "$WORK/floor" && cp -a "$WORK/empty" "$WORK/floor" && sync
    sqlite3 "$WORK/floor/amparo.db" >"$WORK/floor.out" <<SQL
PRAGMA cache_size = -$KIB;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = OFF;
ATTACH '$WORK/dst/amparo.db' AS imp;
CREATE TEMP TABLE b AS SELECT
  (SELECT coalesce(max(id), 0) FROM main.cases) AS cases,
  (SELECT coalesce(max(id), 0) FROM main.term_ids) AS terms,
  (SELECT coalesce(max(id), 0) FROM main.field_lists) AS lists,
  (SELECT coalesce(max(id), 0) FROM main.case_history) AS history,
  (SELECT coalesce(max(rowid), 0) FROM main.case_keys) AS keys,
  (SELECT coalesce(max(seq), 0) FROM main.audit) AS audit;
.timer on
BEGIN;
INSERT INTO main.term_ids SELECT * FROM imp.term_ids WHERE id > (SELECT terms FROM b);
INSERT INTO main.field_lists SELECT * FROM imp.field_lists WHERE id > (SELECT lists FROM b);
INSERT INTO main.case_keys SELECT * FROM imp.case_keys WHERE rowid > (SELECT keys FROM b);
INSERT INTO main.cases SELECT * FROM imp.cases WHERE id > (SELECT cases FROM b);
INSERT INTO main.case_terms SELECT * FROM imp.case_terms WHERE case_id > (SELECT cases FROM b);
INSERT INTO main.case_history SELECT * FROM imp.case_history WHERE id > (SELECT history FROM b);
INSERT INTO main.audit SELECT * FROM imp.audit WHERE seq > (SELECT audit FROM b);
INSERT INTO main.audit_keys SELECT * FROM imp.audit_keys WHERE seq > (SELECT audit FROM b);
COMMIT;
.timer off
SELECT 'copied', count(*) FROM main.cases WHERE id > (SELECT cases FROM b);
SQL
    local copied
    copied=$(sed -n 's/^copied|//p' "$WORK/floor.out")
    [ "$copied" = "$ROWS" ] || die "the floor copied $copied cases, not $ROWS"
    awk '/^Run Time: real/ {s += $4} END {printf "%.2f\n", s}' "$WORK/floor.out"
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

: >"$WORK/new.tsv" >"$WORK/base.tsv" >"$WORK/floor.tsv"
for r in $(seq 1 "$ROUNDS"); do
    say "round $r of $ROUNDS"
    if [ -n "$BASE" ]; then
        rate "$BASE" | tee -a "$WORK/base.tsv" | sed 's/^/  base: /' >&2
    fi
    rate "$BIN" | tee -a "$WORK/new.tsv" | sed 's/^/  this: /' >&2
    floor | tee -a "$WORK/floor.tsv" | sed 's/^/  floor (s): /' >&2
done

col() { awk -v c="$2" '{print $c}' "$1" | median; }
FLOOR_S=$(median <"$WORK/floor.tsv")
FLOOR_RATE=$(awk -v n="$ROWS" -v s="$FLOOR_S" 'BEGIN {printf "%d", n / s}')
row() {
    local name=$1 f=$2 real_s
    real_s=$(col "$f" 3)
    printf '| %s | %.0f | %.0f | %s s | %.0f ms | %.2f |\n' "$name" "$(col "$f" 1)" "$(col "$f" 2)" \
        "$real_s" "$(col "$f" 4)" "$(awk -v a="$real_s" -v b="$FLOOR_S" 'BEGIN {print a / b}')"
}
{
    echo "# HTCDS CSV import ($(date -u +%Y-%m-%dT%H:%MZ), $ROWS rows, $(nproc) CPUs, medians of $ROUNDS rounds)"
    echo
    echo "| binary | dry run rows/s | real import rows/s | until reported | whole process | × floor |"
    echo "|---|---|---|---|---|---|"
    row "this ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))" "$WORK/new.tsv"
    [ -z "$BASE" ] || row "base ($BASE)" "$WORK/base.tsv"
    echo
    echo "- storage floor (sqlite3 copying the same rows, INSERT … SELECT, one transaction):" \
         "$FLOOR_S s, $FLOOR_RATE rows/s"
    echo "- target: 100,000 rows/s"
} >"$RESULTS/import-latest.md"
cat "$RESULTS/import-latest.md"
