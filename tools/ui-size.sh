#!/usr/bin/env bash
# The web UI's size: JS + CSS raw and gzipped (-9), per file and in total, as
# the browser downloads them (each file gzipped on its own).  Budget: 200 KB
# gzipped in total.
set -eu
cd "$(dirname "$0")/.."
total=0
total_gz=0
while IFS= read -r f; do
  raw=$(wc -c <"$f")
  gz=$(gzip -9c "$f" | wc -c)
  total=$((total + raw)); total_gz=$((total_gz + gz))
  printf '%8d %8d  %s\n' "$raw" "$gz" "${f#web/}"
done < <(find web -type f \( -name '*.js' -o -name '*.css' \) | sort)
printf '%8d %8d  total bytes (raw, gzipped)\n' "$total" "$total_gz"
[ "$total_gz" -lt $((200 * 1024)) ] || { echo "over the 200 KB budget"; exit 1; }
