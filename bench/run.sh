#!/usr/bin/env bash
# bench/run.sh — the performance benchmark of the issue (see bench/README.md).
#
# Loads BENCH_CASES demo cases into a temporary data directory, measures
# `amparo serve` start-up, random case reads and durable case creations with wrk
# (-t2 -c64) on loopback, signed in as a caseworker (authentication, authorisation,
# decryption and the audit trail all on), the same reads on a build with them off
# (make EXTRA_CFLAGS=-DAMPARO_BENCH_UNPROTECTED, never shipped) for the cost of
# protection, the server's memory, and nginx serving the same JSON bytes as a
# static file.  Prints a summary and writes bench/results/latest.md and
# bench/results/latest.json.  Everything runs on 127.0.0.1; every process started
# here is stopped on exit (trap), and the temporary directory is removed.
#
# Environment (all optional):
#   BENCH_CASES=100000   demo cases to load
#   BENCH_SECONDS=15     duration of each wrk run
#   BENCH_CONNS=64       wrk connections        BENCH_THREADS=2  wrk threads
#   BENCH_IDS=10000      case ids sampled for the read run
#   BENCH_STARTS=5       start-up measurements (the median is reported)
#   BENCH_BIN=build/amparo   binary to measure (default: built with make)
#   BENCH_DIR=/tmp       where the temporary data directory goes (its disk is the
#                        one that fsyncs)
#   BENCH_PERF=0         1: after the measured runs, profile the server with
#                        `perf record -g` during an extra read and create run and
#                        write bench/results/perf-{reads,creates}.txt
#   BENCH_QUIET_WAIT=120 before each wrk run, wait up to this many seconds for the
#                        machine to be idle (< 20 % busy over 1 s): other work on
#                        the same 2 CPUs (tests, fuzzers) distorts the figures
#   BENCH_KEEP=0         1: keep the temporary directory
set -euo pipefail
shopt -s inherit_errexit 2>/dev/null || true

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
CASES=${BENCH_CASES:-100000}
SECS=${BENCH_SECONDS:-15}
CONNS=${BENCH_CONNS:-64}
WTHREADS=${BENCH_THREADS:-2}
NIDS=${BENCH_IDS:-10000}
NSTARTS=${BENCH_STARTS:-5}
BIN=${BENCH_BIN:-build/amparo}
PERF=${BENCH_PERF:-0}
RESULTS=$ROOT/bench/results
LUA=$ROOT/bench/wrk.lua

# ---- targets (from the issue) -----------------------------------------------
T_READS=20000 T_CREATES=5000 T_P99_MS=20 T_RSS_MB=50 T_START_MS=200
T_PROTECTED_RATIO=0.70 # issue 3: protected reads keep >= 70 % of unprotected throughput
BENCH_ORG=ec-fundacion-alas BENCH_USER=bench BENCH_PW=bench-password-2026
AUTH="" ADMIN_AUTH=""

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---- 1. dependencies and the binary -----------------------------------------
say "dependencies"
tools/install-deps.sh nginx-light wrk jq
for t in wrk nginx jq curl timeout; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || die "$t is not installed"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -z "${BENCH_BIN:-}" ]; then
    say "make build/amparo"
    make --no-print-directory build/amparo >/dev/null
fi
[ -x "$BIN" ] || die "no binary at $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
say "make build-unprotected/amparo (authentication, authorisation and read audit off)"
make --no-print-directory BUILD=build-unprotected EXTRA_CFLAGS=-DAMPARO_BENCH_UNPROTECTED \
    build-unprotected/amparo >/dev/null
BIN_OPEN=$ROOT/build-unprotected/amparo

# ---- temporary directory and cleanup ------------------------------------------
WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/amparo-bench.XXXXXX")
DATA=$WORK/data
SERVER_PID="" NGINX_PID="" AUX_PID="" CHILD_PID=""

stop_pid() { # pid [signal] — TERM, wait up to 10 s, then KILL
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$CHILD_PID"
    stop_pid "$AUX_PID" INT
    stop_pid "$SERVER_PID"
    stop_pid "$NGINX_PID" QUIT
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_bg OUTFILE CMD... — runs CMD with output to OUTFILE in the background and
# waits for it: a signal to this script then interrupts `wait` at once and the
# cleanup trap stops CMD (a foreground command would delay the trap until it ends).
run_bg() {
    local out=$1 rc=0
    shift
    "$@" >"$out" 2>&1 &
    CHILD_PID=$!
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}
# Sets CHILDREN_CPU to the CPU seconds (user + system) of this script's
# waited-for children so far (`times` must run in this shell, not in $(...)).
children_cpu() {
    times >"$WORK/times"
    CHILDREN_CPU=$(awk 'NR == 2 {t = 0; for (i = 1; i <= 2; i++) {split($i, a, "m"); t += a[1] * 60 + a[2]}
                                printf "%.2f", t}' "$WORK/times")
}

# A loopback port nobody listens on (other engineers run servers on this machine).
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port"
}

