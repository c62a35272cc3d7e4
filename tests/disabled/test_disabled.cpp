// With STREAMBUS_TRACING_DISABLED the whole public API still compiles and
// does nothing: no spans, no context, no threads.
#ifndef STREAMBUS_TRACING_DISABLED
#error "this test must be compiled with STREAMBUS_TRACING_DISABLED"
#endif

#include <doctest/doctest.h>
// The light API's trace_with_retry still waits between attempts when
// compiled out: that part of its implementation is compiled here.
#define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
#include <streambus/tracing.hpp>

#include <map>
#include <ostream>  // doctest prints std::error_code through it
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace st = streambus::tracing;

TEST_CASE("the compiled-out API accepts every call and records nothing") {
  st::config cfg;
  cfg.service_name = "svc";
  cfg.exporter = "otlp";
  cfg.sampling_rate = 0.5;
  auto tracer = st::tracer::create(cfg);
  CHECK_FALSE(tracer.is_enabled());
  CHECK(tracer.settings() == nullptr);

  st::span_context ctx;
  {
    auto span = tracer.start("op", st::span_kind::server);
    span.set_attribute("user_id", 123).set_attribute("action", "create").set_attributes({{"a", 1}});
    span.add_event("event", {{"valid", true}}).add_link(ctx);
    span.record_error(std::runtime_error("x")).record_error(std::make_error_code(std::errc::timed_out));
    span.record_error("message").set_status(st::status_code::error, "bad").set_name("renamed");
    CHECK_FALSE(span.is_recording());
    CHECK_FALSE(span.context().valid());
    auto child = tracer.start("child", span.context());
    st::span_options opts;
    opts.kind = st::span_kind::consumer;
    opts.make_current = false;
    auto detached = tracer.start("detached", opts);
    detached.end();
  }
  tracer.set_attribute("k", 1);
  tracer.set_attributes({{"k", 2}});
  tracer.add_event("e");
  tracer.record_error(std::runtime_error("x"));
  tracer.record_error("y");
  tracer.set_status(st::status_code::ok);
  CHECK_FALSE(tracer.current_context().valid());

  std::map<std::string, std::string> headers;
  tracer.inject(headers);
  tracer.inject_trace_context(headers);
  CHECK(headers.empty());
  headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  CHECK_FALSE(tracer.extract(headers).valid());
  CHECK_FALSE(tracer.extract_trace_context(headers).valid());
  CHECK(tracer.force_flush());
  CHECK(tracer.shutdown());
}

TEST_CASE("compiled-out spans and tracers are empty types") {
  CHECK(std::is_empty_v<st::span>);
  CHECK(std::is_empty_v<st::tracer>);
}

TEST_CASE("the compiled-out light API accepts every call and records nothing") {
  namespace light = st::light;
  auto tracer = st::tracer::create();
  std::map<std::string, std::string> headers{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  {
    auto span = light::start(tracer, "op", st::span_kind::server);
    span.set_attribute("i", 1).set_attribute("s", "v").set_attributes({{"a", 1.5}, {"b", true}});
    span.add_event("e", {{"k", 2u}}).add_event("bare").set_status(st::status_code::error, "bad").set_name("renamed");
    span.record_error(std::runtime_error("x")).record_error("message");
    CHECK_FALSE(span.is_recording());
    CHECK_FALSE(span.ids().valid());
    light::inject(tracer, headers);
    auto server = light::start(tracer, "server", headers, st::span_kind::server);
    CHECK_FALSE(server.ids().valid());
    CHECK_FALSE(light::current_ids(tracer).valid());
    const light::span_context ctx = span.context();
    CHECK_FALSE(ctx.valid());
    CHECK_FALSE(ctx.ids().valid());
    light::start_options options;
    options.parent = &ctx;
    options.make_current = false;
    auto child = light::start(tracer, "child", options);
    child.add_link(light::extract(tracer, headers));
    light::inject(tracer, light::current_context(tracer), headers);
    CHECK_FALSE(child.context().valid());
    auto send = light::trace_produce_message(tracer, "orders", 0, "key", "value", headers);
    auto process = light::trace_consume_message(tracer, "orders", 0, 42, headers);
    auto orphan = light::trace_consume_message(tracer, "orders", 0, 43);
    auto plain = light::trace_produce_message(tracer, "orders", 0, "key", "value");
    CHECK_FALSE((send.is_recording() || process.is_recording() || orphan.is_recording() || plain.is_recording()));
    CHECK(light::instrumented_operation(tracer, "op", [] { return 42; }) == 42);
    int runs = 0;
    light::instrumented_operation(tracer, "op", [&](light::span& s) {
      s.set_attribute("k", 1);
      ++runs;
    });
    CHECK(runs == 1);
    CHECK_THROWS_AS(light::instrumented_operation(tracer, "op", []() -> int { throw std::runtime_error("x"); }),
                    std::runtime_error);
    int attempts = 0;
    light::retry_backoff_ms backoff;
    backoff.initial_ms = 1;
    CHECK(light::trace_with_retry(tracer, "retry", 3, [&](int attempt) {
            ++attempts;
            return attempt == 2;
          }, backoff));
    CHECK(attempts == 2);
    CHECK(light::trace_with_retry(tracer, "retry", 2, [](light::span&, int) { return std::make_error_code(std::errc::timed_out); }) ==
          std::make_error_code(std::errc::timed_out));
    CHECK_THROWS_AS(light::trace_with_retry(tracer, "retry", 2, []() -> int { throw std::out_of_range("x"); }),
                    std::out_of_range);
    CHECK_THROWS_AS(light::trace_with_retry(tracer, "retry", 0, [] {}), std::invalid_argument);
    light::trace_with_retry(tracer, "retry", 1, [] {});
    span.end();
  }
  CHECK(headers.size() == 1);  // nothing written
  static_assert(std::is_empty_v<light::span>, "a compiled-out light span carries no state");
  static_assert(std::is_empty_v<light::span_context>, "a compiled-out light context carries no state");
}
