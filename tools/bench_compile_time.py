#!/usr/bin/env python3
"""Compile-time cost of the library (Performance issue): how much including the
single header and creating one span adds to a translation unit.

Compiles, N times each and in turn (so load changes hit all alike),
  empty.cpp      int main() { return 0; }
  span.cpp       #include <streambus/tracing.hpp>, create a tracer, start one span
                 (what the TU that sets tracing up pays)
  span_only.cpp  #include <streambus/tracing.hpp>, start one span on a tracer
                 passed in by reference (what every other instrumented TU pays)
  light.cpp      #include <streambus/tracing_light.hpp>, the same span (plus an
                 attribute) through the light API (what an instrumented TU pays
                 with the light header)
  light_impl.cpp define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION, include the
                 single header, create a tracer and one span (the one TU that
                 compiles the light API's implementation)
  pch_span_only.cpp  span_only.cpp with the single header precompiled
                 (`-x c++-header`, built once per run, not timed): what a
                 precompiled header saves a build that keeps the full header
with `g++ -O2 -std=c++17 -c` against single_include/, and reports the median,
min and max wall time of each and of the per-round difference to the empty TU
("added"). Times are wall clock: run it on an idle machine.

  tools/bench_compile_time.py [--runs N] [--cxx g++] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EMPTY_TU = "int main() { return 0; }\n"
SPAN_TU = """#include <streambus/tracing.hpp>
int main() {
  auto tracer = streambus::tracing::tracer::create();
  auto span = tracer.start("op");
  return span.is_recording() ? 0 : 1;
}
"""
SPAN_ONLY_TU = """#include <streambus/tracing.hpp>
bool traced(streambus::tracing::tracer& tracer) {
  auto span = tracer.start("op");
  return span.is_recording();
}
"""
LIGHT_TU = """#include <streambus/tracing_light.hpp>
bool traced(streambus::tracing::tracer& tracer) {
  auto span = streambus::tracing::light::start(tracer, "op");
  span.set_attribute("order.id", 42);
  return span.is_recording();
}
"""
LIGHT_IMPL_TU = "#define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION\n" + SPAN_TU
# The same TU as span_only.cpp, through a precompiled header (pch.hpp.gch beside pch.hpp).
PCH_HEADER = "#include <streambus/tracing.hpp>\n"
PCH_SPAN_ONLY_TU = SPAN_ONLY_TU.replace("#include <streambus/tracing.hpp>", '#include "pch.hpp"')

# (file name, source, key in the JSON output)
TUS = (("span.cpp", SPAN_TU, "span"), ("span_only.cpp", SPAN_ONLY_TU, "span_only"),
       ("light.cpp", LIGHT_TU, "light"), ("light_impl.cpp", LIGHT_IMPL_TU, "light_impl"),
       ("pch_span_only.cpp", PCH_SPAN_ONLY_TU, "pch_span_only"))


def compile_ms(cxx, flags, source, obj):
    start = time.perf_counter()
    subprocess.run([cxx, *flags, "-c", source, "-o", obj], check=True)
    return (time.perf_counter() - start) * 1000.0


def build_pch(cxx, flags, tmp):
    """Precompiles pch.hpp in `tmp`; returns the extra flags a TU needs to use it.
    GCC finds pch.hpp.gch beside pch.hpp by itself; a probe with -H (which
    marks a used PCH with '!') checks that it does. clang is given the PCH
    with -include-pch, and refuses to compile if it does not fit."""
    header = os.path.join(tmp, "pch.hpp")
    with open(header, "w") as f:
        f.write(PCH_HEADER)
    if "clang" in os.path.basename(cxx):
        pch = header + ".pch"
        subprocess.run([cxx, *flags, "-x", "c++-header", header, "-o", pch], check=True)
        return ["-include-pch", pch]
    subprocess.run([cxx, *flags, "-x", "c++-header", header, "-o", header + ".gch"], check=True)
    probe = subprocess.run([cxx, *flags, "-Winvalid-pch", "-H", "-fsyntax-only", "-x", "c++", "-"],
                           input='#include "pch.hpp"\n', capture_output=True, text=True, cwd=tmp)
    # -H marks a used PCH "! pch.hpp.gch" and one found but rejected "x pch.hpp.gch".
    if not any(line.startswith("! ") and os.path.basename(line[2:].strip()) == "pch.hpp.gch"
               for line in probe.stderr.splitlines()):
        sys.exit("bench_compile_time: the compiler did not use the precompiled header:\n" + probe.stderr[:2000])
    return []


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="compilations of each TU (default 10)")
    parser.add_argument("--cxx", default="g++")
    parser.add_argument("--include", default=os.path.join(ROOT, "single_include"),
                        help="directory holding streambus/tracing.hpp (default: single_include/)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    header = os.path.join(args.include, "streambus", "tracing.hpp")
    if not os.path.isfile(header):
        sys.exit(f"bench_compile_time: {header} does not exist (python3 tools/amalgamate.py generates it)")
    flags = ["-O2", "-std=c++17", "-I", args.include]
    with tempfile.TemporaryDirectory(prefix="streambus-compile-time-") as tmp:
        empty = os.path.join(tmp, "empty.cpp")
        with open(empty, "w") as f:
            f.write(EMPTY_TU)
        sources = []
        for name, text, key in TUS:
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            sources.append((path, key))
        obj = os.path.join(tmp, "out.o")
        pch_flags = build_pch(args.cxx, flags, tmp)
        flags_of = {key: flags + (pch_flags if key.startswith("pch_") else []) for _, key in sources}
        for path, key in sources:
            compile_ms(args.cxx, flags_of[key], path, obj)  # warm the page cache
        empty_ms = []
        times = {key: [] for _, key in sources}
        for _ in range(args.runs):
            empty_ms.append(compile_ms(args.cxx, flags, empty, obj))
            for path, key in sources:
                times[key].append(compile_ms(args.cxx, flags_of[key], path, obj))
    version = subprocess.run([args.cxx, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    result = {
        "compiler": version,
        "flags": " ".join(["-O2", "-std=c++17", "-c"]),
        "runs": args.runs,
        "header_bytes": os.path.getsize(header),
        "light_header_bytes": os.path.getsize(os.path.join(args.include, "streambus", "tracing_light.hpp")),
        "empty_ms": summary(empty_ms),
        "load_average": os.getloadavg()[0],
    }
    for key, values in times.items():
        result[key + "_ms"] = summary(values)
        result[key + "_added_ms"] = summary([v - e for v, e in zip(values, empty_ms)])
    result["added_ms"] = result["span_added_ms"]  # the name earlier reports used
    print(f"compile time, {version}, -O2 -std=c++17 -c, {args.runs} runs each")
    print(f"  header: {header} ({result['header_bytes']} bytes); light header {result['light_header_bytes']} bytes")
    rows = [("empty TU", "empty_ms"), ("create tracer + span", "span_ms"), ("  added", "span_added_ms"),
            ("span only", "span_only_ms"), ("  added", "span_only_added_ms"),
            ("light header: span", "light_ms"), ("  added", "light_added_ms"),
            ("light implementation", "light_impl_ms"), ("  added", "light_impl_added_ms"),
            ("span only, PCH", "pch_span_only_ms"), ("  added", "pch_span_only_added_ms")]
    for name, key in rows:
        s = result[key]
        print(f"  {name:<22} median {s['median']:7.0f} ms   min {s['min']:7.0f}   max {s['max']:7.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
