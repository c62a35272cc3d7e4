// cpp-httplib's header map works as a carrier with no adapter code: it is a
// std::multimap with a case-insensitive comparator, which the generic
// multimap adapter covers. Skipped where cpp-httplib is not installed.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#if __has_include(<httplib.h>)
#include <httplib.h>

namespace st = streambus::tracing;

TEST_CASE("httplib::Headers round-trips traceparent and tracestate") {
  const st::span_context ctx(st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736"),
                             st::span_id::from_hex("00f067aa0ba902b7"), st::trace_flags(0x03), false,
                             st::trace_state::from_header("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
  httplib::Headers headers{{"Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                           {"Content-Type", "text/plain"}};
  st::inject(ctx, headers);
  CHECK(headers.count("traceparent") == 1);  // the old value, in another case, was replaced
  CHECK(headers.find("TRACEPARENT")->second == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  CHECK(headers.find("tracestate")->second == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  CHECK(headers.count("content-type") == 1);

  const auto back = st::extract(headers);
  CHECK(back.valid());
  CHECK(back.is_remote());
  CHECK(back.trace_id() == ctx.trace_id());
  CHECK(back.span_id() == ctx.span_id());
  CHECK(back.flags() == ctx.flags());
  CHECK(back.trace_state() == ctx.trace_state());
}

TEST_CASE("httplib::Headers with repeated tracestate headers are joined in order") {
  httplib::Headers headers;
  headers.emplace("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  headers.emplace("TraceState", "rojo=00f067aa0ba902b7");
  headers.emplace("tracestate", "congo=t61rcWkgMzE");
  const auto ctx = st::extract(headers);
  REQUIRE(ctx.valid());
  CHECK(ctx.trace_state().header() == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}
#endif
