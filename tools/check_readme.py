#!/usr/bin/env python3
"""Compile every ```cpp block of README.md, so the documentation cannot rot.

    python3 tools/check_readme.py                    # $CXX (default c++), -I include
    CXX=clang++ python3 tools/check_readme.py
    python3 tools/check_readme.py --single-include   # -I single_include instead
    python3 tools/check_readme.py --std c++20 -D STREAMBUS_TRACING_DISABLED
    python3 tools/check_readme.py --httplib-cflags "-I /opt/httplib/include"

Each block is compiled on its own with
    $CXX -std=c++17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I include
(-fsyntax-only: nothing is linked, so helper functions only need declarations).

How a block is compiled:
  * A block that contains `int main` or whose first non-blank line starts with
    `#include` is a whole translation unit. `#include <streambus/tracing.hpp>`
    is added at the top when the block includes neither it nor
    <streambus/tracing_light.hpp> itself.
  * Any other block is a fragment of statements. It is wrapped as
        <PRELUDE below>
        void snippet_N(tracing::tracer& tracer, const message& msg) { { <block> } }
    The extra braces let a fragment declare its own `tracer` or `msg`,
    shadowing the parameter, as a real program would.
  * A block that uses cpp-httplib (it includes <httplib.h>,
    <streambus/tracing/http.hpp> or <streambus/tracing/otlp_http_exporter.hpp>,
    or mentions httplib:: or tracing::http) is compiled with the flags of
    `pkg-config --cflags cpp-httplib` (Debian: libcpp-httplib-dev), or those
    of --httplib-cflags; a fragment of that kind also gets
    <streambus/tracing/http.hpp> in its prelude. Nothing is linked, so the
    shared library itself is not needed.
  * A block whose info string is `cpp skip` is not compiled. Keep those rare:
    only for text that cannot compile (pseudo-code).

Compiler messages point at README.md lines (the script emits #line markers).

The prelude gives fragments the names a reader of the README assumes:
  * <streambus/tracing.hpp>, the common standard headers, and
    `namespace tracing = streambus::tracing;`
  * `tracer`: a `tracing::tracer&`, and `msg`: a `const message&` (the
    parameters of the wrapping function)
  * `message`: a StreamBus message (topic, partition, offset, key, value,
    headers as std::map<std::string, std::string>)
  * application stubs, declared only: process_message(), send_request(),
    producer_send(), consumer_fetch(), incoming_request_headers(),
    http_get(), handle(), expensive_summary(), write_segment()
Output: one line per block, `README block N (line L): ok|FAILED|skipped`
(`ok (cpp-httplib)` for blocks compiled with cpp-httplib), the
compiler's messages for each failure, then `N passed, M failed[, K skipped]`.
Exit status 1 if any block failed (2 on usage errors).
"""

import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = r"""#include <streambus/tracing.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace tracing = streambus::tracing;

// A StreamBus message as the snippets use it.
struct message {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Application code the snippets call; declared only (nothing is linked).
void process_message(const message& msg);                   // business logic, may throw
void send_request();                                        // throws on failure
void producer_send(const message& msg);                     // the StreamBus producer
std::vector<message> consumer_fetch(std::int64_t offset, std::size_t max_bytes);
std::multimap<std::string, std::string> incoming_request_headers();
int http_get(const std::string& url, const std::multimap<std::string, std::string>& headers);
int handle(const std::string& method, const std::string& path);  // returns an HTTP status
std::string expensive_summary();                          // costly to compute
std::error_code write_segment(const message& msg);          // reports failure by error code
"""

# Extra prelude line for fragments that use the cpp-httplib instrumentation.
HTTP_PRELUDE = "#include <streambus/tracing/http.hpp>\n"

NEEDS_HTTPLIB = re.compile(
    r"#\s*include\s*[<\"](?:httplib\.h|streambus/tracing/(?:http|otlp_http_exporter)\.hpp)[>\"]"
    r"|\bhttplib::|\btracing::http\b"
)

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class Block:
    def __init__(self, index, line, info, text):
        self.index = index  # 1-based, among C++ blocks
        self.line = line  # README line of the opening fence (1-based)
        self.info = info
        self.text = text


def cpp_blocks(readme_text):
    """Every fenced block whose language is cpp (or c++), in order."""
    blocks = []
    lines = readme_text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group("indent"), m.group("fence"), m.group("info").strip()
        start = i
        body = []
        i += 1
        closing = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
        while i < len(lines) and not closing.match(lines[i]):
            line = lines[i]
            # Drop the fence's own indentation (code blocks inside list items).
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1  # the closing fence (or end of file)
        words = info.split()
        if words and words[0].lower() in ("cpp", "c++"):
            blocks.append(Block(len(blocks) + 1, start + 1, info, "\n".join(body) + "\n"))
    return blocks


def is_whole_tu(text):
    if re.search(r"\bint\s+main\s*\(", text):
        return True
    for line in text.splitlines():
        if line.strip():
            return line.lstrip().startswith("#include")
    return False


def needs_httplib(text):
    return NEEDS_HTTPLIB.search(text) is not None


