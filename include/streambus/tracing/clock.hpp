// Timestamps: wall-clock nanoseconds since the Unix epoch for export, derived
// from the monotonic clock so that a span's duration never goes negative or
// jumps when the system clock is stepped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

inline std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t system_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// wall = steady + offset. One atomic word, read relaxed on the hot path and
// re-measured by clock_resync() (called from the export side), so a stepped
// system clock is picked up by later spans without ever touching durations.
inline std::atomic<std::int64_t>& wall_offset_ns() noexcept {
  static std::atomic<std::int64_t> offset{system_now_ns() - steady_now_ns()};
  return offset;
}

inline void clock_resync() noexcept {
  wall_offset_ns().store(system_now_ns() - steady_now_ns(), std::memory_order_relaxed);
}

/// A point in time taken on the hot path: its epoch time and its monotonic time.
struct timestamp {
  std::uint64_t unix_nano = 0;
  std::int64_t steady_ns = 0;
};

inline timestamp now() noexcept {
  const std::int64_t steady = steady_now_ns();
  const std::int64_t wall = steady + wall_offset_ns().load(std::memory_order_relaxed);
  return {wall > 0 ? static_cast<std::uint64_t>(wall) : 0, steady};
}

/// Epoch nanoseconds of an end measured on the monotonic clock since `start`.
inline std::uint64_t end_unix_nano(const timestamp& start, std::int64_t end_steady_ns) noexcept {
  const std::int64_t elapsed = end_steady_ns - start.steady_ns;
  return start.unix_nano + static_cast<std::uint64_t>(elapsed > 0 ? elapsed : 0);
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
