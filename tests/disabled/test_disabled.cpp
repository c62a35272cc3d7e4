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

#include <atomic>
#include <chrono>
#include <functional>
#include <ios>
#include <map>
#include <memory>
#include <optional>
#include <ostream>  // doctest prints std::error_code through it
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

#include "../support/thread_cancel.hpp"

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
    span.record_error(std::make_error_condition(std::errc::timed_out)).record_error(std::io_errc::stream);
    span.record_error("message").set_status(st::status_code::error, "bad").set_name("renamed");
    CHECK_FALSE(span.is_recording());
    CHECK_FALSE(span.context().valid());
    auto child = tracer.start("child", span.context());
    st::span_options opts;
    opts.kind = st::span_kind::consumer;
    opts.make_current = false;
    opts.start_time = std::chrono::system_clock::now() - std::chrono::seconds(1);
    auto detached = tracer.start("detached", opts);
    detached.add_event("sent", opts.start_time, {{"k", 1}}).add_event("bare", std::chrono::system_clock::now());
    detached.end(std::chrono::system_clock::now());
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

namespace {

// A user's own exporter: it must compile unchanged when tracing is compiled
// out, and is then never called.
class counting_exporter final : public st::span_exporter {
 public:
  st::export_result export_spans(const st::span_batch& batch) noexcept override {
    exported += batch.size();
    return st::export_result::success;
  }
  bool force_flush(std::chrono::milliseconds) noexcept override {
    ++flushes;
    return true;
  }
  void shutdown(std::chrono::milliseconds) noexcept override { ++shutdowns; }
  std::string_view name() const noexcept override { return "counting"; }
  std::atomic<std::size_t> exported{0};
  std::atomic<int> flushes{0};
  std::atomic<int> shutdowns{0};
};

}  // namespace

TEST_CASE("compiled out, exporters given to a tracer are never called nor kept") {
  auto mine = std::make_shared<counting_exporter>();
  st::config cfg;
  cfg.exporter = "memory";
  cfg.exporters.push_back(mine);
  cfg.read_environment = false;
  {
    auto tracer = st::tracer::create(cfg);
    tracer.start("op").end();
    CHECK(tracer.force_flush());
    CHECK(tracer.memory_exporter() == nullptr);  // as for a runtime-disabled tracer
    CHECK(mine.use_count() == 2);                // cfg's copy and ours: the tracer kept none
  }
  CHECK(mine->exported == 0);
  CHECK(mine->flushes == 0);
  CHECK(mine->shutdowns == 0);
}

TEST_CASE("compiled out, the data layer still works: config resolution and encoders") {
  // resolve_config is the same pure function in both modes.
  st::config cfg;
  cfg.otlp_endpoint = "localhost:4317";
  const st::resolved_config resolved = st::resolve_config(cfg, [](std::string_view name) -> std::optional<std::string> {
    if (name == "OTEL_SERVICE_NAME") return std::string("from-env");
    return std::nullopt;
  });
  CHECK(resolved.service_name == "from-env");
  CHECK(resolved.otlp.endpoint == "http://localhost:4318/v1/traces");

  // Encoders, over a span built by hand (as an exporter or a test would).
  st::span_data span;
  span.context = st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(3), st::trace_flags(1));
  span.name = "hand-made";
  span.start_time_unix_nano = 1000;
  span.end_time_unix_nano = 3000;
  span.attributes.set("k", std::int64_t{7});
  const st::span_data* spans[] = {&span};
  st::resource res;
  res.attributes.set("service.name", "svc");
  const st::instrumentation_scope scope;
  const st::span_batch batch(res, scope, spans, 1);
  std::string protobuf, zipkin;
  st::otlp::encode_protobuf(batch, protobuf);
  st::zipkin::encode_json_v2(batch, zipkin);
  CHECK(protobuf.find("hand-made") != std::string::npos);
  CHECK(zipkin.find("\"name\":\"hand-made\"") != std::string::npos);
  CHECK(zipkin.find("\"duration\":2") != std::string::npos);  // 2000 ns = 2 µs

  // And the in-memory exporter, fed directly.
  st::in_memory_exporter memory;
  CHECK(memory.export_spans(batch) == st::export_result::success);
  REQUIRE(memory.size() == 1);
  CHECK(memory.spans().at(0).name == "hand-made");
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
    options.start_time = std::chrono::system_clock::now();
    auto child = light::start(tracer, "child", options);
    child.add_event("sent", std::chrono::system_clock::now(), {{"k", 1}}).add_event("bare", light::unix_time());
    child.end(std::chrono::system_clock::now());
    child.add_link(light::extract(tracer, headers));
    light::inject(tracer, light::current_context(tracer), headers);
    CHECK_FALSE(child.context().valid());
    const light::baggage bag = light::extract_baggage(tracer, headers).set("k", "v").erase("x");
    CHECK(bag.empty());
    CHECK(bag.get("k").empty());
    light::inject(tracer, ctx, bag, headers);
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

#if defined(STREAMBUS_TEST_CAN_CANCEL)
TEST_CASE("compiled out: a thread cancelled inside an attempt of trace_with_retry unwinds (forced unwind rethrown)") {
  // An attempt that is not the last once swallowed the forced unwind: abort.
  st::tracer tracer;
  CHECK(cancel_support::cancelled_inside([&](const std::function<void()>& wait_for_cancel) {
    st::light::trace_with_retry(tracer, "retry", 3, wait_for_cancel);
  }));
  CHECK(cancel_support::cancelled_inside([&](const std::function<void()>& wait_for_cancel) {
    st::trace_with_retry(tracer, "retry", 3, wait_for_cancel);
  }));
  CHECK(cancel_support::cancelled_inside([&](const std::function<void()>& wait_for_cancel) {
    st::instrumented_operation(tracer, "op", wait_for_cancel);
  }));
}
#endif
