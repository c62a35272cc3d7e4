// Times the caller gives: span_options::start_time, span::end(time) and
// span::add_event(name, time), on the synchronous path, through the batch
// pipeline (as its own record, never the compact form) and across threads.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "support/memory_tracer.hpp"

namespace st = streambus::tracing;
using namespace std::chrono_literals;
using sys = std::chrono::system_clock;

namespace {

std::uint64_t unix_ns(sys::time_point t) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// Within `slack` of the system clock now.
bool near_now(std::uint64_t unix_nano, std::chrono::nanoseconds slack = 5s) {
  const auto now = static_cast<std::int64_t>(unix_ns(sys::now()));
  const auto d = now - static_cast<std::int64_t>(unix_nano);
  return d >= -slack.count() && d <= slack.count();
}

// A past time with a nanosecond part, so that rounding would show.
const sys::time_point an_hour_ago = sys::now() - 1h + std::chrono::duration_cast<sys::duration>(123ns);

}  // namespace

TEST_CASE("a start time given in the options is exported as given; the end is measured") {
  memory_tracer m;
  st::span_options o;
  o.start_time = an_hour_ago;
  {
    auto span = m.tracer.start("received", o);
    span.add_event("handled");
  }
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  const st::span_data& s = spans[0];
  CHECK(s.start_time_unix_nano == unix_ns(an_hour_ago));
  CHECK(near_now(s.end_time_unix_nano));
  CHECK(s.duration_ns() > 3'500'000'000'000);  // about the hour
  REQUIRE(s.events.size() == 1);
  CHECK(near_now(s.events[0].time_unix_nano));  // measured, and within the span
  CHECK(s.events[0].time_unix_nano <= s.end_time_unix_nano);
}

TEST_CASE("end(time) ends the span at that time; start and events stay measured") {
  memory_tracer m;
  const sys::time_point later = sys::now() + 10min;
  auto span = m.tracer.start("reported");
  span.add_event("progress");
  CHECK(m.tracer.current_context().span_id() == span.context().span_id());
  span.end(later);
  CHECK_FALSE(span.is_recording());
  CHECK_FALSE(m.tracer.current_context().valid());  // no longer current, as end()
  span.end(later + 1h);                             // idempotent: the first end stands
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  const st::span_data& s = spans[0];
  CHECK(near_now(s.start_time_unix_nano));
  CHECK(s.end_time_unix_nano == unix_ns(later));
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].time_unix_nano >= s.start_time_unix_nano);
  CHECK(near_now(s.events[0].time_unix_nano));
}

TEST_CASE("given start and end are both kept; an end before the start is exported as the start") {
  memory_tracer m;
  st::span_options o;
  o.start_time = an_hour_ago;
  m.tracer.start("after the fact", o).end(an_hour_ago + 250ms);
  auto backwards = m.tracer.start("backwards", o);
  backwards.add_event("measured now");
  backwards.end(an_hour_ago - 1s);
  const auto spans = m.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[0].start_time_unix_nano == unix_ns(an_hour_ago));
  CHECK(spans[0].end_time_unix_nano == unix_ns(an_hour_ago + 250ms));
  CHECK(spans[1].start_time_unix_nano == unix_ns(an_hour_ago));
  CHECK(spans[1].end_time_unix_nano == spans[1].start_time_unix_nano);
  // A measured event lies within its span, here its single instant.
  REQUIRE(spans[1].events.size() == 1);
  CHECK(spans[1].events[0].time_unix_nano == spans[1].start_time_unix_nano);
}

TEST_CASE("add_event(name, time) keeps the time as given, beside measured events") {
  memory_tracer m;
  const sys::time_point sent = an_hour_ago + 5s;
  {
    auto span = m.tracer.start("consume");
    span.add_event("message sent", sent, {{"messaging.message.id", "m-1"}});
    span.add_event("measured");
    span.add_event("no attributes", sent);
  }
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  const auto& events = spans[0].events;
  REQUIRE(events.size() == 3);
  CHECK(events[0].name == "message sent");
  CHECK(events[0].time_unix_nano == unix_ns(sent));  // before the span's start: kept as given
  REQUIRE(events[0].attributes.size() == 1);
  CHECK(events[0].attributes[0].key == "messaging.message.id");
  CHECK(events[1].time_unix_nano >= spans[0].start_time_unix_nano);
  CHECK(events[1].time_unix_nano <= spans[0].end_time_unix_nano);
  CHECK(events[2].time_unix_nano == unix_ns(sent));
  CHECK(events[2].attributes.size() == 0);
}

TEST_CASE("times at or before the epoch are not given: the measured time is used") {
  memory_tracer m;
  st::span_options o;
  o.start_time = sys::time_point{} - 1s;
  {
    auto span = m.tracer.start("before the epoch", o);
    span.add_event("at the epoch", sys::time_point{});
    span.end(sys::time_point{});
  }
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  CHECK(near_now(spans[0].start_time_unix_nano));
  CHECK(near_now(spans[0].end_time_unix_nano));
  REQUIRE(spans[0].events.size() == 1);
  CHECK(near_now(spans[0].events[0].time_unix_nano));
}

