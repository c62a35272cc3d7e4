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

#include "light_spans.hpp"

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
