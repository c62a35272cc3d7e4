// The light API (tracing_light.hpp): spans made in light_spans.cpp, a TU that
// sees only the light header, checked here where the tracer lives. This TU
// also compiles the light API's implementation, and includes the light header
// before the full one (link_b.cpp does the other order).
#include "light_spans.hpp"

#define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
#include <streambus/tracing.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../support/memory_tracer.hpp"
#include "operations_scenario.hpp"

namespace st = streambus::tracing;

namespace {

using fixture = memory_tracer;

const st::span_data& named(const std::vector<st::span_data>& spans, std::string_view name) {
  for (const auto& s : spans)
    if (s.name == name) return s;
  FAIL("no span named " << std::string(name));
  return spans.front();
}

std::string hex(const st::trace_id& id) { return id.to_hex(); }
std::string hex(const st::span_id& id) { return id.to_hex(); }

}  // namespace

TEST_CASE("light: a span made in a light-only TU is exported with its ids") {
  fixture f;
  const st::light::span_ids ids = light_plain_span(f.tracer);
  REQUIRE(ids.valid());
  CHECK(ids.sampled);
  CHECK(std::string_view(ids.trace_id).size() == 32);
  CHECK(std::string_view(ids.span_id).size() == 16);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  CHECK(spans[0].name == "light.plain");
  CHECK(spans[0].kind == st::span_kind::internal);
  CHECK(hex(spans[0].context.trace_id()) == ids.trace_id);
  CHECK(hex(spans[0].context.span_id()) == ids.span_id);
  CHECK(spans[0].end_time_unix_nano >= spans[0].start_time_unix_nano);
}

TEST_CASE("light: attributes, events, status and name arrive as through tracing::span") {
  fixture f;
  light_full_span(f.tracer);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  const st::span_data& s = spans[0];
  CHECK(s.name == "light.renamed");
  CHECK(s.kind == st::span_kind::client);
  CHECK(*s.attributes.find("b") == st::attribute_value(true));
  CHECK(*s.attributes.find("i") == st::attribute_value(std::int64_t{-42}));
  // Above INT64_MAX: stored as its decimal string, exactly as tracing::span does.
  CHECK(*s.attributes.find("u") == st::attribute_value(std::uint64_t{18446744073709551615ULL}));
  CHECK(*s.attributes.find("u")->get_if<std::string>() == "18446744073709551615");
  CHECK(*s.attributes.find("d") == st::attribute_value(2.5));
  CHECK(*s.attributes.find("s") == st::attribute_value("text"));
  CHECK(*s.attributes.find("sv") == st::attribute_value("owned"));
  CHECK(*s.attributes.find("null") == st::attribute_value(""));  // a null const char*, as tracing::span stores it
  CHECK(*s.attributes.find("one") == st::attribute_value(std::int64_t{1}));
  CHECK(*s.attributes.find("two") == st::attribute_value("2"));
  REQUIRE(s.events.size() == 3);
  CHECK(s.events[0].name == "small");
  CHECK(*s.events[0].attributes.find("k") == st::attribute_value(std::int64_t{7}));
  CHECK(s.events[1].name == "large");  // more than eight attributes: the heap path, still one event
  CHECK(s.events[1].attributes.size() == 10);
  CHECK(*s.events[1].attributes.find("a8") == st::attribute_value(std::int64_t{8}));
  CHECK(*s.events[1].attributes.find("a9") == st::attribute_value("nine"));
  CHECK(s.events[2].name == "bare");
  CHECK(s.events[2].attributes.size() == 0);
  CHECK(s.status == st::status_code::error);
  CHECK(s.status_message == "went wrong");
}

TEST_CASE("light: record_error keeps the exception's dynamic type") {
  fixture f;
  light_error_span(f.tracer);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  REQUIRE(spans[0].events.size() == 1);
  CHECK(spans[0].events[0].name == "exception");
  CHECK(*spans[0].events[0].attributes.find("exception.type") == st::attribute_value("std::runtime_error"));
  CHECK(*spans[0].events[0].attributes.find("exception.message") == st::attribute_value("boom"));
  CHECK(spans[0].status == st::status_code::error);
}