TEST_CASE("a time past the nanosecond range is cut to its end, not overflowed") {
  CHECK(st::detail::unix_nano_of(sys::time_point::max()) == static_cast<std::uint64_t>(INT64_MAX));
  CHECK(st::detail::unix_nano_of(sys::time_point::min()) == 0);
  CHECK(st::detail::unix_nano_of(sys::time_point{} + 1ns) == 1);
  memory_tracer m;
  m.tracer.start("far").end(sys::time_point::max());
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  CHECK(spans[0].end_time_unix_nano == static_cast<std::uint64_t>(INT64_MAX));
}

TEST_CASE("given times travel through the batch pipeline (as records, not the compact form)") {
  auto memory = std::make_shared<st::in_memory_exporter>(false);  // behind the batch pipeline
  st::config cfg;
  cfg.exporter = "none";
  cfg.read_environment = false;
  cfg.exporters = {memory};
  auto tracer = st::tracer::create(cfg);
  st::span_options o;
  o.start_time = an_hour_ago;
  tracer.start("given start", o);  // ends at once: the name and times only
  tracer.start("given end").end(an_hour_ago + 2s);
  tracer.start("measured");
  REQUIRE(tracer.force_flush(10s));
  const auto spans = memory->spans();
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].start_time_unix_nano == unix_ns(an_hour_ago));
  CHECK(near_now(spans[0].end_time_unix_nano));
  CHECK(near_now(spans[1].start_time_unix_nano));
  CHECK(spans[1].end_time_unix_nano == spans[1].start_time_unix_nano);  // given end before the start
  CHECK(near_now(spans[2].start_time_unix_nano));
  CHECK(spans[2].end_time_unix_nano >= spans[2].start_time_unix_nano);
  for (const auto& s : spans) CHECK(s.time_form == 0);
}

TEST_CASE("end(time) on another thread than the span's own keeps the given time") {
  memory_tracer m;
  const sys::time_point at = an_hour_ago + 3s;
  st::span_options o;
  o.start_time = an_hour_ago;
  o.make_current = false;
  auto handed_over = m.tracer.start("handed over", o);
  auto current = m.tracer.start("current here");  // current on this thread: its end elsewhere is noticed here
  std::thread([&] {
    handed_over.end(at);
    current.end(at + 1s);
  }).join();
  CHECK_FALSE(m.tracer.current_context().valid());
  const auto spans = m.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[0].start_time_unix_nano == unix_ns(an_hour_ago));
  CHECK(spans[0].end_time_unix_nano == unix_ns(at));
  CHECK(near_now(spans[1].start_time_unix_nano));
  CHECK(spans[1].end_time_unix_nano == spans[1].start_time_unix_nano);  // given end before its measured start
}

TEST_CASE("given times on an unsampled or a disabled tracer's span are accepted and ignored") {
  st::config off;
  off.enabled = false;
  off.read_environment = false;
  auto disabled = st::tracer::create(off);
  st::span_options o;
  o.start_time = an_hour_ago;
  auto a = disabled.start("disabled", o);
  a.add_event("e", an_hour_ago);
  a.end(an_hour_ago);
  CHECK_FALSE(a.is_recording());

  st::config none;
  none.sampling_rate = 0.0;
  memory_tracer m(none);
  auto b = m.tracer.start("unsampled", o);
  b.add_event("e", an_hour_ago);
  b.end(an_hour_ago);
  CHECK(m.spans().empty());
}

TEST_CASE("time points of another precision: range-checked in their own units, not wrapped") {
  using namespace std::chrono;
  using sys_seconds = time_point<system_clock, seconds>;
  memory_tracer m;
  st::span_options o;
  o.start_time = sys_seconds(seconds(1'600'000'000));
  {
    auto span = m.tracer.start("coarse", o);
    span.add_event("year 1653", sys_seconds(seconds(-10'000'000'000LL)));  // before the epoch: now
    span.add_event("in seconds", sys_seconds(seconds(1'600'000'001)));
    span.add_event("in microseconds", time_point<system_clock, microseconds>(microseconds(1'600'000'002'000'003LL)));
    span.end(sys_seconds(seconds(20'000'000'000LL)));  // the year 2603: past the range, its end (it once wrapped to 2019)
  }
  const auto spans = m.spans();
  REQUIRE(spans.size() == 1);
  const st::span_data& s = spans[0];
  CHECK(s.start_time_unix_nano == 1'600'000'000'000'000'000ULL);
  CHECK(s.end_time_unix_nano == static_cast<std::uint64_t>(INT64_MAX));
  REQUIRE(s.events.size() == 3);
  CHECK(near_now(s.events[0].time_unix_nano));
  CHECK(s.events[1].time_unix_nano == 1'600'000'001'000'000'000ULL);
  CHECK(s.events[2].time_unix_nano == 1'600'000'002'000'003'000ULL);
  CHECK(st::detail::unix_nano_of(time_point<system_clock, hours>(hours(1'000'000'000))) ==
        static_cast<std::uint64_t>(INT64_MAX));
  CHECK(st::detail::unix_nano_of(time_point<system_clock, duration<double>>(duration<double>(1.5))) == 1'500'000'000ULL);
  CHECK(st::detail::unix_nano_of(time_point<system_clock, duration<long long, std::pico>>(
            duration<long long, std::pico>(2'500))) == 2);
}
