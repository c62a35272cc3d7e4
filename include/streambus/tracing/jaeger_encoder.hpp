// Jaeger encoders: a span_batch as a Jaeger Thrift `Batch` (binary protocol,
// what a collector's /api/traces takes) and as the Jaeger query API / UI trace
// JSON (what the UI's "JSON File" upload opens).
//
// Thrift field ids and types follow jaeger-idl's thrift/jaeger.thrift:
//   Batch   { 1: required Process process, 2: required list<Span> spans }
//   Process { 1: required string serviceName, 2: optional list<Tag> tags }
//   Span    { 1: i64 traceIdLow, 2: i64 traceIdHigh, 3: i64 spanId,
//             4: i64 parentSpanId, 5: string operationName,
//             6: optional list<SpanRef> references, 7: i32 flags,
//             8: i64 startTime, 9: i64 duration, 10: optional list<Tag> tags,
//             11: optional list<Log> logs }        (12: incomplete, unused)
//   Tag     { 1: string key, 2: TagType vType, 3: vStr, 4: vDouble, 5: vBool,
//             6: vLong, 7: vBinary }   TagType { STRING, DOUBLE, BOOL, LONG, BINARY }
//   Log     { 1: i64 timestamp, 2: list<Tag> fields }
//   SpanRef { 1: SpanRefType refType, 2: i64 traceIdLow, 3: i64 traceIdHigh,
//             4: i64 spanId }                     SpanRefType { CHILD_OF, FOLLOWS_FROM }
// The JSON follows jaeger's model/json/model.go as the query API serves it:
// {"data":[{"traceID","spans":[...],"processes":{"p1":{...}},"warnings":null}],
//  "total":0,"limit":0,"offset":0,"errors":null}.
//
// The OpenTelemetry -> Jaeger mapping is the specification's
// (trace/sdk_exporters/jaeger.md and common/mapping-to-non-otlp.md):
// - ids: big-endian halves, reinterpreted as signed i64; times in microseconds
//   (truncated); the parent is parentSpanId in Thrift and the first CHILD_OF
//   reference in JSON; links become FOLLOWS_FROM references after it;
// - resource -> Process: serviceName from service.name ("unknown_service"
//   when absent), the other resource attributes as process tags;
// - span.kind tag for server/client/producer/consumer (none for internal);
// - status: otel.status_code OK/ERROR, otel.status_description, and for ERROR
//   the tag error=true; instrumentation scope as otel.scope.name/version plus
//   the deprecated otel.library.name/version aliases the spec still requires;
//   non-zero dropped counts as otel.dropped_{attributes,events,links}_count;
//   when an attribute has the key of one of these tags, the mapped tag wins;
// - attributes keep their type; arrays become a string holding a JSON list;
// - events become logs: an `event` field with the event name (unless an
//   attribute named `event` exists), then the attributes.
// Strings are made valid UTF-8 (ill-formed sequences become U+FFFD) in both
// encodings, as the OTLP encoders do.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "attributes.hpp"
#include "context.hpp"
#include "detail/float_class.hpp"
#include "detail/protobuf_writer.hpp"
#include "detail/thrift_writer.hpp"
#include "exporter.hpp"
#include "ids.hpp"
#include "otlp_encoder.hpp"
#include "span_data.hpp"
#include "span_kind.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

namespace detail {
// The functions below are templates that are only ever used with their
// default argument (`template <int = 0>`): a translation unit that includes
// the library but never calls them then does not compile them (about a
// quarter of the full header's compile time; see bench/README.md).

// ------------------------------------------------ shared by the non-OTLP encoders

/// Service name when the resource has none: the SDK default resource's value.
inline constexpr std::string_view nonotlp_default_service_name = "unknown_service";

template <int = 0>
inline std::string_view nonotlp_service_name(const resource& res) noexcept {
  if (const attribute_value* v = res.attributes.find("service.name"))
    if (const auto* s = v->get_if<std::string>())
      if (!s->empty()) return *s;
  return nonotlp_default_service_name;
}

constexpr std::uint64_t nonotlp_micros(std::uint64_t ns) noexcept { return ns / 1000; }

/// A finite double as a plain JSON number; "NaN", "Infinity", "-Infinity"
/// (unquoted) otherwise: the text a string-typed tag carries.
template <int = 0>
inline void nonotlp_double_text(append_buffer& out, double v) {
  if (!is_finite_double(v)) {  // not std::isfinite: see detail/float_class.hpp
    out.append(non_finite_name(v));
  } else {
    otlp::detail::json_double(out, v);
  }
}

/// An attribute value as JSON: arrays as a JSON list, as the mapping spec
/// asks for array attributes (non-finite doubles as the strings "NaN",
/// "Infinity", "-Infinity", which JSON has no numbers for).
template <int = 0>
inline void nonotlp_json_value(append_buffer& out, const attribute_value& value) {
  const auto element = [&out](const auto& v) {
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, bool>) {
      out.append(v ? "true" : "false");
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      otlp::detail::json_integer(out, v);
    } else if constexpr (std::is_same_v<T, double>) {
      otlp::detail::json_double(out, v);
    } else {
      otlp::detail::json_string(out, v);
    }
  };
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, double> ||
                      std::is_same_v<T, std::string>) {
          element(v);
        } else {
          out.push_back('[');
          bool first = true;
          for (const auto& item : v) {
            if (!first) out.push_back(',');
            first = false;
            if constexpr (std::is_same_v<T, std::vector<bool>>) {
              element(static_cast<bool>(item));  // a std::vector<bool> element is a proxy
            } else {
              element(item);
            }
          }
          out.push_back(']');
        }
      },
      value.storage());
}