namespace {

// record_error(connection_refused) on a light span and on an inline one, as
// exported: {light, inline}.
std::pair<st::span_data, st::span_data> error_code_spans(fixture& f) {
  light_error_code_span(f.tracer);
  {
    auto inline_span = f.tracer.start("inline.error_code");
    inline_span.record_error(std::make_error_code(std::errc::connection_refused));
  }
  const auto spans = f.spans();
  return {named(spans, "light.error_code"), named(spans, "inline.error_code")};
}

}  // namespace

TEST_CASE("light: record_error(error_code) records what the inline span's does") {
  fixture f;
  const auto [light, full] = error_code_spans(f);
  REQUIRE(light.events.size() == 1);
  REQUIRE(full.events.size() == 1);
  CHECK(light.events[0].name == full.events[0].name);
  CHECK(light.events[0].attributes.size() == full.events[0].attributes.size());
  for (const auto& key : {"exception.type", "exception.message"}) {
    REQUIRE(light.events[0].attributes.find(key) != nullptr);
    CHECK(*light.events[0].attributes.find(key) == *full.events[0].attributes.find(key));
  }
  CHECK(*light.events[0].attributes.find("exception.type") ==
        st::attribute_value("std::error_code:generic:" + std::to_string(static_cast<int>(std::errc::connection_refused))));
  CHECK(light.status == st::status_code::error);
  CHECK(light.status_message == full.status_message);
}

TEST_CASE("light: record_error(error_code) under an event attribute limit of 0 drops what the inline span drops") {
  // The light span recorded record_error(message) with the type on top: 3
  // attributes dropped where the inline span drops 2.
  st::config cfg;
  st::span_limits limits;
  limits.attributes_per_event = 0;
  cfg.limits = limits;
  fixture f(cfg);
  const auto [light, full] = error_code_spans(f);
  REQUIRE(light.events.size() == 1);
  REQUIRE(full.events.size() == 1);
  CHECK(full.events[0].attributes.dropped() == 2);
  CHECK(light.events[0].attributes.dropped() == full.events[0].attributes.dropped());
}

TEST_CASE("light: ids and context stay after end(); null strings record as empty, as through tracing::span") {
  fixture f;
  CHECK(light_edges_and_ids_after_end(f.tracer));
  {
    auto inline_span = f.tracer.start("inline.edges");
    inline_span.set_attribute("null.literal", nullptr);
    inline_span.add_event("edges", {{"null.literal", nullptr}});
    inline_span.record_error(static_cast<const char*>(nullptr));
    const st::span_context before = inline_span.context();
    inline_span.end();
    CHECK(inline_span.context() == before);
  }
  const auto spans = f.spans();
  const auto& light = named(spans, "light.edges");
  const auto& full = named(spans, "inline.edges");
  REQUIRE(light.attributes.find("null.literal") != nullptr);
  CHECK(*light.attributes.find("null.literal") == st::attribute_value(""));
  CHECK(*light.attributes.find("null.literal") == *full.attributes.find("null.literal"));
  REQUIRE(light.events.size() == 2);  // "edges", "exception"
  REQUIRE(full.events.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(light.events[i].name == full.events[i].name);
    CHECK(light.events[i].attributes.size() == full.events[i].attributes.size());
    for (const auto* key : {"null.literal", "exception.type", "exception.message"}) {
      const st::attribute_value* l = light.events[i].attributes.find(key);
      const st::attribute_value* r = full.events[i].attributes.find(key);
      CHECK((l == nullptr) == (r == nullptr));
      if (l != nullptr && r != nullptr) CHECK(*l == *r);
    }
  }
  CHECK(light.status == st::status_code::error);
  CHECK(light.status_message == full.status_message);
}

