// The span clock: monotonic, in step with steady_clock, continuous across
// recalibration; wall times derived from it.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <chrono>
#include <cstdint>
#include <thread>

#include "support/memory_tracer.hpp"

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

namespace {
// Moves the wall-clock offset as a stepped system clock would look to the
// next resync; returns the offset it replaced.
std::int64_t step_wall_offset(std::int64_t by_ns) {
  return st::detail::wall_offset_ns().fetch_add(by_ns, std::memory_order_relaxed);
}
}  // namespace

TEST_CASE("events lie within their span when the clock mapping changes between the event and the span's end") {
  memory_tracer m;
  {
    auto span = m.tracer.start("stepped");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    span.add_event("before the step");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    // The system clock steps back 1000 s (as a resync would then measure):
    // the event was once converted with the old offset, the span with the new
    // one, and landed 1000 s after its span's end.
    step_wall_offset(-1'000'000'000'000);
    span.add_event("after the step");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  st::detail::clock_resync();  // put the offset back for the tests that follow
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  const st::span_data& s = spans[0];
  REQUIRE(s.events.size() == 2);
  for (const auto& e : s.events) {
    CAPTURE(e.name);
    CHECK(e.time_unix_nano >= s.start_time_unix_nano);
    CHECK(e.time_unix_nano <= s.end_time_unix_nano);
  }
  // Their places in the span are the measured ones: ~2 ms and ~4 ms after its start, in order.
  CHECK(s.events[0].time_unix_nano - s.start_time_unix_nano >= 2'000'000);
  CHECK(s.events[1].time_unix_nano - s.events[0].time_unix_nano >= 2'000'000);
  CHECK(s.end_time_unix_nano - s.events[1].time_unix_nano >= 2'000'000);
}

TEST_CASE("a tracer with only synchronous exporters picks up a stepped system clock (resync at most once a second)") {
  memory_tracer m;
  const std::int64_t before = step_wall_offset(3'600'000'000'000);  // an hour off, as after a step
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));     // a resync is due again
  { auto span = m.tracer.start("after the step"); }
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  const std::int64_t system = st::detail::system_now_ns();
  CHECK(std::llabs(static_cast<std::int64_t>(spans[0].start_time_unix_nano) - system) < 50'000'000);
  CHECK(std::llabs(st::detail::wall_offset_ns().load() - before) < 50'000'000);
}