/// A typed tag value, as Jaeger (and, as text, Zipkin) carries it.
struct nonotlp_tag {
  enum class kind : std::uint8_t { string, boolean, int64, float64 };
  kind type = kind::string;
  std::string_view str;
  bool b = false;
  std::int64_t i = 0;
  double d = 0;

  static nonotlp_tag of_string(std::string_view s) noexcept {
    nonotlp_tag t;
    t.str = s;
    return t;
  }
  static nonotlp_tag of_bool(bool v) noexcept {
    nonotlp_tag t;
    t.type = kind::boolean;
    t.b = v;
    return t;
  }
  static nonotlp_tag of_int(std::int64_t v) noexcept {
    nonotlp_tag t;
    t.type = kind::int64;
    t.i = v;
    return t;
  }
  static nonotlp_tag of_double(double v) noexcept {
    nonotlp_tag t;
    t.type = kind::float64;
    t.d = v;
    return t;
  }
};

/// The tag of an attribute value. An array is rendered as JSON list text into
/// `scratch`, which the returned tag then views: use it before the next call.
template <int = 0>
inline nonotlp_tag nonotlp_tag_of(const attribute_value& value, std::string& scratch) {
  const auto& v = value.storage();
  if (const auto* b = std::get_if<bool>(&v)) return nonotlp_tag::of_bool(*b);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return nonotlp_tag::of_int(*i);
  if (const auto* d = std::get_if<double>(&v)) return nonotlp_tag::of_double(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return nonotlp_tag::of_string(*s);
  scratch.clear();
  {
    append_buffer out(scratch);
    nonotlp_json_value(out, value);
  }
  return nonotlp_tag::of_string(scratch);
}

/// A span's mapped tags beside its attributes (scope, kind, status, dropped
/// counts): at most 12, kept on the stack.
class nonotlp_extras {
 public:
  void add(std::string_view key, nonotlp_tag value) noexcept {
    if (n_ < capacity) items_[n_++] = {key, value};
  }
  /// Whether a mapped tag has this key (an attribute with the key is then skipped).
  bool has(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < n_; ++i)
      if (items_[i].first == key) return true;
    return false;
  }
  const std::pair<std::string_view, nonotlp_tag>* begin() const noexcept { return items_; }
  const std::pair<std::string_view, nonotlp_tag>* end() const noexcept { return items_ + n_; }
  std::size_t size() const noexcept { return n_; }

  /// Scope and dropped counts, the mappings Jaeger and Zipkin share.
  void add_common(const span_data& span, const instrumentation_scope& scope) noexcept {
    if (!scope.name.empty()) {
      add("otel.scope.name", nonotlp_tag::of_string(scope.name));
      add("otel.library.name", nonotlp_tag::of_string(scope.name));
    }
    if (!scope.version.empty()) {
      add("otel.scope.version", nonotlp_tag::of_string(scope.version));
      add("otel.library.version", nonotlp_tag::of_string(scope.version));
    }
    if (span.attributes.dropped() != 0)
      add("otel.dropped_attributes_count", nonotlp_tag::of_int(span.attributes.dropped()));
    if (span.dropped_events != 0) add("otel.dropped_events_count", nonotlp_tag::of_int(span.dropped_events));
    if (span.dropped_links != 0) add("otel.dropped_links_count", nonotlp_tag::of_int(span.dropped_links));
  }

 private:
  static constexpr std::size_t capacity = 12;
  std::pair<std::string_view, nonotlp_tag> items_[capacity];
  std::size_t n_ = 0;
};