TEST_CASE("light: light and inline spans share the current-span stack") {
  fixture f;
  {
    // inline parent, light child
    auto outer = f.tracer.start("inline.outer");
    light_plain_span(f.tracer);
  }
  // light parent, inline child
  light_parent_of(f.tracer, [](st::tracer& t) { auto inner = t.start("inline.inner"); });
  const auto spans = f.spans();
  REQUIRE(spans.size() == 4);
  const auto& outer = named(spans, "inline.outer");
  const auto& plain = named(spans, "light.plain");
  const auto& parent = named(spans, "light.parent");
  const auto& inner = named(spans, "inline.inner");
  CHECK(plain.parent_span_id == outer.context.span_id());
  CHECK(plain.context.trace_id() == outer.context.trace_id());
  CHECK(inner.parent_span_id == parent.context.span_id());
  CHECK(inner.context.trace_id() == parent.context.trace_id());
  CHECK_FALSE(parent.parent_span_id.valid());  // the outer span had ended: a new trace
}

TEST_CASE("light: inject and start-from-headers round trip through the tracer's propagators") {
  fixture f;
  std::map<std::string, std::string> headers{{"TraceParent", "stale"}, {"x-other", "kept"}};
  std::string sent_span;
  {
    auto client = f.tracer.start("client", st::span_kind::client);
    sent_span = client.context().span_id().to_hex();
    light_inject(f.tracer, headers);
  }
  CHECK(headers.count("TraceParent") == 0);  // replaced in any case, as tracer.inject does
  CHECK(headers.at("x-other") == "kept");
  REQUIRE(headers.count("traceparent") == 1);
  CHECK(headers.at("traceparent").find(sent_span) != std::string::npos);

  const st::light::span_ids server = light_server_span(f.tracer, headers);
  const auto spans = f.spans();
  const auto& client = named(spans, "client");
  const auto& s = named(spans, "light.server");
  CHECK(s.kind == st::span_kind::server);
  CHECK(s.parent_span_id == client.context.span_id());
  CHECK(hex(s.context.trace_id()) == server.trace_id);
  CHECK(hex(client.context.trace_id()) == server.trace_id);

  // Without (or with a broken) traceparent: a new trace.
  const st::light::span_ids fresh = light_server_span(f.tracer, {{"traceparent", "00-zz-zz-01"}});
  CHECK(fresh.valid());
  CHECK(std::string(fresh.trace_id) != std::string(server.trace_id));
}

TEST_CASE("light: moved-from, ended and default spans are no-ops") {
  fixture f;
  CHECK(light_moves_and_ends(f.tracer));
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  CHECK(spans[0].name == "light.moved");
  CHECK(spans[0].attributes.find("after.end") == nullptr);
}

TEST_CASE("light: a disabled or unsampled tracer gives spans that record nothing") {
  st::tracer disabled;  // default: disabled
  CHECK_FALSE(light_plain_span(disabled).valid());
  std::map<std::string, std::string> headers;
  light_inject(disabled, headers);
  CHECK(headers.empty());

  st::config cfg;
  cfg.sampling_rate = 0.0;
  fixture f(cfg);
  const st::light::span_ids ids = light_plain_span(f.tracer);
  CHECK(ids.valid());  // an unsampled span still has ids to propagate
  CHECK_FALSE(ids.sampled);
  light_full_span(f.tracer);
  CHECK(f.spans().empty());
}

TEST_CASE("light: current_ids names the thread's current span, light or inline") {
  fixture f;
  CHECK(light_current_ids_match(f.tracer));
  {
    auto inline_span = f.tracer.start("inline.current");
    const st::light::span_ids ids = st::light::current_ids(f.tracer);
    CHECK(hex(inline_span.context().span_id()) == ids.span_id);
  }
  CHECK_FALSE(st::light::current_ids(f.tracer).valid());
  st::tracer disabled;
  CHECK_FALSE(st::light::current_ids(disabled).valid());
}

TEST_CASE("light: a context handed to another thread parents the spans started there") {
  fixture f;
  light_handoff_to_thread(f.tracer);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 3);
  const auto& parent = named(spans, "light.handoff.parent");
  const auto& child = named(spans, "light.handoff.child");
  const auto& grandchild = named(spans, "light.handoff.grandchild");
  CHECK(child.parent_span_id == parent.context.span_id());
  CHECK(child.context.trace_id() == parent.context.trace_id());
  CHECK_FALSE(child.parent_is_remote);
  CHECK(grandchild.parent_span_id == child.context.span_id());
  CHECK(grandchild.context.trace_id() == parent.context.trace_id());
}

