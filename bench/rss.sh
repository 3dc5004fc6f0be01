#!/usr/bin/env bash
# bench/rss.sh — a quick, repeatable measurement of `amparo serve`'s memory under
# the load of bench/run.sh (see bench/README.md, "Memory: bench/rss.sh").
#
#   bench/rss.sh [VARIANT ...]
#
# A VARIANT is a binary, optionally preceded by environment assignments, in one
# word: "build/amparo" or "MALLOC_ARENA_MAX=2 build/amparo".  Default: build/amparo
# (not rebuilt: run make first).  For each of RSS_ROUNDS rounds, every variant in
# turn (alternating, so a slower minute of this shared machine hits them all):
#   - a fresh copy of the data directory (the creates of a run do not grow the
#     next one's database);
#   - `amparo serve --data COPY --listen 127.0.0.1:PORT`, VmRSS/VmHWM when idle
#     (VmHWM here is start-up's peak: the dummy argon2id hash, see below);
#   - sign-in as the caseworker (one argon2id verification), VmHWM: the sign-in peak;
#   - the peak is reset (`echo 5 > /proc/PID/clear_refs`), so that what follows
#     measures the load alone, not the password hashing before it;
#   - wrk -t2 -c64 -dRSS_SECONDS random GET /api/v1/cases/{id} as a caseworker
#     (bench/wrk.lua), VmRSS/VmHWM;
#   - wrk -t2 -c64 -dRSS_SECONDS POST /api/v1/cases (durable), VmRSS/VmHWM;
#   - the server stopped.
# Why two peaks: argon2id at the "interactive" level (accounts.c, pwhash) works
# in 64 MiB (67 MB) that libsodium maps for one hash and unmaps at once.  The
# server hashes once at start (the dummy hash that gives unknown users the same
# timing) and once per sign-in, so VmHWM since start is always about 67 MB above
# the resident size at the moment of the hash.  bench/run.sh's "peak" is that.
#
# One line per run on stdout (MB of 10^6 bytes, like bench/run.sh): idle VmRSS,
# startH (VmHWM after start), loginH (VmHWM after the sign-in), then for the read
# and the create run: requests/s, the server's CPU µs per request, VmRSS after
# it and VmHWM since the reset (so the create run's hwm is the peak of both load
# runs); medians per variant at the end.
#
# The data directory (RSS_CASES demo cases, an admin and the caseworker `bench` of
# ec-fundacion-alas, as bench/run.sh makes them) is built once, with the first
# variant's binary, in RSS_DIR and kept for the next invocation; so are the case
# ids the reads use.  Remove RSS_DIR to rebuild it.
#
# Environment: RSS_DIR=/tmp/amparo-rss  RSS_CASES=100000  RSS_SECONDS=8
#              RSS_ROUNDS=1  RSS_CONNS=64  RSS_THREADS=2 (wrk)  RSS_IDS=10000
# Every process started here is stopped on exit (trap).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DIR=${RSS_DIR:-/tmp/amparo-rss}
CASES=${RSS_CASES:-100000}
SECS=${RSS_SECONDS:-8}
ROUNDS=${RSS_ROUNDS:-1}
CONNS=${RSS_CONNS:-64}
WTHREADS=${RSS_THREADS:-2}
NIDS=${RSS_IDS:-10000}
LUA=$ROOT/bench/wrk.lua
ORG=ec-fundacion-alas USER_NAME=bench USER_PW=bench-password-2026 ADMIN_PW=bench-admin-2026
[ $# -gt 0 ] || set -- build/amparo

die() { printf 'rss: %s\n' "$*" >&2; exit 1; }
for t in wrk jq curl; do command -v "$t" >/dev/null || die "$t is not installed"; done
for v in "$@"; do
    b=${v##* }
    [ -x "$b" ] || die "no binary at $b (variant '$v')"
done

SERVER_PID="" RUN_DATA=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [ -z "$RUN_DATA" ] || rm -rf "$RUN_DATA"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port"
}
# "VmRSS VmHWM" of a process in MB (10^6 bytes)
mem_of() {
    awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {printf "%.1f %.1f", r * 1.024 / 1000, h * 1.024 / 1000}' \
        "/proc/$1/status"
}
# start VARIANT DATA — starts the server, sets SERVER_PID and BASE
start() {
    local variant=$1 data=$2 port i
    local -a words
    read -r -a words <<<"$variant"
    port=$(free_port)
    env "${words[@]:0:${#words[@]}-1}" "${words[-1]}" serve --data "$data" \
        --listen "127.0.0.1:$port" 2>"$DIR/serve.log" &
    SERVER_PID=$!
    BASE=http://127.0.0.1:$port
    for ((i = 0; i < 1000; i++)); do
        curl -sf -o /dev/null --max-time 1 "$BASE/healthz" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || die "amparo serve exited: $(cat "$DIR/serve.log")"
        sleep 0.01
    done
    die "amparo serve not ready after 10 s"
}
stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
token() {
    curl -sf --max-time 30 -X POST "$BASE/api/v1/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" | jq -r .token
}
# CPU seconds (user + system) the server has used so far
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# wrk_run MODE ARGS... — prints "requests/s server-µs-per-request" (the second
# is steadier than the first on a shared machine); any unexpected answer is fatal
wrk_run() {
    local out j c0
    c0=$(cpu_of "$SERVER_PID")
    out=$(wrk -t"$WTHREADS" -c"$CONNS" -d"${SECS}s" --timeout 5s -H "Authorization: Bearer $TOKEN" \
        -s "$LUA" "$BASE" -- "$@") || die "wrk failed: $out"
    j=$(sed -n 's/^BENCHJSON //p' <<<"$out")
    [ -n "$j" ] || die "no summary from wrk: $out"
    [ "$(jq .unexpected <<<"$j")" = 0 ] || die "unexpected answers: $(jq -c .statuses <<<"$j")"
    jq -r --argjson cpu "$(awk -v a="$c0" -v b="$(cpu_of "$SERVER_PID")" 'BEGIN {print b - a}')" \
        '"\(.rps | round) \(if .requests > 0 then ($cpu * 1e6 / .requests | round) else 0 end)"' <<<"$j"
}

# ---- the data directory, once --------------------------------------------------
mkdir -p "$DIR"
DATA=$DIR/data
if [ ! -f "$DIR/ready" ]; then
    BIN0=${1##* }
    rm -rf "$DATA" "$DIR/ids"
    echo "rss: building $DATA ($CASES demo cases) with $BIN0" >&2
    AMPARO_ADMIN_PASSWORD=$ADMIN_PW "$BIN0" init --data "$DATA" --country EC >/dev/null 2>&1
    "$BIN0" demo --data "$DATA" --cases "$CASES" >"$DIR/demo.log" 2>&1 || die "demo failed: $(tail -3 "$DIR/demo.log")"
    printf '%s\n' "$USER_PW" | "$BIN0" user add --data "$DATA" --username "$USER_NAME" \
        --org "$ORG" --roles caseworker >/dev/null
    touch "$DIR/ready"
fi
cat >"$DIR/create.json" <<'EOF'
{"prs_FirstName":"Ana","prs_SecondName":"Quispe","prs_Gender":"Feminine","prs_Birthdate":"1999-04-02","prs_Citizenship":["PE"],"vic_TraffickingStatus":"ActualVictimOfTrafficking","vic_TypeOfExploitation":["ForcedLabour"],"vic_ForcedLabourIndustry":"B_MiningAndQuarrying","events":[{"hte_Type":"Exploitation","hte_Country":"PE","hte_City":"Puerto Maldonado","hte_Date":"2024-05-01"}]}
EOF

# ---- the runs --------------------------------------------------------------------
printf '%-36s %5s | %5s %6s %6s | %7s %4s %5s %5s | %7s %4s %5s %5s\n' variant round idle startH loginH reads/s µs rss hwm creat/s µs rss hwm
: >"$DIR/results"
for ((r = 1; r <= ROUNDS; r++)); do
    for v in "$@"; do
        RUN_DATA=$DIR/run
        rm -rf "$RUN_DATA"
        cp -a "$DATA" "$RUN_DATA"
        start "$v" "$RUN_DATA"
        read -r idle start_h <<<"$(mem_of "$SERVER_PID")"
        TOKEN=$(token "$USER_NAME" "$USER_PW") || die "cannot sign in as $USER_NAME"
        if [ ! -s "$DIR/ids" ]; then # ids spread over the organisation's cases, as run.sh
            total=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/cases?limit=1" | jq -r .total)
            pages=$(((NIDS + 499) / 500)) step=$((total / ((NIDS + 499) / 500)))
            [ "$step" -ge 500 ] || step=500
            for ((k = 0; k < pages; k++)); do
                curl -sf -H "Authorization: Bearer $TOKEN" \
                    "$BASE/api/v1/cases?limit=500&offset=$((k * step))&sort=created" | jq -r '.items[].id'
            done | sort -u >"$DIR/ids.tmp"
            [ -s "$DIR/ids.tmp" ] || die "no case ids"
            mv "$DIR/ids.tmp" "$DIR/ids"
            # listing the ids grew the server: measure reads from a fresh start
            stop
            start "$v" "$RUN_DATA"
            read -r idle start_h <<<"$(mem_of "$SERVER_PID")"
            TOKEN=$(token "$USER_NAME" "$USER_PW")
        fi
        read -r _ login_h <<<"$(mem_of "$SERVER_PID")"
        echo 5 >"/proc/$SERVER_PID/clear_refs" || die "cannot reset the peak (clear_refs)"
        read -r rrps rus <<<"$(wrk_run read "$DIR/ids" /api/v1/cases/)"
        read -r rrss rhwm <<<"$(mem_of "$SERVER_PID")"
        read -r crps cus <<<"$(wrk_run create "$DIR/create.json" /api/v1/cases)"
        sleep 0.5
        read -r crss chwm <<<"$(mem_of "$SERVER_PID")"
        stop
        rm -rf "$RUN_DATA"
        printf '%-36s %5s | %5s %6s %6s | %7s %4s %5s %5s | %7s %4s %5s %5s\n' "$v" "$r" "$idle" "$start_h" \
            "$login_h" "$rrps" "$rus" "$rrss" "$rhwm" "$crps" "$cus" "$crss" "$chwm"
        printf '%s\t%s %s %s %s %s %s %s %s %s %s %s\n' "$v" "$idle" "$start_h" "$login_h" "$rrps" "$rus" "$rrss" \
            "$rhwm" "$crps" "$cus" "$crss" "$chwm" >>"$DIR/results"
    done
done

if [ "$ROUNDS" -gt 1 ]; then
    echo
    echo "medians over $ROUNDS rounds:"
    for v in "$@"; do
        awk -F'\t' -v v="$v" '$1 == v {print $2}' "$DIR/results" |
            awk -v v="$v" '{for (i = 1; i <= NF; i++) a[i, NR] = $i; n = NR; m = NF}
                END {
                    printf "%-36s idle %s startH %s loginH %s | reads/s %s µs %s rss %s hwm %s | creates/s %s µs %s rss %s hwm %s\n",
                        v, med(1), med(2), med(3), med(4), med(5), med(6), med(7), med(8), med(9), med(10), med(11)
                }
                function med(c,   i, j, t, x) {
                    for (i = 1; i <= n; i++) x[i] = a[c, i]
                    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] + 0 < x[i] + 0) {t = x[i]; x[i] = x[j]; x[j] = t}
                    return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
                }'
    done
fi
