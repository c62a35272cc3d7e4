// OTLP encoders: a span_batch as an ExportTraceServiceRequest, in binary
// protobuf (application/x-protobuf) or OTLP/JSON (application/json).
//
// Field numbers and types follow opentelemetry-proto's
// opentelemetry/proto/collector/trace/v1/trace_service.proto,
// trace/v1/trace.proto, common/v1/common.proto and resource/v1/resource.proto.
// JSON follows the OTLP specification's "JSON Protobuf Encoding": the proto3
// JSON mapping with lowerCamelCase keys, trace/span ids as lowercase hex,
// enums as integers, 64-bit integers as decimal strings.
//
// One batch becomes one ResourceSpans holding one ScopeSpans (a span_batch
// shares one resource and scope). As proto3 does, fields holding their default
// value (0, empty) are omitted, except inside AnyValue, whose oneof keeps the
// type of an empty string, a zero or false.
//
// Strings are not trusted to be UTF-8: proto3 receivers may reject a request
// carrying an invalid `string` field and JSON cannot carry one, so every
// ill-formed sequence becomes U+FFFD in both encodings (one per maximal
// subpart, as Unicode recommends).
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "attributes.hpp"
#include "context.hpp"
#include "detail/protobuf_writer.hpp"
#include "detail/float_class.hpp"
#include "detail/utf8.hpp"
#include "exporter.hpp"
#include "ids.hpp"
#include "span_data.hpp"
#include "span_kind.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace otlp {

inline constexpr std::string_view protobuf_content_type = "application/x-protobuf";
inline constexpr std::string_view json_content_type = "application/json";

/// Span.flags / Link.flags bits above the W3C trace flags (trace.proto's SpanFlags).
inline constexpr std::uint32_t span_flags_trace_flags_mask = 0x000000FFu;
inline constexpr std::uint32_t span_flags_context_has_is_remote_mask = 0x00000100u;
inline constexpr std::uint32_t span_flags_context_is_remote_mask = 0x00000200u;

/// Replaces the contents of `out` with the binary protobuf ExportTraceServiceRequest
/// for `batch`. The capacity of `out` is kept: reusing one buffer, a steady
/// workload stops allocating. An empty batch gives an empty request (no bytes).
/// Throws only what growing `out` throws (std::bad_alloc); `out` then holds a
/// truncated request, not to be sent.
template <int = 0>
inline void encode_protobuf(const span_batch& batch, std::string& out);

/// Replaces the contents of `out` with the OTLP/JSON ExportTraceServiceRequest
/// for `batch` (compact, no whitespace, always valid JSON). Same buffer reuse
/// and exceptions as encode_protobuf(); an empty batch gives "{}".
template <int = 0>
inline void encode_json(const span_batch& batch, std::string& out);