# GET /healthz without forking: prints the body on 200, fails otherwise
# (connection refused fails at once, so this is also the readiness probe).
healthz() {
    local port=$1 line body=""
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 || {
        exec 3<&-
        return 1
    }
    IFS= read -r -t 2 line <&3 || {
        exec 3<&-
        return 1
    }
    case $line in "HTTP/1.1 200"*) ;; *)
        exec 3<&-
        return 1
        ;;
    esac
    while IFS= read -r -t 2 line <&3 && [ "${line%$'\r'}" != "" ]; do :; done
    IFS= read -r -t 2 body <&3 || true
    exec 3<&-
    printf '%s\n' "$body"
}
# The number of cases, from GET /api/v1/status as the system admin (/healthz
# shows no counts); ADMIN_AUTH is set once the server runs.
case_count() { curl -sf --max-time 30 -H "$ADMIN_AUTH" "http://127.0.0.1:$1/api/v1/status" | jq -r .cases; }

now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000)) | awk '{printf "%.1f", $1 / 1000}'; }

start_server() { # port logfile [binary] — sets SERVER_PID, waits for /healthz (10 s max)
    local port=$1 log=$2 i
    "${3:-$BIN}" serve --data "$DATA" --listen "127.0.0.1:$port" 2>"$log" &
    SERVER_PID=$!
    for ((i = 0; i < 5000; i++)); do
        healthz "$port" >/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || die "amparo serve exited: $(cat "$log")"
        sleep 0.002
    done
    die "amparo serve not ready after 10 s: $(cat "$log")"
}

# Resident memory of a process in MB (10^6 bytes): "VmRSS VmHWM"
mem_of() {
    awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {printf "%.1f %.1f", r * 1.024 / 1000, h * 1.024 / 1000}' \
        "/proc/$1/status"
}
# Jiffies of all CPUs: "busy total" (to tell how saturated the machine was)
cpu_stat() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
busy_pct() { # "busy total" before, after -> % of all CPUs busy in between
    awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " ");
        printf "%.0f", (y[2] > x[2]) ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0}'
}
# CPU seconds (user+system) used so far by a process and its threads
cpu_of() {
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"
}

