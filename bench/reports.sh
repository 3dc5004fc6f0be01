#!/usr/bin/env bash
# bench/reports.sh — the statistics benchmark of issue 6 (see bench/README.md,
# section "Statistics").
#
# On BENCH_CASES demo cases (default 1,000,000), signed in as an analyst (so
# every figure goes through disclosure control, with threshold and secondary
# suppression):
#   1. 2-dimension crosstabs over HTTP: the first one (which builds the column
#      cache from the database) and then BENCH_RUNS warm ones per query; target
#      <= 100 ms each;
#   2. the same GROUP BY with the sqlite3 command-line tool on the same
#      database, and the ratio;
#   3. the CTDC export with k-anonymisation: over HTTP (warm cache) and with
#      `amparo export ctdc` (a new process: reads every case first); target <= 10 s;
#   4. HTCDS CSV import of BENCH_IMPORT rows (default 100,000) into an empty data
#      directory, dry run and real; target >= 100,000 rows/s.
# Writes bench/results/reports-latest.md.  Everything runs on 127.0.0.1; the
# server started here is stopped on exit.
#
# Environment (all optional):
#   BENCH_CASES=1000000  demo cases        BENCH_RUNS=20   warm crosstab runs per query
#   BENCH_IMPORT=100000  rows imported     BENCH_CHUNK=250000  demo cases per load step
#   BENCH_DATA=DIR       reuse (or create and keep) this data directory
#   BENCH_PAUSE=5        seconds between load steps (the machine is shared)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
CASES=${BENCH_CASES:-1000000}
RUNS=${BENCH_RUNS:-20}
IMPORT=${BENCH_IMPORT:-100000}
CHUNK=${BENCH_CHUNK:-250000}
PAUSE=${BENCH_PAUSE:-5}
BIN=$ROOT/build/amparo
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

tools/install-deps.sh jq >/dev/null
make --no-print-directory build/amparo >/dev/null
WORK=$(mktemp -d /tmp/amparo-bench-reports.XXXXXX)
DATA=${BENCH_DATA:-$WORK/data}
SERVER_PID=""
cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }

# ---- data -----------------------------------------------------------------------
if [ ! -f "$DATA/amparo.db" ]; then
    "$BIN" init --data "$DATA" --country EC >/dev/null
fi
have=$(sqlite3 "$DATA/amparo.db" "SELECT count(*) FROM cases")
seed=1
while [ "$have" -lt "$CASES" ]; do
    n=$((CASES - have < CHUNK ? CASES - have : CHUNK))
    say "loading $n demo cases ($have present)"
    "$BIN" demo --data "$DATA" --cases "$n" --seed $((2026 + seed)) | tail -1 >&2
    have=$(sqlite3 "$DATA/amparo.db" "SELECT count(*) FROM cases")
    seed=$((seed + 1))
    [ "$have" -lt "$CASES" ] && sleep "$PAUSE"
done
if ! sqlite3 "$DATA/amparo.db" "SELECT 1 FROM users WHERE username = 'bench-analyst'" | grep -q 1; then
    printf 'bench-analyst-password\n' | "$BIN" user add --data "$DATA" --username bench-analyst \
        --org ec-fundacion-alas --roles analyst >/dev/null
fi

# ---- the server -----------------------------------------------------------------------
PORT=$((20000 + RANDOM % 20000))
"$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -sf -X POST "$BASE/api/v1/login" -H 'Content-Type: application/json' \
    -d '{"username":"bench-analyst","password":"bench-analyst-password"}' | jq -r .token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || die "cannot sign in"
AUTH="Authorization: Bearer $TOKEN"
get_ms() { curl -s -o "$WORK/out" -w '%{time_total}' -H "$AUTH" "$BASE$1" | awk '{printf "%.1f", $1 * 1000}'; }

say "first crosstab (builds the column cache from $have cases)"
COLD_MS=$(get_ms "/api/v1/reports/crosstab?dims=year,gender")
jq -e '.disclosure.applied' "$WORK/out" >/dev/null || die "no disclosure control in the answer"
echo "  cold: $COLD_MS ms" >&2

QUERIES=("dims=year,gender" "dims=citizenship,exploitation" "dims=age_group,country_of_exploitation"
         "dims=quarter,border&from=2024-01-01&to=2024-12-31")
: >"$WORK/crosstab.tsv"
for q in "${QUERIES[@]}"; do
    : >"$WORK/t"
    for _ in $(seq 1 "$RUNS"); do get_ms "/api/v1/reports/crosstab?$q" >>"$WORK/t"; echo >>"$WORK/t"; done
    sup=$(jq '.disclosure.suppressed_primary + .disclosure.suppressed_secondary' "$WORK/out")
    cells=$(jq '.cells | length' "$WORK/out")
    sort -n "$WORK/t" | awk -v q="$q" -v s="$sup" -v c="$cells" '{a[NR]=$1} END {
        printf "%s\t%.1f\t%.1f\t%.1f\t%d\t%d\n", q, a[int((NR+1)/2)], a[int(NR*0.95+0.5)], a[NR], c, s}' \
        >>"$WORK/crosstab.tsv"
