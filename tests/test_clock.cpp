// The span clock: monotonic, in step with steady_clock, continuous across
// recalibration; wall times derived from it.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <chrono>
#include <cstdint>
#include <thread>

namespace st = streambus::tracing;

TEST_CASE("the span clock never goes backwards, also across recalibration") {
  std::int64_t last = st::detail::span_clock_ns();
  for (int i = 0; i < 200000; ++i) {
    if (i % 50000 == 0) st::detail::clock_resync();
    const std::int64_t now = st::detail::span_clock_ns();
    REQUIRE(now >= last);
    last = now;
  }
}

TEST_CASE("the span clock keeps pace with steady_clock") {
  const std::int64_t span0 = st::detail::span_clock_ns();
  const std::int64_t steady0 = st::detail::steady_now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  st::detail::clock_resync();
  const std::int64_t span1 = st::detail::span_clock_ns();
  const std::int64_t steady1 = st::detail::steady_now_ns();
  const std::int64_t d_span = span1 - span0;
  const std::int64_t d_steady = steady1 - steady0;
  // A calibration error would show as a proportional difference; allow 1 %
  // plus scheduling noise (this is a correctness bound, not a benchmark).
  CHECK(d_span > 0);
  CHECK(std::llabs(d_span - d_steady) < d_steady / 100 + 2'000'000);
}

TEST_CASE("wall time from the span clock matches the system clock") {
  st::detail::clock_resync();
  const std::uint64_t wall = st::detail::unix_now_ns();
  const std::int64_t system = st::detail::system_now_ns();
  CHECK(std::llabs(static_cast<std::int64_t>(wall) - system) < 50'000'000);  // 50 ms
}
