// NaN and infinity tests on a double's bits. These headers compile with the
// user's flags, and -ffast-math (-ffinite-math-only) lets the compiler assume
// that neither exists: std::isnan and std::isfinite fold to constants and
// comparisons with NaN may go either way. (With it, the JSON encoders wrote
// bare `nan`, which is not JSON, and a NaN sampling rate passed validation.)
// Integer tests on the bits are not subject to those assumptions.
#pragma once

#include <cstdint>
#include <cstring>

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

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