done
column -t -s $'\t' "$WORK/crosstab.tsv" >&2

say "the same GROUP BY with the sqlite3 command line"
SQL="SELECT substr(registered_on, 1, 4), json_extract(doc, '\$.prs_Gender'), count(*) FROM cases GROUP BY 1, 2;"
t0=$(now_ms)
sqlite3 "$DATA/amparo.db" "$SQL" >"$WORK/sqlite.out"
SQLITE_MS=$(($(now_ms) - t0))
YG_MS=$(head -1 "$WORK/crosstab.tsv" | cut -f2)
RATIO=$(awk -v a="$SQLITE_MS" -v b="$YG_MS" 'BEGIN {printf "%.0f", (b > 0) ? a / b : 0}')
echo "  sqlite3: $SQLITE_MS ms; amparo (warm, median): $YG_MS ms; ratio ${RATIO}x" >&2
# the two agree on the grand total
SQL_TOTAL=$(awk -F'|' '{s += $3} END {print s}' "$WORK/sqlite.out")
echo "  sqlite3 counts $SQL_TOTAL cases" >&2
# the same figures: every (year, gender) count of the CLI (an internal file, no
# disclosure control: publish=false) equals sqlite3's; the file's notes are "# " lines
"$BIN" report crosstab --data "$DATA" dims=year,gender publish=false --format csv 2>/dev/null |
    tr -d '\r' |
    awk -F, 'NR > 1 && !/^#/ && $1 != "Total" && $2 != "Total" {print $1 "|" $2 "|" $3}' |
    sort >"$WORK/ours"
sort "$WORK/sqlite.out" >"$WORK/theirs"
if cmp -s "$WORK/ours" "$WORK/theirs"; then AGREE=yes; else AGREE=NO; fi
echo "  amparo and sqlite3 agree on every cell: $AGREE" >&2

say "CTDC export, k = 11"
t0=$(now_ms)
curl -s -H "$AUTH" -o "$WORK/ctdc-http.csv" "$BASE/api/v1/exports/ctdc"
CTDC_HTTP_MS=$(($(now_ms) - t0))
CTDC_ROWS=$(($(wc -l <"$WORK/ctdc-http.csv") - 1))
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
t0=$(now_ms)
"$BIN" export ctdc --data "$DATA" --out "$WORK/ctdc.csv" --summary "$WORK/ctdc-summary.json"
CTDC_CLI_MS=$(($(now_ms) - t0))
echo "  HTTP (warm cache): $CTDC_HTTP_MS ms, $CTDC_ROWS rows; CLI (new process): $CTDC_CLI_MS ms" >&2
jq -c '{generalised, rows_locally_suppressed, rows_dropped, smallest_class}' "$WORK/ctdc-summary.json" >&2

say "HTCDS CSV import of $IMPORT rows"
"$BIN" init --data "$WORK/src" --country EC >/dev/null
"$BIN" demo --data "$WORK/src" --cases "$IMPORT" --seed 99 >/dev/null
"$BIN" export htcds --data "$WORK/src" --with-identity --out "$WORK/import.csv" 2>/dev/null
"$BIN" init --data "$WORK/dst" --country EC >/dev/null
"$BIN" demo --data "$WORK/dst" --cases 1 --seed 99 >/dev/null # the organisations
sync
DRY=$("$BIN" import htcds --data "$WORK/dst" --dry-run "$WORK/import.csv" | tail -1)
sync
# the rate is until the import reports its success; the checkpoint that copies
# the WAL into the database then finishes on its own thread, before the process
# ends: both times are shown
t0=$(now_ms)
REAL=$("$BIN" import htcds --data "$WORK/dst" "$WORK/import.csv" | tail -1)
REAL_PROCESS_MS=$(($(now_ms) - t0))
echo "  $DRY" >&2
echo "  $REAL (process: $REAL_PROCESS_MS ms)" >&2
DRY_RATE=$(sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p' <<<"$DRY")
REAL_RATE=$(sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p' <<<"$REAL")
REAL_SECS=$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' <<<"$REAL")

# ---- results ---------------------------------------------------------------------------
{
    echo "# Statistics benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $have cases, $(nproc) CPUs)"
    echo
    echo "| crosstab (analyst, suppression on) | median ms | p95 ms | max ms | cells | withheld |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' '{printf "| `%s` | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6}' "$WORK/crosstab.tsv"
    echo
    echo "- first crosstab (column cache built from the database): $COLD_MS ms"
    echo "- sqlite3 CLI, same GROUP BY (year x gender): $SQLITE_MS ms -> amparo is ${RATIO}x faster;" \
         "every cell agrees: $AGREE"
    echo "- CTDC export (k = 11): HTTP with a warm cache $CTDC_HTTP_MS ms ($CTDC_ROWS rows);" \
         "\`amparo export ctdc\` in a new process $CTDC_CLI_MS ms"
    echo "- HTCDS CSV import of $IMPORT rows: dry run $DRY_RATE rows/s, real import $REAL_RATE rows/s" \
         "($REAL_SECS s until reported; the process, checkpoint included, $REAL_PROCESS_MS ms)"
} >"$RESULTS/reports-latest.md"
cat "$RESULTS/reports-latest.md"