namespace detail {
// The functions below are templates that are only ever used with their
// default argument (`template <int = 0>`): a translation unit that includes
// the library but never calls them then does not compile them (about a
// quarter of the full header's compile time; see bench/README.md).

using tracing::detail::append_buffer;
using tracing::detail::protobuf_writer;

// ---------------------------------------------------------------- UTF-8

using tracing::detail::utf8_sequence;

using tracing::detail::utf8_valid;

using tracing::detail::utf8_replacement;

using tracing::detail::append_utf8_repaired;

// ---------------------------------------------------------------- flags

// A span always knows whether its parent is remote (a root span's is not).
template <int = 0>
inline std::uint32_t span_flags(const span_data& span) noexcept {
  std::uint32_t flags = span.context.flags().bits() | span_flags_context_has_is_remote_mask;
  if (span.parent_is_remote && span.parent_span_id.valid()) flags |= span_flags_context_is_remote_mask;
  return flags;
}

template <int = 0>
inline std::uint32_t link_flags(const span_link& link) noexcept {
  std::uint32_t flags = link.context.flags().bits() | span_flags_context_has_is_remote_mask;
  if (link.context.is_remote()) flags |= span_flags_context_is_remote_mask;
  return flags;
}

// ---------------------------------------------------------------- protobuf

// Field numbers, from the opentelemetry-proto files named at the top.
namespace pb {
// ExportTraceServiceRequest
inline constexpr std::uint32_t request_resource_spans = 1;
// ResourceSpans
inline constexpr std::uint32_t resource_spans_resource = 1;
inline constexpr std::uint32_t resource_spans_scope_spans = 2;
// Resource
inline constexpr std::uint32_t resource_attributes = 1;
inline constexpr std::uint32_t resource_dropped_attributes_count = 2;
// ScopeSpans
inline constexpr std::uint32_t scope_spans_scope = 1;
inline constexpr std::uint32_t scope_spans_spans = 2;
// InstrumentationScope
inline constexpr std::uint32_t scope_name = 1;
inline constexpr std::uint32_t scope_version = 2;
// Span
inline constexpr std::uint32_t span_trace_id = 1;
inline constexpr std::uint32_t span_span_id = 2;
inline constexpr std::uint32_t span_trace_state = 3;
inline constexpr std::uint32_t span_parent_span_id = 4;
inline constexpr std::uint32_t span_name = 5;
inline constexpr std::uint32_t span_kind = 6;
inline constexpr std::uint32_t span_start_time_unix_nano = 7;
inline constexpr std::uint32_t span_end_time_unix_nano = 8;
inline constexpr std::uint32_t span_attributes = 9;
inline constexpr std::uint32_t span_dropped_attributes_count = 10;
inline constexpr std::uint32_t span_events = 11;
inline constexpr std::uint32_t span_dropped_events_count = 12;
inline constexpr std::uint32_t span_links = 13;
inline constexpr std::uint32_t span_dropped_links_count = 14;
inline constexpr std::uint32_t span_status = 15;
inline constexpr std::uint32_t span_flags = 16;
// Span.Event
inline constexpr std::uint32_t event_time_unix_nano = 1;
inline constexpr std::uint32_t event_name = 2;
inline constexpr std::uint32_t event_attributes = 3;
inline constexpr std::uint32_t event_dropped_attributes_count = 4;
// Span.Link
inline constexpr std::uint32_t link_trace_id = 1;
inline constexpr std::uint32_t link_span_id = 2;
inline constexpr std::uint32_t link_trace_state = 3;
inline constexpr std::uint32_t link_attributes = 4;
inline constexpr std::uint32_t link_dropped_attributes_count = 5;
inline constexpr std::uint32_t link_flags = 6;
// Status
inline constexpr std::uint32_t status_message = 2;
inline constexpr std::uint32_t status_code = 3;
// KeyValue
inline constexpr std::uint32_t key_value_key = 1;
inline constexpr std::uint32_t key_value_value = 2;
// AnyValue
inline constexpr std::uint32_t any_string_value = 1;
inline constexpr std::uint32_t any_bool_value = 2;
inline constexpr std::uint32_t any_int_value = 3;
inline constexpr std::uint32_t any_double_value = 4;
inline constexpr std::uint32_t any_array_value = 5;
// ArrayValue
inline constexpr std::uint32_t array_values = 1;
}  // namespace pb

// A string field, U+FFFD-sanitized when needed. proto3 omits an empty string
// unless `always` (a oneof member keeps its presence).
template <int = 0>
inline void pb_string(protobuf_writer& w, std::uint32_t field, std::string_view s, bool always = false) {
  if (s.empty() && !always) return;
  if (utf8_valid(s)) {
    w.field_string(field, s);
    return;
  }
  const auto mark = w.begin_message(field, protobuf_writer::varint_size(s.size()));
  append_utf8_repaired(w.buffer(), s);
  w.end_message(mark);
}

template <int = 0>
inline void pb_uint32_nonzero(protobuf_writer& w, std::uint32_t field, std::uint32_t v) {
  if (v != 0) w.field_varint(field, v);
}

// One array element: an AnyValue holding a scalar.
template <class T>
void pb_array_element(protobuf_writer& w, const T& v) {
  const auto mark = w.begin_message(pb::array_values);
  if constexpr (std::is_same_v<T, bool>) {
    w.field_bool(pb::any_bool_value, v);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    w.field_int64(pb::any_int_value, v);
  } else if constexpr (std::is_same_v<T, double>) {
    w.field_double(pb::any_double_value, v);
  } else {
    pb_string(w, pb::any_string_value, v, true);
  }
  w.end_message(mark);
}

template <class Vector>
void pb_array(protobuf_writer& w, const Vector& values) {
  const auto mark = w.begin_message(pb::any_array_value, values.size() < 12 ? 1 : 2);
  for (const auto& v : values) pb_array_element<typename Vector::value_type>(w, v);
  w.end_message(mark);
}

template <int = 0>
inline void pb_any_value(protobuf_writer& w, std::uint32_t field, const attribute_value& value) {
  const auto mark = w.begin_message(field);
  const auto& storage = value.storage();
  if (const auto* b = std::get_if<bool>(&storage)) {
    w.field_bool(pb::any_bool_value, *b);
  } else if (const auto* i = std::get_if<std::int64_t>(&storage)) {
    w.field_int64(pb::any_int_value, *i);
  } else if (const auto* d = std::get_if<double>(&storage)) {
    w.field_double(pb::any_double_value, *d);
  } else if (const auto* s = std::get_if<std::string>(&storage)) {
    pb_string(w, pb::any_string_value, *s, true);
  } else if (const auto* vb = std::get_if<std::vector<bool>>(&storage)) {
    pb_array(w, *vb);
  } else if (const auto* vi = std::get_if<std::vector<std::int64_t>>(&storage)) {
    pb_array(w, *vi);
  } else if (const auto* vd = std::get_if<std::vector<double>>(&storage)) {
    pb_array(w, *vd);
  } else if (const auto* vs = std::get_if<std::vector<std::string>>(&storage)) {
    pb_array(w, *vs);
  }
  w.end_message(mark);
}

template <int = 0>
inline void pb_attributes(protobuf_writer& w, std::uint32_t field, const attribute_list& attributes) {
  const bool keys_valid = attributes.keys_repaired();  // checked once already, before export
  for (const attribute& a : attributes) {
    const auto mark = w.begin_message(field);
    if (keys_valid)
      w.field_string(pb::key_value_key, a.key);  // never empty: attribute_list refuses empty keys
    else
      pb_string(w, pb::key_value_key, a.key);
    pb_any_value(w, pb::key_value_value, a.value);
    w.end_message(mark);
  }
}

template <int = 0>
inline void pb_span(protobuf_writer& w, const span_data& span) {
  const auto mark = w.begin_message(pb::scope_spans_spans, 2);
  const span_context& ctx = span.context;
  w.field_bytes(pb::span_trace_id, ctx.trace_id().data(), trace_id::size);
  w.field_bytes(pb::span_span_id, ctx.span_id().data(), span_id::size);
  pb_string(w, pb::span_trace_state, ctx.trace_state().header());
  if (span.parent_span_id.valid())
    w.field_bytes(pb::span_parent_span_id, span.parent_span_id.data(), span_id::size);
  pb_string(w, pb::span_name, span.name);
  if (span.kind != span_kind{}) w.field_varint(pb::span_kind, static_cast<std::uint8_t>(span.kind));
  if (span.start_time_unix_nano != 0) w.field_fixed64(pb::span_start_time_unix_nano, span.start_time_unix_nano);
  if (span.end_time_unix_nano != 0) w.field_fixed64(pb::span_end_time_unix_nano, span.end_time_unix_nano);
  pb_attributes(w, pb::span_attributes, span.attributes);
  pb_uint32_nonzero(w, pb::span_dropped_attributes_count, span.attributes.dropped());
  for (const span_event& e : span.events) {
    const auto event_mark = w.begin_message(pb::span_events);
    if (e.time_unix_nano != 0) w.field_fixed64(pb::event_time_unix_nano, e.time_unix_nano);
    pb_string(w, pb::event_name, e.name);
    pb_attributes(w, pb::event_attributes, e.attributes);
    pb_uint32_nonzero(w, pb::event_dropped_attributes_count, e.attributes.dropped());
    w.end_message(event_mark);
  }
  pb_uint32_nonzero(w, pb::span_dropped_events_count, span.dropped_events);
  for (const span_link& l : span.links) {
    const auto link_mark = w.begin_message(pb::span_links);
    w.field_bytes(pb::link_trace_id, l.context.trace_id().data(), trace_id::size);
    w.field_bytes(pb::link_span_id, l.context.span_id().data(), span_id::size);
    pb_string(w, pb::link_trace_state, l.context.trace_state().header());
    pb_attributes(w, pb::link_attributes, l.attributes);
    pb_uint32_nonzero(w, pb::link_dropped_attributes_count, l.attributes.dropped());
    w.field_fixed32(pb::link_flags, link_flags(l));
    w.end_message(link_mark);
  }
  pb_uint32_nonzero(w, pb::span_dropped_links_count, span.dropped_links);
  if (span.status != status_code::unset || !span.status_message.empty()) {
    const auto status_mark = w.begin_message(pb::span_status);
    pb_string(w, pb::status_message, span.status_message);
    if (span.status != status_code::unset) w.field_varint(pb::status_code, static_cast<std::uint8_t>(span.status));
    w.end_message(status_mark);
  }
  w.field_fixed32(pb::span_flags, span_flags(span));
  w.end_message(mark);
}

// ---------------------------------------------------------------- JSON

// A JSON string literal: `"` `\` and control characters escaped, ill-formed
// UTF-8 replaced by U+FFFD, everything else copied as is.
template <int = 0>
inline void json_string(append_buffer& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  out.push_back('"');
  std::size_t i = 0, run = 0;
  while (i < n) {
    // Eight plain ASCII bytes at a time: no byte >= 0x80, < 0x20, '"' or '\'.
    while (i + 8 <= n) {
      constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
      std::uint64_t x;
      std::memcpy(&x, p + i, 8);
      const std::uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
      const std::uint64_t special = (x | ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
                                     ((backslash - ones) & ~backslash)) &
                                    highs;
      if (special != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      std::size_t bad = 0;
      const std::size_t len = utf8_sequence(p + i, n - i, &bad);
      if (len != 0) {
        i += len;
        continue;
      }
      out.append(s.data() + run, i - run);
      out.append(utf8_replacement);
      i += bad;
      run = i;
      continue;
    }
    out.append(s.data() + run, i - run);
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    std::size_t len = 2;
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 0x0f];
        len = 6;
    }
    out.append(esc, len);
    ++i;
    run = i;
  }
  out.append(s.data() + run, n - run);
  out.push_back('"');
}

