#!/usr/bin/env bash
# Big-endian check (CI configuration s390x-big-endian): the library built for
# s390x (big-endian) and run under qemu user-mode emulation.
#  1. tests/cross_arch/wire_bytes.cpp prints every wire encoding of one rich
#     batch (OTLP protobuf and JSON, Jaeger Thrift and UI JSON, Zipkin) and
#     W3C ids; the s390x output must equal the native (x86-64) output byte
#     for byte.
#  2. The unit tests whose code reads or writes bytes of ids, traceparent,
#     tracestate and sampling decisions run on s390x.
# Cross-compiled with clang (Debian's gcc cross compilers conflict with
# g++-multilib, which the i686 configuration needs): needs clang,
# libstdc++-12-dev-s390x-cross, binutils-s390x-linux-gnu and qemu-user
# (tools/run installs them). Output under build/s390x.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/build/s390x"
CROSS=(clang++ --target=s390x-linux-gnu)
mkdir -p "$DIR"
FLAGS=(-std=c++17 -O1 -Wall -Wextra -Werror -I"$ROOT/include" -pthread)

echo "-- wire bytes: native and s390x"
g++ "${FLAGS[@]}" "$ROOT/tests/cross_arch/wire_bytes.cpp" -o "$DIR/wire_bytes_native"
"${CROSS[@]}" "${FLAGS[@]}" "$ROOT/tests/cross_arch/wire_bytes.cpp" -o "$DIR/wire_bytes_s390x"
"$DIR/wire_bytes_native" >"$DIR/wire_bytes_native.txt"
timeout 120 qemu-s390x -L /usr/s390x-linux-gnu "$DIR/wire_bytes_s390x" >"$DIR/wire_bytes_s390x.txt"
if ! cmp -s "$DIR/wire_bytes_native.txt" "$DIR/wire_bytes_s390x.txt"; then
  echo "FAIL: s390x encodes differently from $(uname -m):" >&2
  diff "$DIR/wire_bytes_native.txt" "$DIR/wire_bytes_s390x.txt" | head -40 >&2
  exit 1
fi
echo "   identical: $(grep -c ' bytes$' "$DIR/wire_bytes_native.txt") encodings ($(grep ' bytes$' "$DIR/wire_bytes_native.txt" | tr '\n' ',' | sed 's/,$//')), ids, traceparent"

echo "-- unit tests on s390x"
"${CROSS[@]}" "${FLAGS[@]}" -I"$ROOT/tests" -c "$ROOT/tests/test_main.cpp" -o "$DIR/test_main.o"
for t in test_ids test_propagation test_trace_state test_sampler; do
  "${CROSS[@]}" "${FLAGS[@]}" -I"$ROOT/tests" "$ROOT/tests/$t.cpp" "$DIR/test_main.o" -o "$DIR/$t"
  echo "   $t (s390x)"
  timeout 600 qemu-s390x -L /usr/s390x-linux-gnu "$DIR/$t" --no-version
done
