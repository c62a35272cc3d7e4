#!/usr/bin/env bash
# Measures an earlier commit and the working tree side by side in one process
# (bench/side_by_side/side_by_side.cpp): the fair way to compare two versions
# on a noisy or bimodal machine. Needs the bench packages (tools/run bench
# installs them).
#
#   tools/bench_side_by_side.sh COMMIT [REPETITIONS]     e.g. tools/bench_side_by_side.sh HEAD~1 5
#   tools/bench_side_by_side.sh --build-only COMMIT      (CI: it still compiles)
set -euo pipefail
build_only=0
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:?usage: tools/bench_side_by_side.sh COMMIT [REPETITIONS]}"
reps="${2:-5}"
out="$ROOT/build/side_by_side"
mkdir -p "$out"
# The earlier single header with every name of ours moved aside, so both
# versions link into one program.
git -C "$ROOT" show "$commit:single_include/streambus/tracing.hpp" |
  sed 's/namespace streambus\b/namespace streambus_before/g; s/streambus::tracing::/streambus_before::tracing::/g; s/STREAMBUS_TRACING_/STREAMBUS_BEFORE_TRACING_/g' \
    >"$out/before.hpp"
g++ -O3 -DNDEBUG -std=c++17 -I"$out" -I"$ROOT/include" "$ROOT/bench/side_by_side/side_by_side.cpp" \
  -o "$out/side_by_side" -lbenchmark -lpthread
[ "$build_only" = 1 ] && exit 0
echo "before = $(git -C "$ROOT" rev-parse --short "$commit"), now = the working tree; medians of $reps repetitions"
"$out/side_by_side" --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
  --benchmark_display_aggregates_only=true 2>/dev/null | grep -E "_median|^Benchmark"
