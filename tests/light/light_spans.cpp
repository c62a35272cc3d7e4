// An instrumented source file that includes only the light header: it must
// compile without the rest of the library (checked below for libstdc++'s
// heavy headers) and its spans must reach the tracer created elsewhere.
#include <streambus/tracing_light.hpp>

// Checked before anything else is included (libstdc++'s include guards).
#if defined(__GLIBCXX__) &&                                                                              \
    (defined(_GLIBCXX_STRING) || defined(_GLIBCXX_MAP) || defined(_GLIBCXX_VECTOR) ||                    \
     defined(_GLIBCXX_THREAD) || defined(_GLIBCXX_MUTEX) || defined(_GLIBCXX_VARIANT) ||                  \
     defined(_GLIBCXX_FUNCTIONAL) || defined(_GLIBCXX_CHRONO) || defined(_GLIBCXX_MEMORY))
#error "the light header pulled in a heavy standard header"
#endif

#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "light_spans.hpp"
#include "operations_scenario.hpp"

namespace light = streambus::tracing::light;
using streambus::tracing::span_kind;
using streambus::tracing::status_code;

light::span_ids light_plain_span(streambus::tracing::tracer& tracer) {
  auto span = light::start(tracer, "light.plain");
  return span.ids();
}

light::span_ids light_full_span(streambus::tracing::tracer& tracer) {
  auto span = light::start(tracer, "light.full", span_kind::client);
  span.set_attribute("b", true)
      .set_attribute("i", -42)
      .set_attribute("u", 18446744073709551615ULL)
      .set_attribute("d", 2.5)
      .set_attribute("s", "text")
      .set_attribute("sv", std::string("owned"))
      .set_attribute("null", static_cast<const char*>(nullptr));
  span.set_attributes({{"one", 1}, {"two", "2"}});
  span.add_event("small", {{"k", 7}});
  span.add_event("large", {{"a0", 0}, {"a1", 1}, {"a2", 2}, {"a3", 3}, {"a4", 4}, {"a5", 5}, {"a6", 6}, {"a7", 7},
                           {"a8", 8}, {"a9", "nine"}});
  span.add_event("bare");
  span.set_status(status_code::error, "went wrong");
  span.set_name("light.renamed");
  return span.ids();
}

light::span_ids light_error_span(streambus::tracing::tracer& tracer) {
  auto span = light::start(tracer, "light.error");
  span.record_error(std::runtime_error("boom"));
  return span.ids();
}

void light_error_code_span(streambus::tracing::tracer& tracer) {
  auto span = light::start(tracer, "light.error_code");
  span.record_error(std::make_error_code(std::errc::connection_refused));
}

light::span_ids light_parent_of(streambus::tracing::tracer& tracer, void (*child)(streambus::tracing::tracer&)) {
  auto span = light::start(tracer, "light.parent");
  child(tracer);
  return span.ids();
}

void light_inject(streambus::tracing::tracer& tracer, std::map<std::string, std::string>& headers) {
  light::inject(tracer, headers);
}

light::span_ids light_server_span(streambus::tracing::tracer& tracer, const std::map<std::string, std::string>& headers) {
  auto span = light::start(tracer, "light.server", headers, span_kind::server);
  return span.ids();
}

bool light_edges_and_ids_after_end(streambus::tracing::tracer& tracer) {
  light::span s = light::start(tracer, "light.edges");
  s.set_attribute("null.literal", nullptr);
  s.add_event("edges", {{"null.literal", nullptr}});
  s.record_error(static_cast<const char*>(nullptr));
  const light::span_ids before = s.ids();
  s.end();
  const light::span_ids after = s.ids();
  return before.valid() && after.valid() && std::string(before.trace_id) == after.trace_id &&
         std::string(before.span_id) == after.span_id && s.context().valid();
}

bool light_moves_and_ends(streambus::tracing::tracer& tracer) {
  light::span a = light::start(tracer, "light.moved");
  light::span b = std::move(a);
  const bool moved_ok = !a.is_recording() && b.is_recording() && !a.ids().valid();  // NOLINT(bugprone-use-after-move)
  light::span c;
  c = std::move(b);
  c.end();
  c.end();  // idempotent
  c.set_attribute("after.end", 1);
  light::span empty;
  return moved_ok && !c.is_recording() && !empty.is_recording() && !empty.ids().valid();
}

bool light_current_ids_match(streambus::tracing::tracer& tracer) {
  const bool none_before = !light::current_ids(tracer).valid();
  auto span = light::start(tracer, "light.current");
  const light::span_ids mine = span.ids(), current = light::current_ids(tracer);
  return none_before && current.valid() && std::string(mine.trace_id) == current.trace_id &&
         std::string(mine.span_id) == current.span_id && current.sampled == mine.sampled;
}

void light_handoff_to_thread(streambus::tracing::tracer& tracer) {
  auto parent = light::start(tracer, "light.handoff.parent");
  const light::span_context handed = parent.context();
  std::thread worker([&tracer, handed] {
    light::start_options options;
    options.parent = &handed;
    auto child = light::start(tracer, "light.handoff.child", options);
    auto grandchild = light::start(tracer, "light.handoff.grandchild");  // under the child: it is current here
  });
  worker.join();
}

void light_span_ended_on_another_thread(streambus::tracing::tracer& tracer) {
  light::start_options options;
  options.make_current = false;
  options.kind = span_kind::consumer;
  light::span async = light::start(tracer, "light.async", options);
  const bool nothing_current = !light::current_ids(tracer).valid();
  std::thread worker([s = std::move(async)]() mutable { s.end(); });
  worker.join();
  auto after = light::start(tracer, nothing_current ? "light.after" : "light.after.but.async.was.current");
}

