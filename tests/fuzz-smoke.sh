#!/usr/bin/env bash
# Short libFuzzer runs of every parser target in fuzz/ (see fuzz/README.md).
# Builds each target with clang (-fsanitize=fuzzer,address,undefined) into
# build-fuzz/, replays the known reproducers fuzz/crashes/<target>-* (they must
# no longer crash), runs it for FUZZ_SECONDS (default 15) on a copy of its seed
# corpus, and counts it passed when libFuzzer exits 0 throughout.  Crash
# artefacts are kept in tests/artifacts/fuzz/.  The last line is
# "N passed, N failed"; exits 1 on any failure.
#   FUZZ_SECONDS=120 tests/fuzz-smoke.sh                longer runs
#   FUZZ_TARGETS="query validate" tests/fuzz-smoke.sh   a subset
#   FUZZ_STRICT=0 tests/fuzz-smoke.sh                   memory safety only: build with
#       -DFUZZ_LENIENT_ERRORS (skip the "no field error silently dropped" oracles)
set -u
cd "$(dirname "$0")/.."

secs=${FUZZ_SECONDS:-15}
targets=${FUZZ_TARGETS:-"json_body query validate audit_filters seal calendars import_csv import_xml care"}
out=build-fuzz
arts=tests/artifacts/fuzz
cc=${FUZZ_CC:-clang}
passed=0
failed=0
mkdir -p "$out" "$arts"

# Library sources each target needs (only what it links against).
srcs_for() {
  case "$1" in
    json_body | query) echo "src/http/parse.c src/core/result.c" ;;
    validate) echo "src/core/validate.c src/core/catalogue.c src/core/result.c $out/embed.o" ;;
    audit_filters) echo "src/core/audit_text.c src/http/parse.c src/core/validate.c src/core/catalogue.c src/core/result.c $out/embed.o" ;;
    seal) echo "src/core/seal.c src/core/catalogue.c src/core/result.c src/util/buf.c $out/embed.o" ;;
    calendars) echo "src/core/workdays.c src/core/validate.c src/core/catalogue.c src/core/result.c src/util/clock.c $out/embed.o" ;;
    import_csv | import_xml) echo "$(ls src/*/*.c | grep -v '^src/cli/main.c$') $out/embed.o" ;;
    care) echo "src/core/care_fields.c src/http/parse.c src/core/validate.c src/core/catalogue.c src/core/result.c src/util/log.c src/util/clock.c $out/embed.o" ;;
    *) return 1 ;;
  esac
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

nt=$(echo $targets | wc -w)
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "FAIL fuzz: $cc not found (tools/install-deps.sh installs clang and libclang-rt-14-dev)"
  failed=$nt
  finish
fi
probe=$(mktemp -d)
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >"$probe/log" 2>&1; then
  echo "FAIL fuzz: $cc cannot link -fsanitize=fuzzer (is libclang-rt-14-dev installed? tools/install-deps.sh installs it)"
  sed 's/^/    /' "$probe/log" | tail -5
  rm -rf "$probe"
  failed=$nt
  finish
fi
rm -rf "$probe"

pkgs="jansson libsodium"
if ! pkg-config --exists $pkgs; then
  echo "FAIL fuzz: pkg-config cannot find $pkgs (run tools/install-deps.sh)"
  failed=$nt
  finish
fi
cflags="-std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined"
cflags="$cflags -fno-sanitize-recover=undefined $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -pthread -lm"
[ "${FUZZ_STRICT:-1}" = 0 ] && cflags="$cflags -DFUZZ_LENIENT_ERRORS"

# The embedded catalogue: .incbin paths are relative to the repository root.
if ! "$cc" -c src/embed.S -o "$out/embed.o" 2>"$out/embed.log"; then
  echo "FAIL fuzz: cannot assemble src/embed.S"
  sed 's/^/    /' "$out/embed.log" | tail -5
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1

for t in $targets; do
  bin=$out/fuzz_$t
  srcs=$(srcs_for "$t") || { echo "FAIL $t: unknown target"; failed=$((failed + 1)); continue; }
  # the import readers run through the whole core (store, accounts, exports)
  extra=""
  case "$t" in
    import_*) extra="$(pkg-config --cflags --libs $(sed -n 's/^PKGS *:= *//p' Makefile) \
                 2>/dev/null) -lcsv" ;; # every package of the Makefile
  esac
  if ! $cc $cflags "fuzz/fuzz_$t.c" $srcs -o "$bin" $libs $extra >"$out/fuzz_$t.build.log" 2>&1; then
    echo "FAIL $t: build failed"
    sed 's/^/    /' "$out/fuzz_$t.build.log" | tail -15
    failed=$((failed + 1))
    continue
  fi
  # Known reproducers: each must now run clean (a regression test once fixed).
  repro=$(ls fuzz/crashes/"$t"-* 2>/dev/null)
  if [ -n "$repro" ]; then
    bad=""
    for r in $repro; do
      "$bin" -runs=1 "$r" >"$out/fuzz_$t.repro.log" 2>&1 || bad="$bad $r"
    done
    if [ -n "$bad" ]; then
      echo "FAIL $t: known reproducers still crash:$bad"
      echo "    (see fuzz/README.md; reproduce: $bin FILE)"
      failed=$((failed + 1))
      continue
    fi
  fi
  work=$(mktemp -d)
  mkdir -p "$work/corpus"
  cp fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null
  dict=""
  case "$t" in
    json_body) [ -f fuzz/json.dict ] && dict=-dict=fuzz/json.dict ;;
    *) [ -f "fuzz/$t.dict" ] && dict=-dict=fuzz/$t.dict ;;
  esac
  "$bin" $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | sed 's/cov: //')
  if [ $rc -eq 0 ]; then
    echo "ok   $t (${secs}s, ${execs:-?} execs, ${speed:-?}/s, cov ${cov:-?})"
    passed=$((passed + 1))
  else
    echo "FAIL $t (libFuzzer exit $rc)"
    grep -E 'ERROR|SUMMARY|^ *#[0-9]+ 0x|runtime error|Test unit written' "$work/log" | head -25 |
      sed 's/^/    /'
    for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$a" ] || continue
      cp "$a" "$arts/${t}-$(basename "$a")"
      echo "    artefact: $arts/${t}-$(basename "$a")  (reproduce: $bin $arts/${t}-$(basename "$a"))"
    done
    cp "$work/log" "$arts/$t.log"
    failed=$((failed + 1))
  fi
  rm -rf "$work"
done
finish