template <class Int>
void json_integer(append_buffer& out, Int v) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(result.ptr - buf));
}

// proto3 JSON writes 64-bit integers as decimal strings (JavaScript numbers
// cannot hold them).
template <class Int>
void json_quoted_integer(append_buffer& out, Int v) {
  out.push_back('"');
  json_integer(out, v);
  out.push_back('"');
}

// A round-trippable, locale-independent JSON number, or proto3 JSON's
// "NaN"/"Infinity"/"-Infinity" strings (JSON has no such numbers).
template <int = 0>
inline void json_double(append_buffer& out, double v) {
  if (!tracing::detail::is_finite_double(v)) {  // not std::isnan: see detail/float_class.hpp
    out.push_back('"');
    out.append(tracing::detail::non_finite_name(v));
    out.push_back('"');
    return;
  }
  char buf[32];
  out.append(buf, tracing::detail::write_double_text(v, buf));
}

template <std::size_t N>
void json_hex_id(append_buffer& out, const basic_id<N>& id) {
  char buf[2 * N + 2];
  buf[0] = '"';
  id.to_hex(buf + 1);
  buf[2 * N + 1] = '"';
  out.append(buf, sizeof buf);
}

template <class T>
void json_scalar_any(append_buffer& out, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    out.append(v ? "{\"boolValue\":true}" : "{\"boolValue\":false}");
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    out.append("{\"intValue\":");
    json_quoted_integer(out, v);
    out.push_back('}');
  } else if constexpr (std::is_same_v<T, double>) {
    out.append("{\"doubleValue\":");
    json_double(out, v);
    out.push_back('}');
  } else {
    out.append("{\"stringValue\":");
    json_string(out, v);
    out.push_back('}');
  }
}