template <int = 0>
inline std::string_view nonotlp_status_name(status_code code) noexcept {
  return code == status_code::error ? "ERROR" : "OK";
}

}  // namespace detail

namespace jaeger {

/// Content-Type of encode_thrift_batch() output for a collector's /api/traces
/// (collectors also accept "application/x-thrift").
inline constexpr std::string_view thrift_content_type = "application/vnd.apache.thrift.binary";
inline constexpr std::string_view json_content_type = "application/json";

/// Replaces the contents of `out` with the Thrift binary-protocol Batch for
/// `batch` (one Process for the batch's resource, every span). An empty batch
/// gives a Batch with no spans. The capacity of `out` is kept for reuse.
/// Throws only what growing `out` throws (std::bad_alloc).
template <int = 0>
inline void encode_thrift_batch(const span_batch& batch, std::string& out);

/// Replaces the contents of `out` with the Jaeger UI / query API JSON for
/// `batch`: one entry in "data" per trace id (in order of first appearance),
/// holding that trace's spans and one process "p1". Compact, always valid JSON.
template <int = 0>
inline void encode_ui_json(const span_batch& batch, std::string& out);

namespace detail {

using tracing::detail::append_buffer;
using tracing::detail::nonotlp_extras;
using tracing::detail::nonotlp_tag;
using tracing::detail::thrift_writer;

// Thrift field ids, from jaeger.thrift.
namespace th {
inline constexpr std::int16_t batch_process = 1;
inline constexpr std::int16_t batch_spans = 2;
inline constexpr std::int16_t process_service_name = 1;
inline constexpr std::int16_t process_tags = 2;
inline constexpr std::int16_t span_trace_id_low = 1;
inline constexpr std::int16_t span_trace_id_high = 2;
inline constexpr std::int16_t span_span_id = 3;
inline constexpr std::int16_t span_parent_span_id = 4;
inline constexpr std::int16_t span_operation_name = 5;
inline constexpr std::int16_t span_references = 6;
inline constexpr std::int16_t span_flags = 7;
inline constexpr std::int16_t span_start_time = 8;
inline constexpr std::int16_t span_duration = 9;
inline constexpr std::int16_t span_tags = 10;
inline constexpr std::int16_t span_logs = 11;
inline constexpr std::int16_t tag_key = 1;
inline constexpr std::int16_t tag_v_type = 2;
inline constexpr std::int16_t tag_v_str = 3;
inline constexpr std::int16_t tag_v_double = 4;
inline constexpr std::int16_t tag_v_bool = 5;
inline constexpr std::int16_t tag_v_long = 6;
inline constexpr std::int16_t log_timestamp = 1;
inline constexpr std::int16_t log_fields = 2;
inline constexpr std::int16_t ref_ref_type = 1;
inline constexpr std::int16_t ref_trace_id_low = 2;
inline constexpr std::int16_t ref_trace_id_high = 3;
inline constexpr std::int16_t ref_span_id = 4;
// enum TagType
inline constexpr std::int32_t tag_type_string = 0;
inline constexpr std::int32_t tag_type_double = 1;
inline constexpr std::int32_t tag_type_bool = 2;
inline constexpr std::int32_t tag_type_long = 3;
// enum SpanRefType
inline constexpr std::int32_t ref_child_of = 0;
inline constexpr std::int32_t ref_follows_from = 1;
}  // namespace th

/// Jaeger's flags: 1 = sampled, 2 = debug. The W3C `random` bit has no Jaeger
/// meaning and must not turn into debug.
template <int = 0>
inline std::int32_t span_flags(const span_data& span) noexcept { return span.context.sampled() ? 1 : 0; }

/// Tags of a span beyond its attributes: scope, kind, status, dropped counts.
template <int = 0>
inline nonotlp_extras span_extras(const span_data& span, const instrumentation_scope& scope) noexcept {
  nonotlp_extras ex;
  ex.add_common(span, scope);
  if (span.kind != span_kind::internal) ex.add("span.kind", nonotlp_tag::of_string(to_string(span.kind)));
  if (span.status != status_code::unset) {
    ex.add("otel.status_code", nonotlp_tag::of_string(tracing::detail::nonotlp_status_name(span.status)));
    if (!span.status_message.empty())
      ex.add("otel.status_description", nonotlp_tag::of_string(span.status_message));
    if (span.status == status_code::error) ex.add("error", nonotlp_tag::of_bool(true));
  }
  return ex;
}

/// Calls f(key, nonotlp_tag) for every tag of the span: attributes (except
/// those a mapped tag replaces), then the mapped tags.
template <class F>
void for_each_span_tag(const span_data& span, const nonotlp_extras& extras, std::string& scratch, F&& f) {
  for (const attribute& a : span.attributes) {
    if (extras.has(a.key)) continue;
    f(std::string_view(a.key), tracing::detail::nonotlp_tag_of(a.value, scratch));
  }
  for (const auto& kv : extras) f(kv.first, kv.second);
}

/// Log fields of an event: `event` = name (unless an attribute is named
/// `event`), the attributes, and a non-zero dropped attributes count.
template <class F>
void for_each_event_field(const span_event& event, std::string& scratch, F&& f) {
  if (event.attributes.find("event") == nullptr) f(std::string_view("event"), nonotlp_tag::of_string(event.name));
  for (const attribute& a : event.attributes) f(std::string_view(a.key), tracing::detail::nonotlp_tag_of(a.value, scratch));
  if (event.attributes.dropped() != 0)
    f(std::string_view("otel.dropped_attributes_count"), nonotlp_tag::of_int(event.attributes.dropped()));
}

/// Process tags: the resource attributes except service.name (the serviceName).
template <class F>
void for_each_process_tag(const resource& res, std::string& scratch, F&& f) {
  for (const attribute& a : res.attributes) {
    if (a.key == "service.name") continue;
    f(std::string_view(a.key), tracing::detail::nonotlp_tag_of(a.value, scratch));
  }
}

// ---------------------------------------------------------------- Thrift

template <int = 0>
inline void thrift_string_value(thrift_writer& w, std::string_view s) {
  if (otlp::detail::utf8_valid(s)) {
    w.write_string(s);
    return;
  }
  const auto m = w.begin_string();
  tracing::detail::append_utf8_repaired(w.buffer(), s);
  w.end_string(m);
}

template <int = 0>
inline void thrift_string_field(thrift_writer& w, std::int16_t id, std::string_view s) {
  w.field_begin(thrift_writer::type::string, id);
  thrift_string_value(w, s);
}

// One Tag struct (as a list element: no field header).
template <int = 0>
inline void thrift_tag(thrift_writer& w, std::string_view key, const nonotlp_tag& t) {
  thrift_string_field(w, th::tag_key, key);
  switch (t.type) {
    case nonotlp_tag::kind::string:
      w.field_i32(th::tag_v_type, th::tag_type_string);
      thrift_string_field(w, th::tag_v_str, t.str);
      break;
    case nonotlp_tag::kind::boolean:
      w.field_i32(th::tag_v_type, th::tag_type_bool);
      w.field_bool(th::tag_v_bool, t.b);
      break;
    case nonotlp_tag::kind::int64:
      w.field_i32(th::tag_v_type, th::tag_type_long);
      w.field_i64(th::tag_v_long, t.i);
      break;
    case nonotlp_tag::kind::float64:
      w.field_i32(th::tag_v_type, th::tag_type_double);
      w.field_double(th::tag_v_double, t.d);
      break;
  }
  w.field_stop();
}

// A list<Tag> field filled by `each(callback)`.
template <class Each>
void thrift_tag_list(thrift_writer& w, std::int16_t id, Each&& each) {
  w.field_begin(thrift_writer::type::list, id);
  const auto m = w.list_begin_deferred(thrift_writer::type::struct_);
  std::int32_t count = 0;
  each([&](std::string_view key, const nonotlp_tag& t) {
    thrift_tag(w, key, t);
    ++count;
  });
  w.list_end(m, count);
}

template <int = 0>
inline void thrift_span(thrift_writer& w, const span_data& span, const instrumentation_scope& scope,
                        std::string& scratch) {
  const trace_id& tid = span.context.trace_id();
  w.field_i64_bits(th::span_trace_id_low, tid.low());
  w.field_i64_bits(th::span_trace_id_high, tid.high());
  w.field_i64_bits(th::span_span_id, span.context.span_id().value());
  w.field_i64_bits(th::span_parent_span_id, span.parent_span_id.valid() ? span.parent_span_id.value() : 0);
  thrift_string_field(w, th::span_operation_name, span.name);
  if (!span.links.empty()) {
    w.field_begin(thrift_writer::type::list, th::span_references);
    w.list_begin(thrift_writer::type::struct_, static_cast<std::int32_t>(span.links.size()));
    for (const span_link& l : span.links) {
      w.field_i32(th::ref_ref_type, th::ref_follows_from);
      w.field_i64_bits(th::ref_trace_id_low, l.context.trace_id().low());
      w.field_i64_bits(th::ref_trace_id_high, l.context.trace_id().high());
      w.field_i64_bits(th::ref_span_id, l.context.span_id().value());
      w.field_stop();
    }
  }
  w.field_i32(th::span_flags, span_flags(span));
  // Microseconds since the epoch fit an i64 for the next 292 000 years.
  w.field_i64(th::span_start_time, static_cast<std::int64_t>(tracing::detail::nonotlp_micros(span.start_time_unix_nano)));
  w.field_i64(th::span_duration, static_cast<std::int64_t>(tracing::detail::nonotlp_micros(span.duration_ns())));
  const nonotlp_extras extras = span_extras(span, scope);
  thrift_tag_list(w, th::span_tags, [&](auto&& visit_tag) { for_each_span_tag(span, extras, scratch, visit_tag); });
  if (!span.events.empty()) {
    w.field_begin(thrift_writer::type::list, th::span_logs);
    w.list_begin(thrift_writer::type::struct_, static_cast<std::int32_t>(span.events.size()));
    for (const span_event& e : span.events) {
      w.field_i64(th::log_timestamp, static_cast<std::int64_t>(tracing::detail::nonotlp_micros(e.time_unix_nano)));
      thrift_tag_list(w, th::log_fields, [&](auto&& visit_tag) { for_each_event_field(e, scratch, visit_tag); });
      w.field_stop();
    }
  }
  w.field_stop();
}

// ---------------------------------------------------------------- JSON

template <int = 0>
inline void json_tag(append_buffer& out, std::string_view key, const nonotlp_tag& t) {
  out.append("{\"key\":");
  otlp::detail::json_string(out, key);
  switch (t.type) {
    case nonotlp_tag::kind::string:
      out.append(",\"type\":\"string\",\"value\":");
      otlp::detail::json_string(out, t.str);
      break;
    case nonotlp_tag::kind::boolean:
      out.append(t.b ? ",\"type\":\"bool\",\"value\":true" : ",\"type\":\"bool\",\"value\":false");
      break;
    case nonotlp_tag::kind::int64:
      out.append(",\"type\":\"int64\",\"value\":");
      otlp::detail::json_integer(out, t.i);
      break;
    case nonotlp_tag::kind::float64:
      if (tracing::detail::is_finite_double(t.d)) {
        out.append(",\"type\":\"float64\",\"value\":");
        otlp::detail::json_double(out, t.d);
      } else {
        // JSON has no NaN or infinities: keep the value readable as a string tag.
        out.append(",\"type\":\"string\",\"value\":\"");
        tracing::detail::nonotlp_double_text(out, t.d);
        out.push_back('"');
      }
      break;
  }
  out.push_back('}');
}

// "name":[tags...] filled by `each(callback)`.
template <class Each>
void json_tag_array(append_buffer& out, std::string_view member, Each&& each) {
  out.append(member);
  out.push_back('[');
  bool first = true;
  each([&](std::string_view key, const nonotlp_tag& t) {
    if (!first) out.push_back(',');
    first = false;
    json_tag(out, key, t);
  });
  out.push_back(']');
}

template <int = 0>
inline void json_reference(append_buffer& out, std::string_view type, const trace_id& tid, const span_id& sid) {
  out.append("{\"refType\":\"");
  out.append(type);
  out.append("\",\"traceID\":");
  otlp::detail::json_hex_id(out, tid);
  out.append(",\"spanID\":");
  otlp::detail::json_hex_id(out, sid);
  out.push_back('}');
}

template <int = 0>
inline void json_span(append_buffer& out, const span_data& span, const instrumentation_scope& scope,
                      std::string& scratch) {
  const span_context& ctx = span.context;
  out.append("{\"traceID\":");
  otlp::detail::json_hex_id(out, ctx.trace_id());
  out.append(",\"spanID\":");
  otlp::detail::json_hex_id(out, ctx.span_id());
  out.append(",\"flags\":");
  otlp::detail::json_integer(out, span_flags(span));
  out.append(",\"operationName\":");
  otlp::detail::json_string(out, span.name);
  out.append(",\"references\":[");
  bool first = true;
  if (span.parent_span_id.valid()) {  // the parent first, as the mapping spec requires
    json_reference(out, "CHILD_OF", ctx.trace_id(), span.parent_span_id);
    first = false;
  }
  for (const span_link& l : span.links) {
    if (!first) out.push_back(',');
    first = false;
    json_reference(out, "FOLLOWS_FROM", l.context.trace_id(), l.context.span_id());
  }
  out.append("],\"startTime\":");
  otlp::detail::json_integer(out, tracing::detail::nonotlp_micros(span.start_time_unix_nano));
  out.append(",\"duration\":");
  otlp::detail::json_integer(out, tracing::detail::nonotlp_micros(span.duration_ns()));
  const nonotlp_extras extras = span_extras(span, scope);
  json_tag_array(out, ",\"tags\":", [&](auto&& visit_tag) { for_each_span_tag(span, extras, scratch, visit_tag); });
  out.append(",\"logs\":[");
  first = true;
  for (const span_event& e : span.events) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"timestamp\":");
    otlp::detail::json_integer(out, tracing::detail::nonotlp_micros(e.time_unix_nano));
    json_tag_array(out, ",\"fields\":", [&](auto&& visit_tag) { for_each_event_field(e, scratch, visit_tag); });
    out.push_back('}');
  }
  out.append("],\"processID\":\"p1\",\"warnings\":null}");
}

