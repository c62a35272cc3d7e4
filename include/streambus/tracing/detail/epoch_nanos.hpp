// A time given by the caller, as a count of some period since the Unix epoch,
// in epoch nanoseconds, saturating: shared by detail::unix_nano_of (clock.hpp,
// std::chrono time points) and light::unix_time (light.hpp, which does without
// <chrono>). Needs no standard header beyond <cstdint> and <type_traits>.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

/// The largest epoch-nanosecond time (int64's: the year 2262, OTLP's range).
constexpr std::uint64_t max_epoch_nanos = 0x7fffffffffffffffULL;

/// `count` units of Period (a std::ratio of seconds) since the epoch, as epoch
/// nanoseconds: 0 ("not given") at or before the epoch and for NaN,
/// max_epoch_nanos past the range. The range is checked in Period's own units
/// before anything could overflow. Integer counts of whole nanoseconds or of
/// whole divisors of one stay exact; others go through double.
template <class Period, class Rep>
constexpr std::uint64_t epoch_nanos(Rep count) noexcept {
  if (!(count > Rep(0))) return 0;  // also NaN
  constexpr std::intmax_t giga = 1000000000;
  if constexpr (std::is_integral_v<Rep> && Period::num * giga % Period::den == 0) {  // whole nanoseconds per unit
    constexpr auto per_unit = static_cast<std::uint64_t>(Period::num * giga / Period::den);
    const auto n = static_cast<std::uint64_t>(count);
    return n > max_epoch_nanos / per_unit ? max_epoch_nanos : n * per_unit;
  } else if constexpr (std::is_integral_v<Rep> && Period::den % (Period::num * giga) == 0) {  // finer units
    return static_cast<std::uint64_t>(count) / static_cast<std::uint64_t>(Period::den / (Period::num * giga));
  } else {
    const double ns = static_cast<double>(count) * static_cast<double>(Period::num) * 1e9 / static_cast<double>(Period::den);
    return ns >= 9.2233720368547758e18 ? max_epoch_nanos : static_cast<std::uint64_t>(ns);
  }
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
