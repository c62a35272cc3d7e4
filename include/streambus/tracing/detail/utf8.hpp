// UTF-8 well-formedness, shared by the attribute length limit (which counts
// characters as the encoders will write them), the encoders (which replace
// what is ill-formed by U+FFFD) and baggage decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

// At p[0..n), n >= 1: the length (1..4) of the well-formed UTF-8 sequence
// starting there, or 0 when it is ill-formed, with *bad set to the length of
// its maximal subpart (the bytes one U+FFFD replaces). Ranges from the Unicode
// Standard's table "Well-Formed UTF-8 Byte Sequences": no overlong forms, no
// surrogates, nothing above U+10FFFF.
inline std::size_t utf8_sequence(const unsigned char* p, std::size_t n, std::size_t* bad) noexcept {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if (b0 == 0xED) {
    len = 3;
    hi = 0x9F;
  } else if (b0 >= 0xE1 && b0 <= 0xEF) {
    len = 3;
  } else if (b0 == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (b0 == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    len = 4;
  } else {  // a continuation byte, C0, C1 or F5..FF: never valid as a lead
    *bad = 1;
    return 0;
  }
  if (n < 2 || p[1] < lo || p[1] > hi) {
    *bad = 1;
    return 0;
  }
  for (std::size_t i = 2; i < len; ++i) {
    if (i >= n || (p[i] & 0xC0) != 0x80) {
      *bad = i;
      return 0;
    }
  }
  return len;
}

// True when p[0..n) is all ASCII: whole words, the last one overlapping the
// one before (keys and names are short; a byte loop would cost more).
inline bool is_ascii(const unsigned char* p, std::size_t n) noexcept {
  if (n >= 8) {
    std::uint64_t acc = 0, w = 0;
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      acc |= w;
    }
    std::memcpy(&w, p + n - 8, 8);
    return ((acc | w) & 0x8080808080808080ull) == 0;
  }
  if (n >= 4) {
    std::uint32_t a = 0, b = 0;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return ((a | b) & 0x80808080u) == 0;
  }
  unsigned acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc |= p[i];
  return (acc & 0x80u) == 0;
}

// True when `s` is well-formed UTF-8 (ASCII runs checked eight bytes at a time).
inline bool utf8_valid(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  if (is_ascii(p, n)) return true;
  std::size_t i = 0;
  while (i < n) {
    // ASCII runs, eight bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p + i, 8);
      if (chunk & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t len = utf8_sequence(p + i, n - i, &bad);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

inline constexpr std::string_view utf8_replacement = "\xEF\xBF\xBD";  // U+FFFD

// Appends `s` to `out` (anything with append(const char*, size_t)) with every
// ill-formed sequence replaced by U+FFFD, one per maximal subpart: how the
// encoders write strings, and how keys are repaired before export.
template <class Out>
void append_utf8_repaired(Out& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0, run = 0;  // s[run..i) is well-formed and not yet appended
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t len = utf8_sequence(p + i, n - i, &bad);
    if (len != 0) {
      i += len;
      continue;
    }
    out.append(s.data() + run, i - run);
    out.append(utf8_replacement.data(), utf8_replacement.size());
    i += bad;
    run = i;
  }
  out.append(s.data() + run, n - run);
}

// `s` with every ill-formed sequence replaced by U+FFFD, as the encoders write it.
inline std::string utf8_repaired(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  append_utf8_repaired(out, s);
  return out;
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
