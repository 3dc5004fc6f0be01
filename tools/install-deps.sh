#!/usr/bin/env bash
# Installs the Debian 12 packages Amparo needs to build and test, if missing.
# Extra package names may be given as arguments (bench/run.sh adds nginx and wrk).
set -eu
pkgs="gcc make pkg-config libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev
      libcmocka-dev libcurl4-openssl-dev curl clang libclang-rt-14-dev clang-format
      liboath-dev libqrencode-dev libgnutls28-dev oathtool sqlite3 libicu-dev $*"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