// Spans grouped by trace id, groups in order of first appearance, spans in
// batch order within a group: {start, end} ranges into `order`.
template <int = 0>
inline std::vector<std::pair<std::size_t, std::size_t>> group_by_trace(const span_batch& batch,
                                                                       std::vector<std::size_t>& order) {
  order.resize(batch.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&batch](std::size_t a, std::size_t b) {
    return batch[a].context.trace_id() < batch[b].context.trace_id();
  });
  std::vector<std::pair<std::size_t, std::size_t>> groups;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i + 1;
    while (j < order.size() && batch[order[j]].context.trace_id() == batch[order[i]].context.trace_id()) ++j;
    groups.emplace_back(i, j);
    i = j;
  }
  // Stable sort kept batch order inside a group, so its first element is the
  // trace's first appearance.
  std::sort(groups.begin(), groups.end(),
            [&order](const auto& a, const auto& b) { return order[a.first] < order[b.first]; });
  return groups;
}

}  // namespace detail

template <int>
inline void encode_thrift_batch(const span_batch& batch, std::string& out) {
  out.clear();
  std::string scratch;
  detail::thrift_writer w(out);
  namespace th = detail::th;
  w.field_begin(detail::thrift_writer::type::struct_, th::batch_process);
  detail::thrift_string_field(w, th::process_service_name, tracing::detail::nonotlp_service_name(batch.resource()));
  detail::thrift_tag_list(w, th::process_tags,
                          [&](auto&& visit_tag) { detail::for_each_process_tag(batch.resource(), scratch, visit_tag); });
  w.field_stop();
  w.field_begin(detail::thrift_writer::type::list, th::batch_spans);
  w.list_begin(detail::thrift_writer::type::struct_, static_cast<std::int32_t>(batch.size()));
  for (const span_data& span : batch) detail::thrift_span(w, span, batch.scope(), scratch);
  w.field_stop();
  w.finish();
}

