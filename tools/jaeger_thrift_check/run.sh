#!/usr/bin/env bash
# tools/jaeger_thrift_check/run.sh — what can be checked here against real Jaeger
# artifacts (see README.md for what cannot, and why).
#
#   tools/jaeger_thrift_check/run.sh            the Thrift check: the library's
#       "jaeger" exporter (the seed's Jaeger configuration) POSTs to a loopback
#       receiver that decodes each body with the official jaeger.thrift IDL
#       (from the jaeger-client npm package) using thriftrw; ends with
#       "N passed, M failed" and exits non-zero on any failure.
#   tools/jaeger_thrift_check/run.sh FILE.json  refuses: no build of the Jaeger UI
#       (nor its trace-JSON loader) is obtainable from Debian or npm, so there
#       is nothing real to load the file with. Exits 3.
#
# Installs what it lacks (apt-get for g++/node/npm/cpp-httplib, npm for the
# IDL + thriftrw) into build/jaeger_thrift_check/. Loopback network only.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$ROOT/build/jaeger_thrift_check"

if [ "$#" -gt 0 ]; then
  cat >&2 <<MSG
jaeger_thrift_check: cannot check $1 against the Jaeger UI here.
No Jaeger UI build or trace-JSON loader is published on npm (jaeger-ui: no
versions; @jaegertracing/jaeger-ui, @jaegertracing/jaeger-ui-components: 404;
@jaegertracing/plexus is only the graph widget) and Debian packages no Jaeger.
See tools/jaeger_thrift_check/README.md. Only the Thrift check runs (no arguments).
MSG
  exit 3
fi

PACKAGES=(g++ pkg-config libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev nodejs npm)
missing=()
for p in "${PACKAGES[@]}"; do
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  echo "jaeger_thrift_check: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

mkdir -p "$WORK"
IDL="$WORK/node_modules/jaeger-client/dist/src/jaeger-idl/thrift/jaeger.thrift"
if ! cmp -s "$HERE/package.json" "$WORK/package.json" || [ ! -f "$IDL" ] || [ ! -d "$WORK/node_modules/thriftrw" ]; then
  cp "$HERE/package.json" "$WORK/package.json"
  (cd "$WORK" && npm install --no-audit --no-fund --ignore-scripts --omit=dev --no-package-lock)
fi
[ -f "$IDL" ] || { echo "jaeger_thrift_check: $IDL missing after npm install" >&2; exit 1; }

PROBE="$WORK/thrift_probe"
if [ ! -x "$PROBE" ] || [ -n "$(find "$HERE/thrift_probe.cpp" "$ROOT/include" -newer "$PROBE" -print -quit)" ]; then
  echo "jaeger_thrift_check: building $PROBE"
  # shellcheck disable=SC2046
  g++ -std=c++17 -O1 -I"$ROOT/include" "$HERE/thrift_probe.cpp" -o "$PROBE" \
    $(pkg-config --cflags --libs cpp-httplib) -lssl -lcrypto -lz -lbrotlidec -lbrotlienc -pthread
fi

exec node "$HERE/collector_check.js" "$WORK/node_modules" "$PROBE"