# CPU seconds of the server's store writer thread (named amparo-writer; the
# HTTP threads are amparo-http, the completion thread amparo-done).
writer_cpu_of() {
    local pid=$1 t total=0 c
    for t in /proc/"$pid"/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = amparo-writer ] || continue
        c=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "$t/stat" 2>/dev/null || echo 0)
        total=$(awk -v a="$total" -v b="$c" 'BEGIN {print a + b}')
    done
    echo "$total"
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Waits (BENCH_QUIET_WAIT s at most) until the CPUs are < 20 % busy over 1 s.
wait_quiet() {
    local deadline=$((SECONDS + ${BENCH_QUIET_WAIT:-120})) a b pct
    while :; do
        a=$(cpu_stat)
        sleep 1
        b=$(cpu_stat)
        pct=$(busy_pct "$a" "$b")
        [ "$pct" -lt 20 ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "bench: the machine is still $pct % busy with other work; measuring anyway" >&2
            return 0
        fi
        echo "bench: machine $pct % busy with other work, waiting" >&2
        sleep 4
    done
}

# run_wrk NAME URL MODE ARGS... — runs wrk, keeps its text output in
# $WORK/NAME.txt and sets RUN_JSON to the BENCHJSON object merged with wrk's CPU
# time and its own text figures (Requests/sec, --latency percentiles) as a cross-check.
run_wrk() {
    local name=$1 url=$2 c0 j txt_rps txt_p50 txt_p99 wrk_cpu
    shift 2
    children_cpu
    c0=$CHILDREN_CPU
    run_bg "$WORK/$name.txt" timeout $((SECS + 60)) wrk -t"$WTHREADS" -c"$CONNS" -d"${SECS}s" \
        --timeout 5s --latency -H "$AUTH" -s "$LUA" "$url" -- "$@" ||
        die "wrk failed: $(cat "$WORK/$name.txt")"
    children_cpu
    wrk_cpu=$(awk -v a="$c0" -v b="$CHILDREN_CPU" 'BEGIN {printf "%.2f", b - a}')
    j=$(sed -n 's/^BENCHJSON //p' "$WORK/$name.txt")
    [ -n "$j" ] || die "no summary from wrk: $(cat "$WORK/$name.txt")"
    txt_rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$name.txt")
    txt_p50=$(awk '$1 == "50%" {print $2}' "$WORK/$name.txt")
    txt_p99=$(awk '$1 == "99%" {print $2}' "$WORK/$name.txt")
    RUN_JSON=$(jq -c --arg r "$txt_rps" --arg a "$txt_p50" --arg b "$txt_p99" --argjson w "$wrk_cpu" \
        '. + {wrk_cpu_s: $w, wrk_text: {rps: $r, p50: $a, p99: $b}}' <<<"$j")
}

# Which source was measured (the tree changes while people work; no git here).
SRC_SHA=$(find src -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
BIN_TIME=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)
MACHINE_CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
MACHINE_NPROC=$(nproc)
MACHINE_MEM=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
DISK=$(df -P "$WORK" | awk 'NR == 2 {print $1}')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
say "machine: $MACHINE_NPROC x $MACHINE_CPU, $MACHINE_MEM; data on $DISK; load $LOAD_BEFORE"

# ---- 2. data ------------------------------------------------------------------
say "init + demo ($CASES cases) in $DATA"
AMPARO_ADMIN_PASSWORD=bench-admin-2026 "$BIN" init --data "$DATA" --country EC >/dev/null
t0=$(now_ns)
run_bg "$WORK/demo.out" timeout 3600 "$BIN" demo --data "$DATA" --cases "$CASES" ||
    die "demo failed: $(cat "$WORK/demo.out")"
demo_out=$(cat "$WORK/demo.out")
DEMO_S=$(awk -v ns=$(($(now_ns) - t0)) 'BEGIN {printf "%.2f", ns / 1e9}')
DEMO_RATE=$(awk -v n="$CASES" -v s="$DEMO_S" 'BEGIN {printf "%.0f", (s > 0) ? n / s : 0}')
DB_MB=$(du -sm "$DATA" | cut -f1)
printf '%s\n' "$BENCH_PW" | "$BIN" user add --data "$DATA" --username "$BENCH_USER" \
    --org "$BENCH_ORG" --roles caseworker >/dev/null || die "cannot create the bench user"
echo "$demo_out" >&2
say "demo: $CASES cases in $DEMO_S s ($DEMO_RATE cases/s, wall clock incl. process start); data dir $DB_MB MiB"

# ---- 3. start-up --------------------------------------------------------------
say "start-up x $NSTARTS"
PORT=$(free_port)
: >"$WORK/startups"
for ((k = 1; k <= NSTARTS; k++)); do
    t0=$(now_ns)
    start_server "$PORT" "$WORK/serve-$k.log"
    polled=$(ms_since "$t0")
    reported=$(sed -n 's/.*ready in \([0-9.]*\) ms.*/\1/p' "$WORK/serve-$k.log")
    stop_pid "$SERVER_PID"
    SERVER_PID=""
    echo "$polled ${reported:-nan}" >>"$WORK/startups"
    echo "  run $k: /healthz answered after $polled ms; server says ready in ${reported:-?} ms" >&2
done
START_POLL_MS=$(cut -d' ' -f1 "$WORK/startups" | median)
START_SELF_MS=$(cut -d' ' -f2 "$WORK/startups" | median)

# ---- the server for the load runs ------------------------------------------
PORT=$(free_port)
start_server "$PORT" "$WORK/serve.log"
BASE=http://127.0.0.1:$PORT
read -r RSS_IDLE _ <<<"$(mem_of "$SERVER_PID")"
ADMIN_TOKEN=$(curl -sf --max-time 30 -X POST "$BASE/api/v1/login" -H 'Content-Type: application/json' \
    -d '{"username":"admin","password":"bench-admin-2026"}' | jq -r .token) ||
    die "cannot sign in as admin"
ADMIN_AUTH="Authorization: Bearer $ADMIN_TOKEN"
TOTAL=$(case_count "$PORT")
[ "$TOTAL" -ge "$CASES" ] || die "/api/v1/status counts $TOTAL cases, expected $CASES"
TOKEN=$(curl -sf --max-time 30 -X POST "$BASE/api/v1/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$BENCH_USER\",\"password\":\"$BENCH_PW\"}" | jq -r .token) ||
    die "cannot sign in as $BENCH_USER"
AUTH="Authorization: Bearer $TOKEN"
# the cases the bench user may read: those of its organisation
TOTAL=$(curl -sf --max-time 30 -H "$AUTH" "$BASE/api/v1/cases?limit=1" | jq -r .total)
say "$BENCH_USER ($BENCH_ORG, caseworker) sees $TOTAL cases"

# ---- 4. case ids ----------------------------------------------------------------
say "collecting ~$NIDS case ids through the API"
pages=$(((NIDS + 499) / 500))
step=$((TOTAL / pages))
[ "$step" -ge 500 ] || step=500
: >"$WORK/ids"
for ((k = 0; k < pages; k++)); do
    curl -sf --max-time 30 -H "$AUTH" "$BASE/api/v1/cases?limit=500&offset=$((k * step))&sort=created" |
        jq -r '.items[].id' >>"$WORK/ids" || die "listing cases failed"
done
sort -u -o "$WORK/ids" "$WORK/ids"
NIDS_GOT=$(wc -l <"$WORK/ids")
[ "$NIDS_GOT" -gt 0 ] || die "no case ids"
say "$NIDS_GOT ids"

# One case as the API returns it: checked here, served by nginx in step 8.
SAMPLE_ID=$(sed -n "$((NIDS_GOT / 2 + 1))p" "$WORK/ids")
mkdir -p "$WORK/www"
SAMPLE_STATUS=$(curl -s --max-time 10 -H "$AUTH" -o "$WORK/www/case.json" -w '%{http_code}' "$BASE/api/v1/cases/$SAMPLE_ID")
SAMPLE_BYTES=$(wc -c <"$WORK/www/case.json")
READS_VALID=true
if [ "$SAMPLE_STATUS" != 200 ]; then
    READS_VALID=false
    printf '\033[1;31mbench: GET /api/v1/cases/%s answered %s: %s\033[0m\n' "$SAMPLE_ID" \
        "$SAMPLE_STATUS" "$(head -c 300 "$WORK/www/case.json")" >&2
    echo "bench: the read figures below measure error answers, not case reads" >&2
fi

# measure NAME CPUFN URL MODE ARGS... — one measured wrk run.  CPUFN prints the
# CPU seconds used so far by the server under test.  If other work took more than
# BENCH_MAX_OTHER (default 15) % of the machine's CPU during the run, the run is
# "disturbed" and done once more (the second result is kept either way).  Sets
# M_JSON (wrk's summary plus the CPU accounting below) and, for creates, M_GREW
# (how much the case count of /api/v1/status grew during the run).
measure() {
    local name=$1 cpufn=$2 mode=$4 attempt j c0 st0 w0 before after cpu writer busy
    shift 2
    for attempt in 1 2; do
        wait_quiet
        [ "$mode" = create ] && before=$(case_count "$PORT")
        c0=$($cpufn) st0=$(cpu_stat) w0=0
        [ "$cpufn" = server_cpu ] && w0=$(writer_cpu_of "$SERVER_PID")
        run_wrk "$name" "$@"
        j=$RUN_JSON
        cpu=$(awk -v a="$c0" -v b="$($cpufn)" 'BEGIN {printf "%.2f", b - a}')
        busy=$(busy_pct "$st0" "$(cpu_stat)")
        writer=0
        [ "$cpufn" = server_cpu ] &&
            writer=$(awk -v a="$w0" -v b="$(writer_cpu_of "$SERVER_PID")" 'BEGIN {printf "%.2f", b - a}')
        if [ "$mode" = create ]; then
            sleep 1 # writes in flight when wrk stopped finish and are counted
            after=$(case_count "$PORT")
            M_GREW=$((after - before))
        fi
        M_JSON=$(jq -c --argjson cpu "$cpu" --argjson busy "$busy" --argjson writer "$writer" \
            --argjson nproc "$MACHINE_NPROC" --argjson attempt "$attempt" \
            --argjson max "${BENCH_MAX_OTHER:-15}" '
            (($busy / 100 * $nproc * .duration_s - $cpu - .wrk_cpu_s) * 100 | round / 100) as $o
            | . + {server_cpu_s: $cpu, machine_cpu_busy_pct: $busy, writer_thread_cpu_s: $writer,
                   other_cpu_s: (if $o < 0 then 0 else $o end), attempt: $attempt,
                   server_cpu_us_per_req: (if .requests > 0 then ($cpu * 1e7 / .requests | round / 10) else null end)}
            | . + {disturbed: (.other_cpu_s > $max / 100 * $nproc * .duration_s)}' <<<"$j")
        jq . <<<"$M_JSON" >&2
        [ "$(jq .disturbed <<<"$M_JSON")" = true ] || return 0
        [ "$attempt" = 2 ] || echo "bench: other processes took $(jq .other_cpu_s <<<"$M_JSON") CPU-s during the $name run; running it again" >&2
    done
    echo "bench: the $name run was disturbed twice by other work on this machine; keeping the second" >&2
}
server_cpu() { cpu_of "$SERVER_PID"; }

# ---- 5. reads -------------------------------------------------------------------
say "reads: wrk -t$WTHREADS -c$CONNS -d${SECS}s, random GET /api/v1/cases/{id}"
measure reads server_cpu "$BASE" read "$WORK/ids" /api/v1/cases/
READ_JSON=$M_JSON
read -r RSS_READ HWM_READ <<<"$(mem_of "$SERVER_PID")"
[ "$(jq .unexpected <<<"$READ_JSON")" = 0 ] || READS_VALID=false

# ---- 6. creates ---------------------------------------------------------------------
cat >"$WORK/create.json" <<'EOF'
{"prs_FirstName":"Ana","prs_SecondName":"Quispe","prs_Gender":"Feminine","prs_Birthdate":"1999-04-02","prs_Citizenship":["PE"],"vic_TraffickingStatus":"ActualVictimOfTrafficking","vic_TypeOfExploitation":["ForcedLabour"],"vic_ForcedLabourIndustry":"B_MiningAndQuarrying","events":[{"hte_Type":"Exploitation","hte_Country":"PE","hte_City":"Puerto Maldonado","hte_Date":"2024-05-01"}]}
EOF
say "creates: wrk -t$WTHREADS -c$CONNS -d${SECS}s, POST /api/v1/cases (durable: fsync before 201)"
measure creates server_cpu "$BASE" create "$WORK/create.json" /api/v1/cases
CREATE_JSON=$M_JSON
GREW=$M_GREW
read -r RSS_CREATE HWM_CREATE <<<"$(mem_of "$SERVER_PID")"
N201=$(jq '.statuses["201"] // 0' <<<"$CREATE_JSON")
# wrk stops with up to one request in flight per connection: the server still
# creates those cases but wrk never counts their 201.
if [ "$GREW" -ge "$N201" ] && [ $((GREW - N201)) -le "$CONNS" ]; then COUNT_OK=true; else COUNT_OK=false; fi
say "case count grew by $GREW; wrk saw $N201 answers 201 (at most $CONNS may be in flight at the stop)"

# ---- optional profile (not part of the measured figures) -------------------------
if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
    mkdir -p "$RESULTS"
    for what in reads creates; do
        say "perf record on the server during an extra $what run"
        # DWARF unwinding: libjansson and libsqlite3 have no frame pointers, so
        # with plain -g their callers (our functions) would not be credited.
        perf record --call-graph dwarf -F 299 -p "$SERVER_PID" -o "$WORK/perf-$what.data" \
            2>"$WORK/perf-$what.log" &
        AUX_PID=$!
        sleep 0.5
        if [ $what = reads ]; then
            run_wrk "perf-$what" "$BASE" read "$WORK/ids" /api/v1/cases/
        else
            run_wrk "perf-$what" "$BASE" create "$WORK/create.json" /api/v1/cases
        fi
        stop_pid "$AUX_PID" INT
        AUX_PID=""
        pr() { perf report -i "$WORK/perf-$what.data" --stdio "$@" 2>/dev/null | grep '%' | grep -v '0x0000' || true; }
        {
            echo "# perf record --call-graph dwarf -F 299 -p <amparo serve> during an extra run"
            echo "# (not the measured one; profiling slows the server): wrk -t$WTHREADS -c$CONNS -d${SECS}s ($what)"
            echo "# that run: $(jq -c '{rps, latency_us: {p50: .latency_us.p50, p99: .latency_us.p99}}' <<<"$RUN_JSON")"
            echo "# source: $SRC_SHA, binary built $BIN_TIME"
            echo; echo "## samples by thread (amparo-writer = the store writer; amparo-done = its completion thread; amparo-http = HTTP threads)"
            pr --no-children --sort comm -g none
            echo; echo "## samples by library"
            pr --no-children --sort dso -g none
            echo; echo "## inclusive (self + callees) by function, >= 2 %"
            pr --children --sort symbol -g none --percent-limit 2
            echo; echo "## self time by function, >= 0.7 %"
            pr --no-children --sort dso,symbol -g none --percent-limit 0.7
        } >"$RESULTS/perf-$what.txt"
        say "wrote bench/results/perf-$what.txt"
    done
fi

SERVER_ERRORS=$(grep -c ' error ' "$WORK/serve.log" || true)
[ "$SERVER_ERRORS" = 0 ] || { echo "bench: the server logged errors:" >&2; grep ' error ' "$WORK/serve.log" | head -5 >&2; }
SERVE_THREADS=$(find "/proc/$SERVER_PID/task" -mindepth 1 -maxdepth 1 | wc -l)
stop_pid "$SERVER_PID"
SERVER_PID=""

# ---- 7b. the same reads with protection off (the cost of issue 3) -------------------
say "reads again on build-unprotected/amparo: no authentication, authorisation or read audit"
PORT=$(free_port)
start_server "$PORT" "$WORK/serve-open.log" "$BIN_OPEN"
measure reads-unprotected server_cpu "http://127.0.0.1:$PORT" read "$WORK/ids" /api/v1/cases/
OPEN_JSON=$M_JSON
stop_pid "$SERVER_PID"
SERVER_PID=""
# and the protected reads once more, so the ratio is not one run against another
PORT=$(free_port)
start_server "$PORT" "$WORK/serve-2.log"
measure reads-protected-again server_cpu "http://127.0.0.1:$PORT" read "$WORK/ids" /api/v1/cases/
READ2_JSON=$M_JSON
stop_pid "$SERVER_PID"
SERVER_PID=""

# ---- 8. nginx, same bytes, same wrk ------------------------------------------------
say "nginx: the same $SAMPLE_BYTES bytes as a static file, worker_processes 2"
NPORT=$(free_port)
mkdir -p "$WORK/nginx"
ngx_user=""
[ "$(id -u)" = 0 ] && ngx_user="user root;"
cat >"$WORK/nginx/nginx.conf" <<EOF
$ngx_user
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    types { application/json json; }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $WORK/www;
        location / { }
    }
}
EOF
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx/stderr" &
NGINX_PID=$!
for ((i = 0; i < 2500; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$NPORT/case.json" || true)
    [ "$code" = 200 ] && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$WORK/nginx/stderr" "$WORK/nginx/error.log" 2>/dev/null)"
    sleep 0.004
done
[ "$code" = 200 ] || die "nginx not ready"
cmp -s <(curl -s "http://127.0.0.1:$NPORT/case.json") "$WORK/www/case.json" || die "nginx serves other bytes"
ncpu() { # CPU seconds of nginx master + workers
    local t=0 p
    for p in $NGINX_PID $(pgrep -P "$NGINX_PID" || true); do
        t=$(awk -v t="$t" -v c="$(cpu_of "$p")" 'BEGIN {print t + c}')
    done
    echo "$t"
}
measure nginx ncpu "http://127.0.0.1:$NPORT" static /case.json
NGINX_JSON=$M_JSON
stop_pid "$NGINX_PID" QUIT
NGINX_PID=""

# ---- 9. summary ----------------------------------------------------------------------
mkdir -p "$RESULTS"
jq -n \
    --arg date "$DATE" --arg cpu "$MACHINE_CPU" --argjson nproc "$MACHINE_NPROC" \
    --arg mem "$MACHINE_MEM" --arg disk "$DISK" --arg load "$LOAD_BEFORE" \
    --arg bin "$BIN" --arg bin_time "$BIN_TIME" --arg src_sha "$SRC_SHA" --argjson cases "$CASES" --argjson secs "$SECS" \
    --argjson conns "$CONNS" --argjson wthreads "$WTHREADS" \
    --argjson demo_s "$DEMO_S" --argjson demo_rate "$DEMO_RATE" --argjson db_mb "$DB_MB" \
    --argjson start_poll "$START_POLL_MS" --argjson start_self "$START_SELF_MS" \
    --rawfile startups "$WORK/startups" \
    --argjson nids "$NIDS_GOT" --argjson sample_bytes "$SAMPLE_BYTES" \
    --argjson sample_status "$SAMPLE_STATUS" --argjson reads_valid "$READS_VALID" \
    --argjson reads "$READ_JSON" --argjson creates "$CREATE_JSON" \
    --argjson grew "$GREW" --argjson count_ok "$COUNT_OK" \
    --argjson nginx "$NGINX_JSON" \
    --argjson open "$OPEN_JSON" --argjson reads2 "$READ2_JSON" --argjson t_ratio "$T_PROTECTED_RATIO" \
    --argjson rss_idle "$RSS_IDLE" --argjson rss_read "$RSS_READ" --argjson hwm_read "$HWM_READ" \
    --argjson rss_create "$RSS_CREATE" --argjson hwm_create "$HWM_CREATE" \
    --argjson serve_threads "$SERVE_THREADS" --argjson server_errors "$SERVER_ERRORS" \
    --argjson t_reads "$T_READS" --argjson t_creates "$T_CREATES" --argjson t_p99 "$T_P99_MS" \
    --argjson t_rss "$T_RSS_MB" --argjson t_start "$T_START_MS" '
    {
      date: $date,
      machine: {nproc: $nproc, cpu: $cpu, memory: $mem, data_disk: $disk, loadavg_before: $load,
                note: "wrk, amparo and nginx share the same CPUs"},
      config: {binary: $bin, binary_built: $bin_time, src_sha256_16: $src_sha, cases: $cases, seconds: $secs, connections: $conns,
               wrk_threads: $wthreads, read_ids: $nids, server_os_threads: $serve_threads},
      server_errors_logged: $server_errors,
      demo: {seconds: $demo_s, cases_per_s: $demo_rate, data_dir_mib: $db_mb},
      startup: {median_ms_until_healthz: $start_poll, median_ms_self_reported: $start_self,
                runs: ($startups | split("\n") | map(select(length > 0) | split(" ")
                       | {healthz_ms: (.[0] | tonumber), self_ms: (.[1] | tonumber? // null)}))},
      reads: ($reads + {valid: $reads_valid, sample_status: $sample_status}),
      creates: ($creates + {case_count_grew_by: $grew, count_matches: $count_ok}),
      nginx: ($nginx + {file_bytes: $sample_bytes}),
      amparo_vs_nginx_reads: (if $nginx.rps > 0 then ((($reads.rps / $nginx.rps) * 1000 | round) / 1000) else null end),
      reads_unprotected: $open,
      reads_protected_again: $reads2,
      protected_vs_unprotected_reads: (if $open.rps > 0 then (((($reads.rps + $reads2.rps) / 2 / $open.rps) * 1000 | round) / 1000) else null end),
      memory_mb: {idle_rss: $rss_idle, after_reads_rss: $rss_read, after_reads_hwm: $hwm_read,
                   after_creates_rss: $rss_create, after_creates_hwm: $hwm_create},
      targets: {
        reads_per_s:   {target: $t_reads,   value: $reads.rps,   met: ($reads_valid and $reads.rps >= $t_reads)},
        creates_per_s: {target: $t_creates, value: $creates.rps, met: ($creates.unexpected == 0 and $count_ok and $creates.rps >= $t_creates)},
        read_p99_ms:   {target: $t_p99, value: ($reads.latency_us.p99 / 1000),   met: ($reads_valid and $reads.latency_us.p99 < $t_p99 * 1000)},
        create_p99_ms: {target: $t_p99, value: ($creates.latency_us.p99 / 1000), met: ($creates.latency_us.p99 < $t_p99 * 1000)},
        rss_mb:        {target: $t_rss, value: ([$hwm_read, $hwm_create] | max), met: (([$hwm_read, $hwm_create] | max) < $t_rss)},
        startup_ms:    {target: $t_start, value: $start_poll, met: ($start_poll < $t_start)},
        creates_all_201: {target: 0, value: $creates.unexpected, met: ($creates.unexpected == 0 and $count_ok)},
        protected_read_ratio: {target: $t_ratio,
          value: (if $open.rps > 0 then (($reads.rps + $reads2.rps) / 2 / $open.rps) else 0 end),
          met: ($open.rps > 0 and (($reads.rps + $reads2.rps) / 2 / $open.rps) >= $t_ratio)}
      }
    }' >"$RESULTS/latest.json"

jq -r '
  def ms(us): ((us / 10 | round) / 100 | tostring) + " ms";
  def yn(b): if b then "**met**" else "**NOT met**" end;
  def n0(x): (x | round | tostring);
  . as $r |
  "# Amparo benchmark — \($r.date)",
  "",
  "Machine: \($r.machine.nproc) × \($r.machine.cpu), \($r.machine.memory); data on \($r.machine.data_disk); load average before the run \($r.machine.loadavg_before). wrk, the server and nginx share these CPUs.",
  "Binary: \($r.config.binary), built \($r.config.binary_built) from source fingerprint \($r.config.src_sha256_16) (sha256 of src/**/*.[ch], first 16 hex).",
  "Run: \($r.config.cases) demo cases, wrk -t\($r.config.wrk_threads) -c\($r.config.connections) -d\($r.config.seconds)s on 127.0.0.1, \($r.config.read_ids) case ids for random reads, server default `--threads` (one worker per CPU; \($r.config.server_os_threads) OS threads in all).",
  (if $r.reads.valid then empty else "",
   "> **The read run is not valid:** `GET /api/v1/cases/{id}` answered \($r.reads.sample_status) (\($r.reads.unexpected) unexpected answers in the run); the read figures measure error answers." end),
  "",
  "| measure | Amparo | nginx (same bytes, static) | target | |",
  "|---|---|---|---|---|",
  "| case reads/s | \(n0($r.reads.rps)) | \(n0($r.nginx.rps)) | ≥ \($r.targets.reads_per_s.target) | \(yn($r.targets.reads_per_s.met)) |",
  "| read p50 / p99 | \(ms($r.reads.latency_us.p50)) / \(ms($r.reads.latency_us.p99)) | \(ms($r.nginx.latency_us.p50)) / \(ms($r.nginx.latency_us.p99)) | p99 < \($r.targets.read_p99_ms.target) ms | \(yn($r.targets.read_p99_ms.met)) |",
  "| Amparo / nginx (reads/s) | \($r.amparo_vs_nginx_reads) | 1 | | |",
  "| reads/s with protection off (unprotected bench build) | \(n0($r.reads_unprotected.rps)) | | | |",
  "| protected reads/s, second run | \(n0($r.reads_protected_again.rps)) | | | |",
  "| protected / unprotected reads (mean of both protected runs) | \($r.protected_vs_unprotected_reads) | | ≥ \($r.targets.protected_read_ratio.target) | \(yn($r.targets.protected_read_ratio.met)) |",
  "| server CPU per read (machine busy) | \($r.reads.server_cpu_us_per_req) µs (\($r.reads.machine_cpu_busy_pct) %) | \($r.nginx.server_cpu_us_per_req) µs (\($r.nginx.machine_cpu_busy_pct) %) | | |",
  "| durable creations/s | \(n0($r.creates.rps)) | | ≥ \($r.targets.creates_per_s.target) | \(yn($r.targets.creates_per_s.met)) |",
  "| create p50 / p99 | \(ms($r.creates.latency_us.p50)) / \(ms($r.creates.latency_us.p99)) | | p99 < \($r.targets.create_p99_ms.target) ms | \(yn($r.targets.create_p99_ms.met)) |",
  "| creates not answered 201 | \($r.creates.unexpected) (cases grew by \($r.creates.case_count_grew_by), wrk saw \($r.creates.statuses["201"] // 0) × 201) | | 0 | \(yn($r.targets.creates_all_201.met)) |",
  "| server CPU per create (machine busy) | \($r.creates.server_cpu_us_per_req) µs (\($r.creates.machine_cpu_busy_pct) %) | | | |",
  "| store writer thread busy on CPU during creates | \(($r.creates.writer_thread_cpu_s / $r.creates.duration_s * 100) | round) % of one CPU | | | |",
  "| server RSS idle / after reads / after creates | \($r.memory_mb.idle_rss) / \($r.memory_mb.after_reads_rss) / \($r.memory_mb.after_creates_rss) MB | | | |",
  "| server peak RSS (VmHWM) | \($r.targets.rss_mb.value) MB | | < \($r.targets.rss_mb.target) MB | \(yn($r.targets.rss_mb.met)) |",
  "| start-up until /healthz answers (median of \($r.startup.runs | length)) | \($r.startup.median_ms_until_healthz) ms (self-reported \($r.startup.median_ms_self_reported) ms) | | < \($r.targets.startup_ms.target) ms | \(yn($r.targets.startup_ms.met)) |",
  "| demo load | \($r.demo.cases_per_s) cases/s (\($r.config.cases) in \($r.demo.seconds) s; data dir \($r.demo.data_dir_mib) MiB) | | | |",
  "",
  "CPU seconds used during each \($r.config.seconds) s run (\($r.machine.nproc) CPUs = \($r.machine.nproc * $r.config.seconds) CPU-s available):",
  "",
  "| run | server | wrk | everything else (other processes, stray softirq) | whole machine busy | attempt |",
  "|---|---|---|---|---|---|",
  ([["Amparo reads", $r.reads], ["Amparo creates", $r.creates], ["Amparo reads, unprotected", $r.reads_unprotected], ["Amparo reads, protected again", $r.reads_protected_again], ["nginx static", $r.nginx]][]
   | "| \(.[0]) | \(.[1].server_cpu_s) | \(.[1].wrk_cpu_s) | \(.[1].other_cpu_s)\(if .[1].disturbed then " **(disturbed)**" else "" end) | \(.[1].machine_cpu_busy_pct) % | \(.[1].attempt) |"),
  "",
  "Case JSON served: \($r.nginx.file_bytes) bytes. Socket errors — reads: \($r.reads.errors | tostring), creates: \($r.creates.errors | tostring), nginx: \($r.nginx.errors | tostring)."
' "$RESULTS/latest.json" >"$RESULTS/latest.md"

echo
cat "$RESULTS/latest.md"
echo
echo "written: bench/results/latest.md, bench/results/latest.json"