TEST_CASE("light: a span started with make_current = false ends on another thread without complaint") {
  std::vector<std::string> diagnostics;
  st::config cfg;
  cfg.on_diagnostic = [&](std::string_view m) { diagnostics.emplace_back(m); };
  fixture f(cfg);
  light_span_ended_on_another_thread(f.tracer);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  const auto& async = named(spans, "light.async");
  const auto& after = named(spans, "light.after");  // the async span was never current
  CHECK(async.kind == st::span_kind::consumer);
  CHECK_FALSE(after.parent_span_id.valid());
  CHECK(diagnostics.empty());
}

TEST_CASE("light: new_root ignores the current span; an explicit parent wins over it") {
  fixture f;
  const std::map<std::string, std::string> headers{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {"tracestate", "vendor=value"}};
  light_new_root_and_explicit_parent(f.tracer, headers);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 4);
  const auto& outer = named(spans, "light.outer");
  const auto& fresh = named(spans, "light.new_root");
  const auto& served = named(spans, "light.remote_child");
  const auto& orphan = named(spans, "light.invalid_parent");
  CHECK_FALSE(fresh.parent_span_id.valid());
  CHECK(fresh.context.trace_id() != outer.context.trace_id());
  CHECK(served.kind == st::span_kind::server);
  CHECK(hex(served.context.trace_id()) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(hex(served.parent_span_id) == "00f067aa0ba902b7");
  CHECK(served.parent_is_remote);
  CHECK(served.context.trace_state().header() == "vendor=value");
  CHECK_FALSE(orphan.parent_span_id.valid());  // an invalid parent: a new trace, not the current span's child
  CHECK(orphan.context.trace_id() != outer.context.trace_id());
}

TEST_CASE("light: inject writes a given context; an invalid one writes no trace headers") {
  fixture f;
  std::map<std::string, std::string> headers, untouched{{"x-other", "kept"}};
  light_produce(f.tracer, headers, untouched);
  const auto spans = f.spans();
  const auto& send = named(spans, "light.send");
  const auto& outer = named(spans, "light.produce.outer");
  CHECK(send.kind == st::span_kind::producer);
  CHECK(send.parent_span_id == outer.context.span_id());
  REQUIRE(headers.count("traceparent") == 1);
  const std::string prefix = "00-" + hex(send.context.trace_id()) + "-" + hex(send.context.span_id()) + "-";
  CHECK(headers.at("traceparent").compare(0, prefix.size(), prefix) == 0);  // then the flags: sampled (and random)
  std::map<std::string, std::string> expected;
  f.tracer.inject(send.context, expected);
  CHECK(headers == expected);
  CHECK(untouched == std::map<std::string, std::string>{{"x-other", "kept"}});
}

TEST_CASE("light: add_link links a consumer span to each message's context") {
  fixture f;
  const std::vector<std::map<std::string, std::string>> messages{
      {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
      {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}, {"tracestate", "a=1"}},
      {{"traceparent", "not a traceparent"}},  // invalid: no link
  };
  light_consume_batch(f.tracer, messages);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  const auto& links = spans[0].links;
  REQUIRE(links.size() == 2);
  CHECK(hex(links[0].context.trace_id()) == "0af7651916cd43dd8448eb211c80319c");
  CHECK(hex(links[0].context.span_id()) == "b7ad6b7169203331");
  CHECK(links[0].context.sampled());
  CHECK(hex(links[1].context.span_id()) == "00f067aa0ba902b7");
  CHECK_FALSE(links[1].context.sampled());
  CHECK(links[1].context.trace_state().header() == "a=1");
}