template <class Vector>
void json_array_any(append_buffer& out, const Vector& values) {
  if (values.empty()) {  // proto3 JSON omits the empty repeated field
    out.append("{\"arrayValue\":{}}");
    return;
  }
  out.append("{\"arrayValue\":{\"values\":[");
  bool first = true;
  for (const auto& v : values) {
    if (!first) out.push_back(',');
    first = false;
    json_scalar_any<typename Vector::value_type>(out, v);
  }
  out.append("]}}");
}

template <int = 0>
inline void json_any_value(append_buffer& out, const attribute_value& value) {
  const auto& storage = value.storage();
  if (const auto* b = std::get_if<bool>(&storage)) {
    json_scalar_any(out, *b);
  } else if (const auto* i = std::get_if<std::int64_t>(&storage)) {
    json_scalar_any(out, *i);
  } else if (const auto* d = std::get_if<double>(&storage)) {
    json_scalar_any(out, *d);
  } else if (const auto* s = std::get_if<std::string>(&storage)) {
    json_scalar_any(out, *s);
  } else if (const auto* vb = std::get_if<std::vector<bool>>(&storage)) {
    json_array_any(out, *vb);
  } else if (const auto* vi = std::get_if<std::vector<std::int64_t>>(&storage)) {
    json_array_any(out, *vi);
  } else if (const auto* vd = std::get_if<std::vector<double>>(&storage)) {
    json_array_any(out, *vd);
  } else if (const auto* vs = std::get_if<std::vector<std::string>>(&storage)) {
    json_array_any(out, *vs);
  } else {
    out.append("{}");
  }
}

