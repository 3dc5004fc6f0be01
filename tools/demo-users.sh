#!/usr/bin/env bash
# Creates one demo account per role in two demo organisations (Quito NGO and the
# Guayaquil shelter), all with the password $AMPARO_DEMO_PASSWORD (default
# "amparo-demo-2026").  For `make run` on a laptop only: never on real data.
# Usage: tools/demo-users.sh AMPARO_BIN DATA_DIR
set -eu
bin=$1
data=$2
pw=${AMPARO_DEMO_PASSWORD:-amparo-demo-2026}
add() { # username org roles
  printf '%s\n' "$pw" | "$bin" user add --data "$data" --username "$1" --org "$2" --roles "$3" \
    --lang "${4:-es}" >/dev/null 2>&1 || true
}
add caseworker ec-fundacion-alas caseworker
add coordinator ec-fundacion-alas coordinator
add hotline ec-fundacion-alas hotline
add orgadmin ec-fundacion-alas orgadmin
add analyst ec-fundacion-alas analyst
add auditor ec-fundacion-alas auditor en
add shelter ec-acogida-santa-marta shelter
add caseworker2 ec-acogida-santa-marta caseworker
echo "demo accounts (password '$pw'): caseworker, coordinator, hotline, orgadmin, analyst,"
echo "  auditor (Fundación Alas de Colibrí); shelter, caseworker2 (Centro de Acogida Santa Marta)"