TEST_CASE("light: span contexts are values that outlive their span") {
  fixture f;
  CHECK(light_context_values(f.tracer) == "ok");
  st::tracer disabled;
  CHECK_FALSE(st::light::current_context(disabled).valid());
  const std::map<std::string, std::string> headers{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  // Disabled, context is still read and passed on (OTEL_SDK_DISABLED "has no effect on propagators").
  const st::light::span_context parent = st::light::extract(disabled, headers);
  CHECK(parent.valid());
  st::light::span server = st::light::start(disabled, "server", headers, st::span_kind::server);
  CHECK_FALSE(server.is_recording());
  CHECK(std::string(st::light::current_ids(disabled).span_id) == "b7ad6b7169203331");
  std::map<std::string, std::string> outgoing;
  { auto send = st::light::trace_produce_message(disabled, "orders", 0, "k", "v", outgoing); }
  CHECK(outgoing["traceparent"] == headers.at("traceparent"));
  server.end();
  CHECK_FALSE(st::light::current_context(disabled).valid());
}

namespace {
// light_messaging, written with the full header's helpers.
void full_messaging(st::tracer& tracer, std::map<std::string, std::string>& headers) {
  { auto send = st::trace_produce_message(tracer, "orders", 3, "order-1", "a body", headers); }
  {
    const std::map<std::string, std::string>& incoming = headers;
    auto process = st::trace_consume_message(tracer, "orders", 3, 42, incoming);
  }
  { auto orphan = st::trace_consume_message(tracer, "orders", -1, 7); }
  { auto plain = st::trace_produce_message(tracer, "orders", -1, "", ""); }
}
}  // namespace

TEST_CASE("light: the messaging helpers make the spans the full helpers make") {
  fixture light_side, full_side;
  std::map<std::string, std::string> light_headers{{"x-other", "kept"}}, full_headers{{"x-other", "kept"}};
  light_messaging(light_side.tracer, light_headers);
  full_messaging(full_side.tracer, full_headers);
  const auto got = light_side.spans(), want = full_side.spans();
  REQUIRE(got.size() == 4);
  REQUIRE(want.size() == 4);
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].kind == want[i].kind);
    CHECK(got[i].parent_span_id.valid() == want[i].parent_span_id.valid());
    CHECK(got[i].links.size() == want[i].links.size());
    REQUIRE(got[i].attributes.size() == want[i].attributes.size());
    for (std::size_t a = 0; a < got[i].attributes.size(); ++a) {
      CHECK(got[i].attributes[a].key == want[i].attributes[a].key);
      CHECK(got[i].attributes[a].value == want[i].attributes[a].value);
    }
  }
  // Not vacuous: the producer wrote its context, and the consumer continued it.
  const auto& send = got[0];
  const auto& process = got[1];
  CHECK(send.name == "send orders");
  CHECK(send.kind == st::span_kind::producer);
  CHECK(send.attributes.size() >= 5);
  REQUIRE(light_headers.count("traceparent") == 1);
  CHECK(light_headers.at("traceparent").find(hex(send.context.span_id())) != std::string::npos);
  CHECK(light_headers.at("x-other") == "kept");
  CHECK(process.name == "process orders");
  CHECK(process.kind == st::span_kind::consumer);
  CHECK(process.parent_span_id == send.context.span_id());
  CHECK(process.context.trace_id() == send.context.trace_id());
  REQUIRE(process.links.size() == 1);
  CHECK(process.links[0].context.span_id() == send.context.span_id());
  CHECK_FALSE(got[2].parent_span_id.valid());  // consumed without headers: a new trace
  CHECK(got[2].context.trace_id() != send.context.trace_id());

  // A disabled tracer: no spans, no headers written.
  st::tracer disabled;
  std::map<std::string, std::string> untouched;
  light_messaging(disabled, untouched);
  CHECK(untouched.empty());
}

namespace {
bool same_attributes(const st::attribute_list& a, const st::attribute_list& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
  return true;
}
}  // namespace

