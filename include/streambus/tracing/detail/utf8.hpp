// UTF-8 well-formedness, shared by the attribute length limit (which counts
// characters as the encoders will write them), the encoders (which replace
// what is ill-formed by U+FFFD) and baggage decoding.
#pragma once

#include <cstddef>

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

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