template <int>
inline void encode_ui_json(const span_batch& batch, std::string& str) {
  str.clear();
  std::string scratch;
  std::vector<std::size_t> order;
  const auto groups = detail::group_by_trace(batch, order);
  detail::append_buffer out(str);
  out.append("{\"data\":[");
  bool first_trace = true;
  for (const auto& g : groups) {
    if (!first_trace) out.push_back(',');
    first_trace = false;
    out.append("{\"traceID\":");
    otlp::detail::json_hex_id(out, batch[order[g.first]].context.trace_id());
    out.append(",\"spans\":[");
    for (std::size_t k = g.first; k < g.second; ++k) {
      if (k != g.first) out.push_back(',');
      detail::json_span(out, batch[order[k]], batch.scope(), scratch);
    }
    out.append("],\"processes\":{\"p1\":{\"serviceName\":");
    otlp::detail::json_string(out, tracing::detail::nonotlp_service_name(batch.resource()));
    detail::json_tag_array(out, ",\"tags\":",
                           [&](auto&& visit_tag) { detail::for_each_process_tag(batch.resource(), scratch, visit_tag); });
    out.append("}},\"warnings\":null}");
  }
  out.append("],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}");
  out.finish();
}

}  // namespace jaeger
STREAMBUS_TRACING_END_NAMESPACE