TEST_CASE("light: instrumented_operation records what the full header's records, and returns results unchanged") {
  fixture light_side, full_side;
  CHECK(light_operations(light_side.tracer) == "ok");
  CHECK(scenario::operations([&](const char* name, auto&& fn) -> decltype(auto) {
          return st::instrumented_operation(full_side.tracer, name, std::forward<decltype(fn)>(fn));
        }) == "ok");
  const auto got = light_side.spans(), want = full_side.spans();
  REQUIRE(got.size() == 16);
  REQUIRE(want.size() == got.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(std::string(want[i].name.view()));
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].kind == want[i].kind);
    CHECK(got[i].status == want[i].status);
    CHECK(got[i].status_message == want[i].status_message);
    CHECK(same_attributes(got[i].attributes, want[i].attributes));
    REQUIRE(got[i].events.size() == want[i].events.size());
    for (std::size_t e = 0; e < got[i].events.size(); ++e) {
      CHECK(got[i].events[e].name == want[i].events[e].name);
      CHECK(same_attributes(got[i].events[e].attributes, want[i].events[e].attributes));
    }
  }
  // Not vacuous: the failures were recognised (the full header's own tests
  // pin each description down).
  const auto status_of = [&](std::string_view name) { return named(got, name).status; };
  for (const char* failed : {"op.false", "op.code", "op.errc", "op.expected.code", "op.expected.errc",
                             "op.expected.text", "op.expected.ptr", "op.expected.custom", "op.throw", "op.throw.int"}) {
    CAPTURE(failed);
    CHECK(status_of(failed) == st::status_code::error);
  }
  for (const char* fine : {"op.value", "op.reference", "op.void", "op.code.zero", "op.errc.zero", "op.expected.fine"}) {
    CAPTURE(fine);
    CHECK(status_of(fine) == st::status_code::unset);
  }
  CHECK(named(got, "op.expected.ptr").status_message == "too long");
  CHECK(named(got, "op.throw").events.size() == 1);
  CHECK(named(got, "op.void").attributes.find("op.step") != nullptr);
}

TEST_CASE("light: trace_with_retry records what the full header's records, and returns results unchanged") {
  fixture light_side, full_side;
  CHECK(light_retries(light_side.tracer) == "ok");
  CHECK(scenario::retries([&](const char* name, int max_attempts, auto&& fn, int initial_ms) -> decltype(auto) {
          st::retry_backoff backoff;
          backoff.initial = std::chrono::milliseconds(initial_ms);
          return st::trace_with_retry(full_side.tracer, name, max_attempts, std::forward<decltype(fn)>(fn), backoff);
        }) == "ok");
  const auto got = light_side.spans(), want = full_side.spans();
  REQUIRE(got.size() == want.size());
  REQUIRE(got.size() >= 20);
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(std::string(want[i].name.view()));
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].status == want[i].status);
    CHECK(got[i].status_message == want[i].status_message);
    CHECK(same_attributes(got[i].attributes, want[i].attributes));
    CHECK((got[i].parent_span_id == got[0].context.span_id()) == (want[i].parent_span_id == want[0].context.span_id()));
    REQUIRE(got[i].events.size() == want[i].events.size());
    for (std::size_t e = 0; e < got[i].events.size(); ++e) {
      CHECK(got[i].events[e].name == want[i].events[e].name);
      CHECK(same_attributes(got[i].events[e].attributes, want[i].events[e].attributes));
    }
  }
  // Not vacuous: the exceptions' parent has 3 attempt children and 2 retry
  // events with the backoff's delays (1 ms, then 2 ms).
  const auto& parent = named(got, "retry.exceptions");
  std::size_t children = 0;
  for (const auto& s : got)
    if (s.name == "retry.exceptions attempt" && s.parent_span_id == parent.context.span_id()) ++children;
  CHECK(children == 3);
  REQUIRE(parent.events.size() == 2);
  CHECK(*parent.events[1].attributes.find("retry.delay_ms") == st::attribute_value(2));
  CHECK(*parent.events[0].attributes.find("error.message") == st::attribute_value("attempt 1 failed"));
  CHECK(parent.status == st::status_code::unset);
  CHECK(named(got, "retry.codes").status == st::status_code::error);
  CHECK(named(got, "retry.rethrow").status == st::status_code::error);
}

