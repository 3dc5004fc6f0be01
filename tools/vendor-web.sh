#!/usr/bin/env bash
# Fetches the web UI's pinned front-end libraries from the npm registry (with
# `npm pack`, checking the registry's integrity hash), copies the files the UI
# loads into web/vendor/<package>/ with their LICENSE, and writes
# web/vendor/README.md (name, version, source, licence, SHA-256).  Run it by
# hand when a pin changes and commit the result: building and running Amparo
# never needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."
# name version (each tarball is checked against the integrity the registry states)
pins=(
  "preact 10.29.8"
  "htm 3.1.1"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=web/vendor
readme=$out/README.md
{
  echo "# Vendored front-end libraries"
  echo
  echo "Fetched from the npm registry by \`tools/vendor-web.sh\` (which checks each tarball"
  echo "against the registry's sha512 integrity) and committed, so that building and running"
  echo "Amparo never needs npm.  Only the ES-module builds the UI loads are kept."
  echo
  echo "| package | version | source | licence | tarball SHA-256 |"
  echo "|---|---|---|---|---|"
} >"$readme.tmp"
files_section=""
for pin in "${pins[@]}"; do
  set -- $pin
  name=$1 version=$2
  url=$(npm view "$name@$version" dist.tarball)
  integrity=$(npm view "$name@$version" dist.integrity)
  licence=$(npm view "$name@$version" license)
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  tgz="$work/$name-$version.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "integrity mismatch for $name@$version" >&2
    exit 1
  fi
  sha=$(sha256sum "$tgz" | cut -d' ' -f1)
  mkdir -p "$work/$name"
  tar xzf "$tgz" -C "$work/$name"
  src="$work/$name/package"
  rm -rf "${out:?}/$name"
  mkdir -p "$out/$name"
  cp "$src/LICENSE" "$out/$name/LICENSE"
  case "$name" in
    preact)
      cp "$src/dist/preact.module.js" "$out/preact/preact.module.js"
      # hooks import the bare specifier "preact"; browsers without an import map
      # (an inline script, which the CSP forbids) need a relative path
      sed 's|from"preact"|from"./preact.module.js"|' "$src/hooks/dist/hooks.module.js" \
        >"$out/preact/hooks.module.js"
      grep -q 'from"./preact.module.js"' "$out/preact/hooks.module.js"
      ;;
    htm)
      cp "$src/dist/htm.module.js" "$out/htm/htm.module.js"
      ;;
  esac
  echo "| $name | $version | $url | $licence | \`$sha\` |" >>"$readme.tmp"
  for f in "$out/$name"/*; do
    files_section="$files_section| \`${f#"$out"/}\` | \`$(sha256sum "$f" | cut -d' ' -f1)\` |
"
  done
done
{
  echo
  echo "Files (SHA-256 of the committed copy; \`preact/hooks.module.js\` has its one"
  echo "\`from\"preact\"\` import rewritten to \`./preact.module.js\`, nothing else changed):"
  echo
  echo "| file | SHA-256 |"
  echo "|---|---|"
  printf '%s' "$files_section"
} >>"$readme.tmp"
mv "$readme.tmp" "$readme"
echo "vendored: ${pins[*]}"
