// Copying short strings into storage that is reused span after span (span
// names, attribute keys and string values, event names, a reused carrier's
// header values). Standard headers only.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

// n bytes from `in` to `out`; the two may overlap (each part is loaded before
// anything is stored). Up to 32 bytes in two overlapping fixed-size moves,
// which compile to a few register moves: a libc call for a short string cost
// as much as the rest of copying it.
STREAMBUS_TRACING_ALWAYS_INLINE void copy_chars(char* out, const char* in, std::size_t n) noexcept {
  if (n >= 8) {
    if (n <= 16) {
      char head[8], tail[8];
      std::memcpy(head, in, 8);
      std::memcpy(tail, in + n - 8, 8);
      std::memcpy(out, head, 8);
      std::memcpy(out + n - 8, tail, 8);
    } else if (n <= 32) {
      char head[16], tail[16];
      std::memcpy(head, in, 16);
      std::memcpy(tail, in + n - 16, 16);
      std::memcpy(out, head, 16);
      std::memcpy(out + n - 16, tail, 16);
    } else {
      std::memmove(out, in, n);
    }
  } else if (n >= 4) {
    char head[4], tail[4];
    std::memcpy(head, in, 4);
    std::memcpy(tail, in + n - 4, 4);
    std::memcpy(out, head, 4);
    std::memcpy(out + n - 4, tail, 4);
  } else if (n != 0) {
    const char first = in[0], middle = in[n / 2], last = in[n - 1];
    out[0] = first;
    out[n / 2] = middle;
    out[n - 1] = last;
  }
}

// to = from, reusing to's buffer. std::string::assign is libstdc++'s
// out-of-line _M_replace (any overlap, any growth) plus a libc memcpy: ~70
// instructions for a 10-byte attribute key. A recycled slot usually gets a
// string no longer than the one it holds (the same key, span after span):
// that is copied in place and the length set, without a call. A longer one
// takes assign's path (which may grow the buffer and throw std::bad_alloc).
// Always inline, as copy_chars and span_name::assign: with a key or name
// known at the call the length tests fold away, and left to itself GCC put
// one or another of them out of line (callgrind, bench case 2: 886 -> 789
// instructions per span with all three in line).
STREAMBUS_TRACING_ALWAYS_INLINE void assign_chars(std::string& to, std::string_view from) {
  const std::size_t n = from.size();
  if (n > to.size()) {
    to.assign(from.data(), n);
    return;
  }
  copy_chars(&to[0], from.data(), n);  // `from` may be part of `to`: copy_chars allows overlap
  if (n != to.size()) to.resize(n);
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