// Writes `,"key":value` for a member of an object whose first member may be
// absent; `first` tracks whether a comma is needed.
template <int = 0>
inline void json_member(append_buffer& out, bool& first, std::string_view key_with_quotes_and_colon) {
  if (!first) out.push_back(',');
  first = false;
  out.append(key_with_quotes_and_colon);
}

// "attributes":[...] and "droppedAttributesCount":n, each only when non-default.
template <int = 0>
inline void json_attributes(append_buffer& out, bool& first, const attribute_list& attributes) {
  if (!attributes.empty()) {
    json_member(out, first, "\"attributes\":[");
    bool first_attr = true;
    for (const attribute& a : attributes) {
      if (!first_attr) out.push_back(',');
      first_attr = false;
      if (a.key.empty()) {
        out.append("{\"value\":");
      } else {
        out.append("{\"key\":");
        json_string(out, a.key);
        out.append(",\"value\":");
      }
      json_any_value(out, a.value);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (attributes.dropped() != 0) {
    json_member(out, first, "\"droppedAttributesCount\":");
    json_integer(out, attributes.dropped());
  }
}

template <int = 0>
inline void json_span(append_buffer& out, const span_data& span) {
  const span_context& ctx = span.context;
  out.append("{\"traceId\":");
  json_hex_id(out, ctx.trace_id());
  out.append(",\"spanId\":");
  json_hex_id(out, ctx.span_id());
  bool first = false;  // traceId is always there
  if (!ctx.trace_state().empty()) {
    json_member(out, first, "\"traceState\":");
    json_string(out, ctx.trace_state().header());
  }
  if (span.parent_span_id.valid()) {
    json_member(out, first, "\"parentSpanId\":");
    json_hex_id(out, span.parent_span_id);
  }
  json_member(out, first, "\"flags\":");
  json_integer(out, span_flags(span));
  if (!span.name.empty()) {
    json_member(out, first, "\"name\":");
    json_string(out, span.name);
  }
  if (span.kind != span_kind{}) {
    json_member(out, first, "\"kind\":");
    json_integer(out, static_cast<unsigned>(span.kind));
  }
  if (span.start_time_unix_nano != 0) {
    json_member(out, first, "\"startTimeUnixNano\":");
    json_quoted_integer(out, span.start_time_unix_nano);
  }
  if (span.end_time_unix_nano != 0) {
    json_member(out, first, "\"endTimeUnixNano\":");
    json_quoted_integer(out, span.end_time_unix_nano);
  }
  json_attributes(out, first, span.attributes);
  if (!span.events.empty()) {
    json_member(out, first, "\"events\":[");
    bool first_event = true;
    for (const span_event& e : span.events) {
      if (!first_event) out.push_back(',');
      first_event = false;
      out.push_back('{');
      bool first_member = true;
      if (e.time_unix_nano != 0) {
        json_member(out, first_member, "\"timeUnixNano\":");
        json_quoted_integer(out, e.time_unix_nano);
      }
      if (!e.name.empty()) {
        json_member(out, first_member, "\"name\":");
        json_string(out, e.name);
      }
      json_attributes(out, first_member, e.attributes);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (span.dropped_events != 0) {
    json_member(out, first, "\"droppedEventsCount\":");
    json_integer(out, span.dropped_events);
  }
  if (!span.links.empty()) {
    json_member(out, first, "\"links\":[");
    bool first_link = true;
    for (const span_link& l : span.links) {
      if (!first_link) out.push_back(',');
      first_link = false;
      out.append("{\"traceId\":");
      json_hex_id(out, l.context.trace_id());
      out.append(",\"spanId\":");
      json_hex_id(out, l.context.span_id());
      bool first_member = false;
      if (!l.context.trace_state().empty()) {
        json_member(out, first_member, "\"traceState\":");
        json_string(out, l.context.trace_state().header());
      }
      json_attributes(out, first_member, l.attributes);
      json_member(out, first_member, "\"flags\":");
      json_integer(out, link_flags(l));
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (span.dropped_links != 0) {
    json_member(out, first, "\"droppedLinksCount\":");
    json_integer(out, span.dropped_links);
  }
  if (span.status != status_code::unset || !span.status_message.empty()) {
    json_member(out, first, "\"status\":{");
    bool first_member = true;
    if (!span.status_message.empty()) {
      json_member(out, first_member, "\"message\":");
      json_string(out, span.status_message);
    }
    if (span.status != status_code::unset) {
      json_member(out, first_member, "\"code\":");
      json_integer(out, static_cast<unsigned>(span.status));
    }
    out.push_back('}');
  }
  out.push_back('}');
}

}  // namespace detail

template <int>
inline void encode_protobuf(const span_batch& batch, std::string& out) {
  out.clear();
  if (batch.empty()) return;
  detail::protobuf_writer w(out);
  namespace pb = detail::pb;
  // 3 bytes of length cover bodies up to 2 MiB: most batches never move.
  const auto resource_spans = w.begin_message(pb::request_resource_spans, 3);
  {
    const auto resource = w.begin_message(pb::resource_spans_resource, 2);
    detail::pb_attributes(w, pb::resource_attributes, batch.resource().attributes);
    detail::pb_uint32_nonzero(w, pb::resource_dropped_attributes_count, batch.resource().attributes.dropped());
    w.end_message(resource);
  }
  const auto scope_spans = w.begin_message(pb::resource_spans_scope_spans, 3);
  {
    const auto scope = w.begin_message(pb::scope_spans_scope);
    detail::pb_string(w, pb::scope_name, batch.scope().name);
    detail::pb_string(w, pb::scope_version, batch.scope().version);
    w.end_message(scope);
  }
  for (const span_data& span : batch) detail::pb_span(w, span);
  w.end_message(scope_spans);
  w.end_message(resource_spans);
  w.finish();
}

template <int>
inline void encode_json(const span_batch& batch, std::string& str) {
  str.clear();
  detail::append_buffer out(str);
  if (batch.empty()) {
    out.append("{}");
    out.finish();
    return;
  }
  out.append("{\"resourceSpans\":[{\"resource\":{");
  bool first = true;
  detail::json_attributes(out, first, batch.resource().attributes);
  out.append("},\"scopeSpans\":[{\"scope\":{");
  first = true;
  if (!batch.scope().name.empty()) {
    detail::json_member(out, first, "\"name\":");
    detail::json_string(out, batch.scope().name);
  }
  if (!batch.scope().version.empty()) {
    detail::json_member(out, first, "\"version\":");
    detail::json_string(out, batch.scope().version);
  }
  out.append("},\"spans\":[");
  bool first_span = true;
  for (const span_data& span : batch) {
    if (!first_span) out.push_back(',');
    first_span = false;
    detail::json_span(out, span);
  }
  out.append("]}]}]}");
  out.finish();
}

}  // namespace otlp
STREAMBUS_TRACING_END_NAMESPACE
