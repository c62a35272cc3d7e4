// NaN and infinity tests on a double's bits. These headers compile with the
// user's flags, and -ffast-math (-ffinite-math-only) lets the compiler assume
// that neither exists: std::isnan and std::isfinite fold to constants and
// comparisons with NaN may go either way. (With it, the JSON encoders wrote
// bare `nan`, which is not JSON, and a NaN sampling rate passed validation.)
// Integer tests on the bits are not subject to those assumptions. Also the
// text of a double, shared by the JSON encoders and the sampler.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

inline std::uint64_t double_bits(double v) noexcept {
  static_assert(sizeof(double) == sizeof(std::uint64_t), "IEEE 754 binary64 expected");
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

inline constexpr std::uint64_t double_exponent_mask = 0x7ff0000000000000ULL;

/// Not NaN and not infinite (exponent not all ones).
inline bool is_finite_double(double v) noexcept { return (double_bits(v) & double_exponent_mask) != double_exponent_mask; }
/// NaN (exponent all ones, fraction not zero).
inline bool is_nan_double(double v) noexcept { return (double_bits(v) & ~(std::uint64_t{1} << 63)) > double_exponent_mask; }
/// The sign bit: true for -0.0, -Infinity and negative numbers.
inline bool is_negative_double(double v) noexcept { return (double_bits(v) >> 63) != 0; }

/// The name of a double that is not finite: "NaN", "Infinity" or
/// "-Infinity", as proto3 JSON and the Jaeger and Zipkin tags spell them.
inline std::string_view non_finite_name(double v) noexcept {
  return is_nan_double(v) ? "NaN" : is_negative_double(v) ? "-Infinity" : "Infinity";
}

/// Writes a finite double as the shortest decimal that reads back to it, with
/// '.' as the decimal point whatever the locale; returns its length.
inline std::size_t write_double_text(double v, char (&out)[32]) noexcept {
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  return static_cast<std::size_t>(std::to_chars(out, out + sizeof out, v).ptr - out);
#else
  // %.17g round-trips; the locale may change the decimal point, so anything
  // that is not a digit, sign or exponent is the decimal point.
  char buf[64];
  const int len = std::snprintf(buf, sizeof buf, "%.17g", v);
  std::size_t n = 0;
  bool in_point = false;
  for (int k = 0; k < len && k < static_cast<int>(sizeof buf) && n < sizeof out; ++k) {
    const char c = buf[k];
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
      out[n++] = c;
      in_point = false;
    } else if (!in_point) {
      out[n++] = '.';
      in_point = true;
    }
  }
  return n;
#endif
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