def translation_unit(block, readme_name):
    first_body_line = block.line + 1
    if is_whole_tu(block.text):
        head = ""
        # A block that includes the full or the light header compiles with just that.
        if not re.search(r"#include\s*[<\"]streambus/(single/)?tracing(_light)?\.hpp[>\"]", block.text):
            head = "#include <streambus/tracing.hpp>\n"
        return head + '#line %d "%s"\n' % (first_body_line, readme_name) + block.text
    prelude = PRELUDE
    if needs_httplib(block.text):
        umbrella = "#include <streambus/tracing.hpp>\n"
        prelude = prelude.replace(umbrella, umbrella + HTTP_PRELUDE, 1)
    return (
        prelude
        + "\nvoid snippet_%d([[maybe_unused]] tracing::tracer& tracer, [[maybe_unused]] const message& msg) {\n  {\n"
        % block.index
        + '#line %d "%s"\n' % (first_body_line, readme_name)
        + block.text
        + "\n  }\n}\n"
    )


def compile_block(block, args, workdir):
    if block.info.split()[1:2] == ["skip"]:
        return block, "skipped", ""
    source = os.path.join(workdir, "readme_block_%d.cpp" % block.index)
    with open(source, "w", encoding="utf-8") as f:
        f.write(translation_unit(block, os.path.relpath(args.readme, ROOT)))
    cmd = shlex.split(args.cxx) + [
        "-std=" + args.std,
        "-Wall",
        "-Wextra",
        "-Wpedantic",
        "-Werror",
        "-fsyntax-only",
    ]
    for inc in args.include_dirs:
        cmd += ["-I", inc]
    for d in args.define:
        cmd += ["-D" + d]
    uses_httplib = needs_httplib(block.text)
    if uses_httplib:
        if args.httplib_cflags is None:
            return block, "FAILED", (
                "this block uses cpp-httplib, but `pkg-config --cflags cpp-httplib` failed: %s\n"
                "install cpp-httplib and pkg-config (Debian: apt-get install libcpp-httplib-dev pkg-config)\n"
                "or pass --httplib-cflags\n"
                % args.httplib_error
            )
        cmd += args.httplib_cflags
    cmd += [source]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        return block, "FAILED", "cannot run %s: %s\n" % (cmd[0], e)
    if proc.returncode == 0:
        return block, "ok (cpp-httplib)" if uses_httplib else "ok", ""
    return block, "FAILED", proc.stdout


def pkg_config_cflags(package):
    """(flags, "") from pkg-config, or (None, why) when it cannot tell."""
    try:
        proc = subprocess.run(["pkg-config", "--cflags", package], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        return None, "cannot run pkg-config: %s" % e
    if proc.returncode != 0:
        return None, proc.stdout.strip() or "package %s not found" % package
    return shlex.split(proc.stdout), ""


def main():
    parser = argparse.ArgumentParser(description="Compile the C++ snippets of README.md.")
    parser.add_argument("--readme", default=os.path.join(ROOT, "README.md"), help="default: README.md at the root")
    parser.add_argument("--cxx", default=os.environ.get("CXX") or "c++", help="compiler (default: $CXX, else c++)")
    parser.add_argument("--std", default="c++17", help="language standard (default: c++17)")
    parser.add_argument("--single-include", action="store_true",
                        help="compile against single_include/ (the generated single header) instead of include/")
    parser.add_argument("-I", "--include-dir", action="append", default=[], dest="extra_includes",
                        help="extra include directory (repeatable)")
    parser.add_argument("-D", "--define", action="append", default=[], help="preprocessor definition (repeatable)")
    parser.add_argument("--httplib-cflags", default=None,
                        help="compiler flags for blocks that use cpp-httplib "
                             "(default: the output of `pkg-config --cflags cpp-httplib`)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="parallel compilations")
    args = parser.parse_args()

    args.readme = os.path.abspath(args.readme)
    main_dir = "single_include" if args.single_include else "include"
    if not os.path.isfile(os.path.join(ROOT, main_dir, "streambus", "tracing.hpp")):
        print("check_readme: %s/streambus/tracing.hpp does not exist" % main_dir, file=sys.stderr)
        if args.single_include:
            print("check_readme: generate it with: python3 tools/amalgamate.py", file=sys.stderr)
        return 2
    args.include_dirs = [os.path.join(ROOT, main_dir)] + [os.path.abspath(d) for d in args.extra_includes]
    args.httplib_error = ""
    if args.httplib_cflags is not None:
        args.httplib_cflags = shlex.split(args.httplib_cflags)
    else:
        args.httplib_cflags, args.httplib_error = pkg_config_cflags("cpp-httplib")

    try:
        with open(args.readme, encoding="utf-8") as f:
            blocks = cpp_blocks(f.read())
    except OSError as e:
        print("check_readme: %s" % e, file=sys.stderr)
        return 2
    if not blocks:
        print("check_readme: no ```cpp blocks in %s" % args.readme, file=sys.stderr)
        return 2

    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="check_readme_") as workdir:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda b: compile_block(b, args, workdir), blocks))
    for block, status, output in results:
        print("README block %d (line %d): %s" % (block.index, block.line, status))
        if status.startswith("ok"):
            passed += 1
        elif status == "skipped":
            skipped += 1
        else:
            failed += 1
            sys.stdout.write(output if output.endswith("\n") else output + "\n")
    summary = "%d passed, %d failed" % (passed, failed)
    if skipped:
        summary += ", %d skipped" % skipped
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