void light_new_root_and_explicit_parent(streambus::tracing::tracer& tracer, const std::map<std::string, std::string>& headers) {
  auto outer = light::start(tracer, "light.outer");
  light::start_options root;
  root.new_root = true;
  { auto fresh = light::start(tracer, "light.new_root", root); }
  const light::span_context remote = light::extract(tracer, headers);
  light::start_options child;
  child.parent = &remote;
  child.kind = span_kind::server;
  { auto served = light::start(tracer, "light.remote_child", child); }
  const light::span_context invalid;
  child.parent = &invalid;
  { auto orphan = light::start(tracer, "light.invalid_parent", child); }
}

void light_produce(streambus::tracing::tracer& tracer, std::map<std::string, std::string>& headers,
                   std::map<std::string, std::string>& untouched) {
  auto outer = light::start(tracer, "light.produce.outer");
  light::start_options options;
  options.kind = span_kind::producer;
  options.make_current = false;
  auto send = light::start(tracer, "light.send", options);
  light::inject(tracer, send.context(), headers);
  light::inject(tracer, light::span_context(), untouched);
}

void light_consume_batch(streambus::tracing::tracer& tracer, const std::vector<std::map<std::string, std::string>>& messages) {
  auto receive = light::start(tracer, "light.receive", span_kind::consumer);
  for (const auto& headers : messages) receive.add_link(light::extract(tracer, headers));
}

std::string light_context_values(streambus::tracing::tracer& tracer) {
  light::span_context kept, assigned;
  light::span_ids ids;
  {
    auto span = light::start(tracer, "light.context");
    ids = span.ids();
    const light::span_context current = light::current_context(tracer);
    if (!current.valid() || std::string(current.ids().span_id) != ids.span_id) return "current_context is not the span";
    kept = span.context();
    assigned = kept;
    const light::span_context& same = assigned;
    assigned = same;  // self-assignment keeps it
  }
  if (light::current_context(tracer).valid()) return "a context is current after the span ended";
  if (!kept.valid() || std::string(kept.ids().span_id) != ids.span_id) return "kept context lost its ids";
  if (std::string(assigned.ids().trace_id) != ids.trace_id || !assigned.ids().sampled) return "assigned context differs";
  light::span_context moved = std::move(assigned);
  if (!moved.valid()) return "moved context is invalid";
  assigned = light::span_context();
  if (assigned.valid() || assigned.ids().valid()) return "a default context is valid";
  light::span none;
  if (none.context().valid()) return "a default span has a valid context";
  return "ok";
}

void light_messaging(streambus::tracing::tracer& tracer, std::map<std::string, std::string>& headers) {
  { auto send = light::trace_produce_message(tracer, "orders", 3, "order-1", "a body", headers); }
  {
    const std::map<std::string, std::string>& incoming = headers;
    auto process = light::trace_consume_message(tracer, "orders", 3, 42, incoming);
  }
  { auto orphan = light::trace_consume_message(tracer, "orders", -1, 7); }
  { auto plain = light::trace_produce_message(tracer, "orders", -1, "", ""); }
}

std::string light_operations(streambus::tracing::tracer& tracer) {
  return scenario::operations([&](const char* name, auto&& fn) -> decltype(auto) {
    return light::instrumented_operation(tracer, name, std::forward<decltype(fn)>(fn));
  });
}

std::string light_retries(streambus::tracing::tracer& tracer) {
  return scenario::retries([&](const char* name, int max_attempts, auto&& fn, int initial_ms) -> decltype(auto) {
    light::retry_backoff_ms backoff;
    backoff.initial_ms = initial_ms;
    return light::trace_with_retry(tracer, name, max_attempts, std::forward<decltype(fn)>(fn), backoff);
  });
}

std::string light_forward_baggage(streambus::tracing::tracer& tracer, const std::map<std::string, std::string>& incoming,
                                  std::map<std::string, std::string>& outgoing) {
  auto server = light::start(tracer, "light.forward", light::headers_ref(incoming), streambus::tracing::span_kind::server);
  const light::baggage received = light::extract_baggage(tracer, light::headers_ref(incoming));
  if (received.get("user") != "alice smith" || !received.contains("drop-me")) return "read: wrong entries";
  light::baggage copy = received;  // shares the entries
  const light::baggage sent = copy.set("hop", "light").erase("drop-me").set("bad key", "ignored");
  if (received.contains("hop") || !received.contains("drop-me")) return "set/erase changed the original";
  if (sent.size() != 2 || sent.key_at(0) != "user" || sent.key_at(1) != "hop" || sent.value_at(1) != "light")
    return "built: wrong entries";
  if (!sent.get("absent").empty() || sent.contains("bad key")) return "built: absent keys found";
  copy = light::baggage();
  if (!copy.empty()) return "assigned empty baggage is not empty";
  light::inject(tracer, server.context(), sent, light::headers_ref(outgoing));
  std::map<std::string, std::string> emptied{{"baggage", "stale=1"}};
  light::inject(tracer, server.context(), light::baggage(), light::headers_ref(emptied));
  if (emptied.count("baggage") != 0) return "empty baggage left a stale header";
  return "ok";
}

void light_given_times(streambus::tracing::tracer& tracer, std::chrono::system_clock::time_point start,
                       std::chrono::system_clock::time_point sent, std::chrono::system_clock::time_point end) {
  light::start_options options;
  options.start_time = start;
  auto span = light::start(tracer, "light.given_times", options);
  span.add_event("sent", sent, {{"k", 1}});
  span.add_event("measured");
  span.end(end);
}