TEST_CASE("light: baggage is read from incoming headers and passed on, with entries added and removed") {
  fixture f;
  const std::map<std::string, std::string> incoming{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"baggage", "user=alice%20smith;origin=edge,drop-me=1;prop"}};
  std::map<std::string, std::string> outgoing{{"baggage", "stale=1"}};
  CHECK(light_forward_baggage(f.tracer, incoming, outgoing) == "ok");
  REQUIRE(outgoing.count("baggage") == 1);
  // Checked with the full header's parser, not our own expectations of the text.
  const st::baggage sent = st::baggage::from_header(outgoing.at("baggage"));
  REQUIRE(sent.size() == 2);
  CHECK(sent.get("user") == std::optional<std::string_view>("alice smith"));
  REQUIRE(sent.find("user") != nullptr);
  CHECK(sent.find("user")->properties == "origin=edge");  // passed on unchanged
  CHECK(sent.get("hop") == std::optional<std::string_view>("light"));
  CHECK_FALSE(sent.get("stale"));
  REQUIRE(outgoing.count("traceparent") == 1);
  CHECK(outgoing.at("traceparent").find("4bf92f3577b34da6a3ce929d0e0e4736") != std::string::npos);
  const auto spans = f.spans();
  const auto& server = named(spans, "light.forward");
  CHECK(outgoing.at("traceparent").find(server.context.span_id().to_hex()) != std::string::npos);
}

TEST_CASE("light: given start, end and event times are kept as given, as the full API's") {
  using sys = std::chrono::system_clock;
  fixture f;
  const sys::time_point start = sys::now() - std::chrono::hours(1);
  const sys::time_point sent = start - std::chrono::seconds(2);
  const sys::time_point end = start + std::chrono::milliseconds(1500);
  light_given_times(f.tracer, start, sent, end);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  const st::span_data& s = spans[0];
  const auto ns = [](sys::time_point t) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  CHECK(s.start_time_unix_nano == ns(start));
  CHECK(s.end_time_unix_nano == ns(end));
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].time_unix_nano == ns(sent));
  REQUIRE(s.events[0].attributes.size() == 1);
  CHECK(s.events[1].time_unix_nano == ns(end));  // measured now, after the given end: within the span, at its end
}

TEST_CASE("light: unix_time is made from system_clock time points of any period, and from no other clock") {
  using st::light::unix_time;
  using namespace std::chrono;
  const auto at = [](auto d) { return time_point<system_clock, decltype(d)>(d); };
  CHECK(unix_time(at(seconds(1700000000))).nanoseconds() == 1700000000000000000ULL);
  CHECK(unix_time(at(milliseconds(1700000000123))).nanoseconds() == 1700000000123000000ULL);
  CHECK(unix_time(at(microseconds(1700000000123456))).nanoseconds() == 1700000000123456000ULL);
  CHECK(unix_time(at(nanoseconds(1700000000123456789))).nanoseconds() == 1700000000123456789ULL);
  CHECK(unix_time(at(duration<double>(1.5))).nanoseconds() == 1500000000ULL);
  CHECK(unix_time(at(duration<long long, std::pico>(2500))).nanoseconds() == 2);  // finer than a nanosecond: cut
  CHECK(unix_time(system_clock::time_point{}).nanoseconds() == 0);             // the epoch: not given
  CHECK(unix_time(at(seconds(-5))).nanoseconds() == 0);                         // before it: not given
  CHECK(unix_time(at(duration<double>(std::numeric_limits<double>::quiet_NaN()))).nanoseconds() == 0);
  CHECK(unix_time(at(hours(1000000000))).nanoseconds() == static_cast<std::uint64_t>(INT64_MAX));  // past 2262
  CHECK(unix_time(at(duration<double>(1e300))).nanoseconds() == static_cast<std::uint64_t>(INT64_MAX));
  CHECK(unix_time(system_clock::time_point::max()).nanoseconds() == static_cast<std::uint64_t>(INT64_MAX));
  CHECK(unix_time::from_nanoseconds(42).nanoseconds() == 42);
  CHECK(unix_time::from_nanoseconds(UINT64_MAX).nanoseconds() == static_cast<std::uint64_t>(INT64_MAX));
  const auto now = system_clock::now();
  CHECK(unix_time(now).nanoseconds() == st::detail::unix_nano_of(now));
  static_assert(!std::is_convertible_v<steady_clock::time_point, unix_time>, "another epoch: not a unix_time");
  static_assert(!std::is_convertible_v<int, unix_time>, "a bare count says no unit");
  static_assert(std::is_convertible_v<system_clock::time_point, unix_time>);
}
