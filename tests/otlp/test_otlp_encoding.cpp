// OTLP encoders, checked with decoders that share no code with them:
// protobuf requests are decoded by nanopb code generated from the hand-written
// .proto files beside this file (and, when the build found protoc, re-encoded
// by protoc to prove the bytes are canonical); JSON requests are read by the
// strict RFC 8259 parser below.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>
#if __has_include(<streambus/tracing/otlp_encoder.hpp>)
#include <streambus/tracing/otlp_encoder.hpp>  // until the umbrella header includes it
#endif

#include <pb_decode.h>

#include <algorithm>
#include <clocale>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common.pb.h"
#include "resource.pb.h"
#include "trace.pb.h"
#include "trace_service.pb.h"

#if defined(STREAMBUS_OTLP_PROTOC)
#include <unistd.h>  // mkstemp, close, unlink
#endif

namespace st = streambus::tracing;
namespace otlp = streambus::tracing::otlp;

namespace {

// ============================================================ test data

constexpr std::string_view fffd = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

std::string bytes_of(const std::uint8_t* p, std::size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }
std::string bytes_of(const st::trace_id& id) { return bytes_of(id.data(), st::trace_id::size); }
std::string bytes_of(const st::span_id& id) { return bytes_of(id.data(), st::span_id::size); }

#include "../support/rich_batch.hpp"

// ============================================================ nanopb decoding

struct any_value_d {
  pb_size_t which = 0;  // the AnyValue oneof member seen (its field number), 0 = empty
  std::string str;      // string_value or bytes_value
  bool b = false;
  std::int64_t i = 0;
  double d = 0;
  std::vector<any_value_d> array;
};

struct key_value_d {
  std::string key;
  bool has_value = false;
  any_value_d value;
};

struct event_d {
  std::uint64_t time_unix_nano = 0;
  std::string name;
  std::vector<key_value_d> attributes;
  std::uint32_t dropped_attributes_count = 0;
};

struct link_d {
  std::string trace_id, span_id, trace_state;
  std::vector<key_value_d> attributes;
  std::uint32_t dropped_attributes_count = 0;
  std::uint32_t flags = 0;
};

struct span_d {
  std::string raw;                  // the Span message's own bytes
  std::vector<std::uint32_t> fields;  // field numbers in wire order, from `raw`
  std::string trace_id, span_id, trace_state, parent_span_id, name;
  int kind = 0;
  std::uint64_t start_time_unix_nano = 0, end_time_unix_nano = 0;
  std::vector<key_value_d> attributes;
  std::uint32_t dropped_attributes_count = 0;
  std::vector<event_d> events;
  std::uint32_t dropped_events_count = 0;
  std::vector<link_d> links;
  std::uint32_t dropped_links_count = 0;
  bool has_status = false;
  std::string status_message;
  int status_code = 0;
  std::uint32_t flags = 0;

  bool has_field(std::uint32_t n) const {
    for (auto f : fields)
      if (f == n) return true;
    return false;
  }
};

struct scope_spans_d {
  bool has_scope = false;
  std::string scope_name, scope_version;
  std::vector<span_d> spans;
};

struct resource_spans_d {
  bool has_resource = false;
  std::vector<key_value_d> resource_attributes;
  std::uint32_t resource_dropped = 0;
  std::vector<scope_spans_d> scope_spans;
};

struct request_d {
  std::vector<resource_spans_d> resource_spans;
};

// Field numbers of a message's top-level fields, in wire order: a few lines of
// wire-format walking, enough to see which proto3 fields were omitted.
bool list_fields(std::string_view msg, std::vector<std::uint32_t>& out) {
  std::size_t i = 0;
  auto varint = [&](std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= msg.size()) return false;
      const auto byte = static_cast<unsigned char>(msg[i++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  while (i < msg.size()) {
    std::uint64_t tag = 0, len = 0;
    if (!varint(tag)) return false;
    out.push_back(static_cast<std::uint32_t>(tag >> 3));
    switch (tag & 7) {
      case 0:
        if (!varint(len)) return false;
        break;
      case 1: i += 8; break;
      case 2:
        if (!varint(len) || len > msg.size() - i) return false;
        i += len;
        break;
      case 5: i += 4; break;
      default: return false;
    }
  }
  return i == msg.size();
}

using any_value_pb = opentelemetry_proto_common_v1_AnyValue;
using array_value_pb = opentelemetry_proto_common_v1_ArrayValue;
using key_value_pb = opentelemetry_proto_common_v1_KeyValue;
using span_pb = opentelemetry_proto_trace_v1_Span;
using event_pb = opentelemetry_proto_trace_v1_Span_Event;
using link_pb = opentelemetry_proto_trace_v1_Span_Link;
using scope_spans_pb = opentelemetry_proto_trace_v1_ScopeSpans;
using resource_spans_pb = opentelemetry_proto_trace_v1_ResourceSpans;
using request_pb = opentelemetry_proto_collector_trace_v1_ExportTraceServiceRequest;

template <class T>
T zeroed() {
  T m;
  std::memset(&m, 0, sizeof m);
  return m;
}

template <class T>
T& target(void** arg) {
  return *static_cast<T*>(*arg);
}

bool read_string(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& s = target<std::string>(arg);
  s.resize(stream->bytes_left);
  return pb_read(stream, reinterpret_cast<pb_byte_t*>(&s[0]), s.size());
}

void set_string(pb_callback_t& cb, std::string& s) {
  cb.funcs.decode = read_string;
  cb.arg = &s;
}

bool decode_any_values(pb_istream_t* stream, const pb_field_t*, void** arg);

// string_value and bytes_value are callbacks inside AnyValue's union: one
// callback slot at the union's start serves both; field->tag says which.
bool any_string(pb_istream_t* stream, const pb_field_t* field, void** arg) {
  auto& v = target<any_value_d>(arg);
  v.which = field->tag;
  v.str.resize(stream->bytes_left);
  return pb_read(stream, reinterpret_cast<pb_byte_t*>(&v.str[0]), v.str.size());
}

// Called before a submessage member of the oneof is decoded (nanopb's
// submsg_callback), to hook the array's element callback.
bool any_submessage(pb_istream_t*, const pb_field_t* field, void** arg) {
  auto& v = target<any_value_d>(arg);
  v.which = field->tag;
  if (field->tag == opentelemetry_proto_common_v1_AnyValue_array_value_tag) {
    auto* array = static_cast<array_value_pb*>(field->pData);
    array->values.funcs.decode = decode_any_values;
    array->values.arg = &v.array;
  }
  return true;
}

bool decode_any_value(pb_istream_t* stream, any_value_d& out) {
  auto m = zeroed<any_value_pb>();
  m.cb_value.funcs.decode = any_submessage;
  m.cb_value.arg = &out;
  m.value.string_value.funcs.decode = any_string;
  m.value.string_value.arg = &out;
  if (!pb_decode_ex(stream, opentelemetry_proto_common_v1_AnyValue_fields, &m, PB_DECODE_NOINIT)) return false;
  if (out.which == 0 || m.which_value == opentelemetry_proto_common_v1_AnyValue_bool_value_tag ||
      m.which_value == opentelemetry_proto_common_v1_AnyValue_int_value_tag ||
      m.which_value == opentelemetry_proto_common_v1_AnyValue_double_value_tag) {
    out.which = m.which_value;
    switch (m.which_value) {
      case opentelemetry_proto_common_v1_AnyValue_bool_value_tag: out.b = m.value.bool_value; break;
      case opentelemetry_proto_common_v1_AnyValue_int_value_tag: out.i = m.value.int_value; break;
      case opentelemetry_proto_common_v1_AnyValue_double_value_tag: out.d = m.value.double_value; break;
      default: break;
    }
  }
  return true;
}

bool decode_any_values(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& values = target<std::vector<any_value_d>>(arg);
  values.emplace_back();
  return decode_any_value(stream, values.back());
}

bool decode_key_value(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& list = target<std::vector<key_value_d>>(arg);
  list.emplace_back();
  key_value_d& kv = list.back();
  auto m = zeroed<key_value_pb>();
  set_string(m.key, kv.key);
  m.value.cb_value.funcs.decode = any_submessage;
  m.value.cb_value.arg = &kv.value;
  m.value.value.string_value.funcs.decode = any_string;
  m.value.value.string_value.arg = &kv.value;
  if (!pb_decode_ex(stream, opentelemetry_proto_common_v1_KeyValue_fields, &m, PB_DECODE_NOINIT)) return false;
  kv.has_value = m.has_value;
  if (kv.value.which == 0 || m.value.which_value == opentelemetry_proto_common_v1_AnyValue_bool_value_tag ||
      m.value.which_value == opentelemetry_proto_common_v1_AnyValue_int_value_tag ||
      m.value.which_value == opentelemetry_proto_common_v1_AnyValue_double_value_tag) {
    kv.value.which = m.value.which_value;
    switch (m.value.which_value) {
      case opentelemetry_proto_common_v1_AnyValue_bool_value_tag: kv.value.b = m.value.value.bool_value; break;
      case opentelemetry_proto_common_v1_AnyValue_int_value_tag: kv.value.i = m.value.value.int_value; break;
      case opentelemetry_proto_common_v1_AnyValue_double_value_tag:
        kv.value.d = m.value.value.double_value;
        break;
      default: break;
    }
  }
  return true;
}

void set_attributes(pb_callback_t& cb, std::vector<key_value_d>& list) {
  cb.funcs.decode = decode_key_value;
  cb.arg = &list;
}

bool decode_event(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& events = target<std::vector<event_d>>(arg);
  events.emplace_back();
  event_d& e = events.back();
  auto m = zeroed<event_pb>();
  set_string(m.name, e.name);
  set_attributes(m.attributes, e.attributes);
  if (!pb_decode_ex(stream, opentelemetry_proto_trace_v1_Span_Event_fields, &m, PB_DECODE_NOINIT)) return false;
  e.time_unix_nano = m.time_unix_nano;
  e.dropped_attributes_count = m.dropped_attributes_count;
  return true;
}

bool decode_link(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& links = target<std::vector<link_d>>(arg);
  links.emplace_back();
  link_d& l = links.back();
  auto m = zeroed<link_pb>();
  set_string(m.trace_id, l.trace_id);
  set_string(m.span_id, l.span_id);
  set_string(m.trace_state, l.trace_state);
  set_attributes(m.attributes, l.attributes);
  if (!pb_decode_ex(stream, opentelemetry_proto_trace_v1_Span_Link_fields, &m, PB_DECODE_NOINIT)) return false;
  l.dropped_attributes_count = m.dropped_attributes_count;
  l.flags = m.flags;
  return true;
}

bool decode_span(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& spans = target<std::vector<span_d>>(arg);
  spans.emplace_back();
  span_d& s = spans.back();
  s.raw.resize(stream->bytes_left);
  if (!pb_read(stream, reinterpret_cast<pb_byte_t*>(&s.raw[0]), s.raw.size())) return false;
  if (!list_fields(s.raw, s.fields)) return false;

  auto m = zeroed<span_pb>();
  set_string(m.trace_id, s.trace_id);
  set_string(m.span_id, s.span_id);
  set_string(m.trace_state, s.trace_state);
  set_string(m.parent_span_id, s.parent_span_id);
  set_string(m.name, s.name);
  set_attributes(m.attributes, s.attributes);
  m.events.funcs.decode = decode_event;
  m.events.arg = &s.events;
  m.links.funcs.decode = decode_link;
  m.links.arg = &s.links;
  set_string(m.status.message, s.status_message);
  pb_istream_t sub = pb_istream_from_buffer(reinterpret_cast<const pb_byte_t*>(s.raw.data()), s.raw.size());
  if (!pb_decode_ex(&sub, opentelemetry_proto_trace_v1_Span_fields, &m, PB_DECODE_NOINIT)) return false;
  s.kind = static_cast<int>(m.kind);
  s.start_time_unix_nano = m.start_time_unix_nano;
  s.end_time_unix_nano = m.end_time_unix_nano;
  s.dropped_attributes_count = m.dropped_attributes_count;
  s.dropped_events_count = m.dropped_events_count;
  s.dropped_links_count = m.dropped_links_count;
  s.has_status = m.has_status;
  s.status_code = static_cast<int>(m.status.code);
  s.flags = m.flags;
  return true;
}

bool decode_scope_spans(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& list = target<std::vector<scope_spans_d>>(arg);
  list.emplace_back();
  scope_spans_d& ss = list.back();
  auto m = zeroed<scope_spans_pb>();
  set_string(m.scope.name, ss.scope_name);
  set_string(m.scope.version, ss.scope_version);
  m.spans.funcs.decode = decode_span;
  m.spans.arg = &ss.spans;
  if (!pb_decode_ex(stream, opentelemetry_proto_trace_v1_ScopeSpans_fields, &m, PB_DECODE_NOINIT)) return false;
  ss.has_scope = m.has_scope;
  return true;
}

bool decode_resource_spans(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& list = target<std::vector<resource_spans_d>>(arg);
  list.emplace_back();
  resource_spans_d& rs = list.back();
  auto m = zeroed<resource_spans_pb>();
  set_attributes(m.resource.attributes, rs.resource_attributes);
  m.scope_spans.funcs.decode = decode_scope_spans;
  m.scope_spans.arg = &rs.scope_spans;
  if (!pb_decode_ex(stream, opentelemetry_proto_trace_v1_ResourceSpans_fields, &m, PB_DECODE_NOINIT)) return false;
  rs.has_resource = m.has_resource;
  rs.resource_dropped = m.resource.dropped_attributes_count;
  return true;
}

bool decode_request(const std::string& bytes, request_d& out) {
  auto m = zeroed<request_pb>();
  m.resource_spans.funcs.decode = decode_resource_spans;
  m.resource_spans.arg = &out.resource_spans;
  pb_istream_t stream = pb_istream_from_buffer(reinterpret_cast<const pb_byte_t*>(bytes.data()), bytes.size());
  if (!pb_decode_ex(&stream, opentelemetry_proto_collector_trace_v1_ExportTraceServiceRequest_fields, &m,
                    PB_DECODE_NOINIT)) {
    MESSAGE("nanopb: " << PB_GET_ERROR(&stream));
    return false;
  }
  return stream.bytes_left == 0;
}

// Encodes and decodes; the request must hold one ResourceSpans with one ScopeSpans.
const scope_spans_d& decode_single(const batch_fixture& f, request_d& request, std::string& bytes) {
  otlp::encode_protobuf(f.batch(), bytes);
  REQUIRE(decode_request(bytes, request));
  REQUIRE(request.resource_spans.size() == 1);
  REQUIRE(request.resource_spans[0].has_resource);
  REQUIRE(request.resource_spans[0].scope_spans.size() == 1);
  return request.resource_spans[0].scope_spans[0];
}

// ---- comparisons against the span_data the request came from

bool same_double(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;  // bit-exact: tells 0.0 from -0.0
}

template <class T>
void check_scalar_any(const any_value_d& got, const T& want) {
  if constexpr (std::is_same_v<T, bool>) {
    CHECK(got.which == opentelemetry_proto_common_v1_AnyValue_bool_value_tag);
    CHECK(got.b == want);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    CHECK(got.which == opentelemetry_proto_common_v1_AnyValue_int_value_tag);
    CHECK(got.i == want);
  } else if constexpr (std::is_same_v<T, double>) {
    CHECK(got.which == opentelemetry_proto_common_v1_AnyValue_double_value_tag);
    CHECK(same_double(got.d, want));
  } else {
    CHECK(got.which == opentelemetry_proto_common_v1_AnyValue_string_value_tag);
    CHECK(got.str == want);
  }
}

template <class T>
void check_array_any(const any_value_d& got, const std::vector<T>& want) {
  CHECK(got.which == opentelemetry_proto_common_v1_AnyValue_array_value_tag);
  REQUIRE(got.array.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) check_scalar_any<T>(got.array[i], want[i]);
}

void check_value(const any_value_d& got, const st::attribute_value& want) {
  const auto& v = want.storage();
  if (auto* b = std::get_if<bool>(&v)) check_scalar_any(got, *b);
  else if (auto* i = std::get_if<std::int64_t>(&v)) check_scalar_any(got, *i);
  else if (auto* d = std::get_if<double>(&v)) check_scalar_any(got, *d);
  else if (auto* s = std::get_if<std::string>(&v)) check_scalar_any(got, *s);
  else if (auto* vb = std::get_if<std::vector<bool>>(&v)) check_array_any(got, *vb);
  else if (auto* vi = std::get_if<std::vector<std::int64_t>>(&v)) check_array_any(got, *vi);
  else if (auto* vd = std::get_if<std::vector<double>>(&v)) check_array_any(got, *vd);
  else if (auto* vs = std::get_if<std::vector<std::string>>(&v)) check_array_any(got, *vs);
  else FAIL("unknown attribute type");
}

void check_attributes(const std::vector<key_value_d>& got, const st::attribute_list& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("attribute " << want[i].key);
    CHECK(got[i].key == want[i].key);
    CHECK(got[i].has_value);
    check_value(got[i].value, want[i].value);
  }
}

std::uint32_t expected_span_flags(const st::span_data& s) {
  std::uint32_t flags = s.context.flags().bits() | 0x100u;
  if (s.parent_span_id.valid() && s.parent_is_remote) flags |= 0x200u;
  return flags;
}

void check_span(const span_d& got, const st::span_data& want) {
  CHECK(got.trace_id == bytes_of(want.context.trace_id()));
  CHECK(got.span_id == bytes_of(want.context.span_id()));
  CHECK(got.trace_state == std::string(want.context.trace_state().header()));
  if (want.parent_span_id.valid()) {
    CHECK(got.has_field(4));
    CHECK(got.parent_span_id == bytes_of(want.parent_span_id));
  } else {
    CHECK_FALSE(got.has_field(4));
  }
  CHECK(got.flags == expected_span_flags(want));
  CHECK(got.name == want.name);
  CHECK(got.kind == static_cast<int>(want.kind));
  CHECK(got.start_time_unix_nano == want.start_time_unix_nano);
  CHECK(got.end_time_unix_nano == want.end_time_unix_nano);
  check_attributes(got.attributes, want.attributes);
  CHECK(got.dropped_attributes_count == want.attributes.dropped());
  REQUIRE(got.events.size() == want.events.size());
  for (std::size_t i = 0; i < want.events.size(); ++i) {
    const auto& e = want.events[i];
    CHECK(got.events[i].time_unix_nano == e.time_unix_nano);
    CHECK(got.events[i].name == e.name);
    check_attributes(got.events[i].attributes, e.attributes);
    CHECK(got.events[i].dropped_attributes_count == e.attributes.dropped());
  }
  CHECK(got.dropped_events_count == want.dropped_events);
  REQUIRE(got.links.size() == want.links.size());
  for (std::size_t i = 0; i < want.links.size(); ++i) {
    const auto& l = want.links[i];
    CHECK(got.links[i].trace_id == bytes_of(l.context.trace_id()));
    CHECK(got.links[i].span_id == bytes_of(l.context.span_id()));
    CHECK(got.links[i].trace_state == std::string(l.context.trace_state().header()));
    check_attributes(got.links[i].attributes, l.attributes);
    CHECK(got.links[i].dropped_attributes_count == l.attributes.dropped());
    CHECK(got.links[i].flags == (l.context.flags().bits() | 0x100u | (l.context.is_remote() ? 0x200u : 0u)));
  }
  CHECK(got.dropped_links_count == want.dropped_links);
  CHECK(got.has_status == (want.status != st::status_code::unset || !want.status_message.empty()));
  CHECK(got.status_code == static_cast<int>(want.status));
  CHECK(got.status_message == want.status_message);
}

// ============================================================ strict JSON

#include "../support/strict_json.hpp"

const json_value& json_single_scope_spans(const json_value& doc) {
  REQUIRE(doc.keys() == std::vector<std::string>{"resourceSpans"});
  REQUIRE(doc["resourceSpans"].items.size() == 1);
  const json_value& rs = doc["resourceSpans"][0];
  REQUIRE(rs.has("resource"));
  REQUIRE(rs["scopeSpans"].items.size() == 1);
  return rs["scopeSpans"][0];
}

std::string hex_of(const std::string& raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// Reads a JSON double as proto3 JSON writes it: a number, or "NaN"/"Infinity"/"-Infinity".
double json_to_double(const json_value& v) {
  if (v.kind == json_value::string) {
    if (v.text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (v.text == "Infinity") return std::numeric_limits<double>::infinity();
    if (v.text == "-Infinity") return -std::numeric_limits<double>::infinity();
    FAIL("unexpected double string " << v.text);
  }
  REQUIRE(v.kind == json_value::number);
  return std::strtod(v.text.c_str(), nullptr);  // the "C" locale: the test never changes LC_NUMERIC here
}

template <class T>
void check_json_scalar_any(const json_value& got, const T& want) {
  REQUIRE(got.kind == json_value::object);
  REQUIRE(got.members.size() == 1);
  if constexpr (std::is_same_v<T, bool>) {
    REQUIRE(got.has("boolValue"));
    CHECK(got["boolValue"].kind == json_value::boolean);
    CHECK(got["boolValue"].b == want);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    REQUIRE(got.has("intValue"));
    CHECK(got["intValue"].kind == json_value::string);  // 64-bit integers are decimal strings
    CHECK(got["intValue"].text == std::to_string(want));
  } else if constexpr (std::is_same_v<T, double>) {
    REQUIRE(got.has("doubleValue"));
    CHECK(same_double(json_to_double(got["doubleValue"]), want));
  } else {
    REQUIRE(got.has("stringValue"));
    CHECK(got["stringValue"].kind == json_value::string);
    CHECK(got["stringValue"].text == want);
  }
}

template <class T>
void check_json_array_any(const json_value& got, const std::vector<T>& want) {
  REQUIRE(got.keys() == std::vector<std::string>{"arrayValue"});
  const json_value& arr = got["arrayValue"];
  REQUIRE(arr.kind == json_value::object);
  if (want.empty()) {
    CHECK((arr.members.empty() || arr["values"].items.empty()));
    return;
  }
  REQUIRE(arr["values"].items.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) check_json_scalar_any<T>(arr["values"][i], want[i]);
}

void check_json_value(const json_value& got, const st::attribute_value& want) {
  const auto& v = want.storage();
  if (auto* b = std::get_if<bool>(&v)) check_json_scalar_any(got, *b);
  else if (auto* i = std::get_if<std::int64_t>(&v)) check_json_scalar_any(got, *i);
  else if (auto* d = std::get_if<double>(&v)) check_json_scalar_any(got, *d);
  else if (auto* s = std::get_if<std::string>(&v)) check_json_scalar_any(got, *s);
  else if (auto* vb = std::get_if<std::vector<bool>>(&v)) check_json_array_any(got, *vb);
  else if (auto* vi = std::get_if<std::vector<std::int64_t>>(&v)) check_json_array_any(got, *vi);
  else if (auto* vd = std::get_if<std::vector<double>>(&v)) check_json_array_any(got, *vd);
  else if (auto* vs = std::get_if<std::vector<std::string>>(&v)) check_json_array_any(got, *vs);
  else FAIL("unknown attribute type");
}

// `obj` holds "attributes" and "droppedAttributesCount" as OTLP/JSON writes them.
void check_json_attributes(const json_value& obj, const st::attribute_list& want) {
  if (want.empty()) {
    CHECK_FALSE(obj.has("attributes"));
  } else {
    const json_value& list = obj["attributes"];
    REQUIRE(list.items.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      INFO("attribute " << want[i].key);
      CHECK(list[i].keys() == std::vector<std::string>{"key", "value"});
      CHECK(list[i]["key"].text == want[i].key);
      check_json_value(list[i]["value"], want[i].value);
    }
  }
  if (want.dropped() == 0) {
    CHECK_FALSE(obj.has("droppedAttributesCount"));
  } else {
    CHECK(obj["droppedAttributesCount"].kind == json_value::number);
    CHECK(obj["droppedAttributesCount"].text == std::to_string(want.dropped()));
  }
}

// Optional JSON members: absent when the proto3 value is the default.
void check_json_optional_string(const json_value& obj, std::string_view key, const std::string& want) {
  INFO("member " << key);
  if (want.empty()) {
    CHECK_FALSE(obj.has(key));
  } else {
    CHECK(obj[key].kind == json_value::string);
    CHECK(obj[key].text == want);
  }
}

void check_json_optional_u64(const json_value& obj, std::string_view key, std::uint64_t want, bool quoted) {
  INFO("member " << key);
  if (want == 0) {
    CHECK_FALSE(obj.has(key));
  } else {
    CHECK(obj[key].kind == (quoted ? json_value::string : json_value::number));
    CHECK(obj[key].text == std::to_string(want));
  }
}

void check_json_span(const json_value& got, const st::span_data& want) {
  REQUIRE(got.kind == json_value::object);
  CHECK(got["traceId"].text == want.context.trace_id().to_hex());
  CHECK(got["spanId"].text == want.context.span_id().to_hex());
  check_json_optional_string(got, "traceState", std::string(want.context.trace_state().header()));
  if (want.parent_span_id.valid()) {
    CHECK(got["parentSpanId"].text == want.parent_span_id.to_hex());
  } else {
    CHECK_FALSE(got.has("parentSpanId"));
  }
  CHECK(got["flags"].kind == json_value::number);
  CHECK(got["flags"].text == std::to_string(expected_span_flags(want)));
  check_json_optional_string(got, "name", want.name.str());
  CHECK(got["kind"].kind == json_value::number);  // enums are integers
  CHECK(got["kind"].text == std::to_string(static_cast<int>(want.kind)));
  check_json_optional_u64(got, "startTimeUnixNano", want.start_time_unix_nano, true);
  check_json_optional_u64(got, "endTimeUnixNano", want.end_time_unix_nano, true);
  check_json_attributes(got, want.attributes);
  if (want.events.empty()) {
    CHECK_FALSE(got.has("events"));
  } else {
    REQUIRE(got["events"].items.size() == want.events.size());
    for (std::size_t i = 0; i < want.events.size(); ++i) {
      const json_value& e = got["events"][i];
      check_json_optional_u64(e, "timeUnixNano", want.events[i].time_unix_nano, true);
      check_json_optional_string(e, "name", want.events[i].name);
      check_json_attributes(e, want.events[i].attributes);
    }
  }
  check_json_optional_u64(got, "droppedEventsCount", want.dropped_events, false);
  if (want.links.empty()) {
    CHECK_FALSE(got.has("links"));
  } else {
    REQUIRE(got["links"].items.size() == want.links.size());
    for (std::size_t i = 0; i < want.links.size(); ++i) {
      const json_value& l = got["links"][i];
      const auto& ctx = want.links[i].context;
      CHECK(l["traceId"].text == ctx.trace_id().to_hex());
      CHECK(l["spanId"].text == ctx.span_id().to_hex());
      check_json_optional_string(l, "traceState", std::string(ctx.trace_state().header()));
      check_json_attributes(l, want.links[i].attributes);
      CHECK(l["flags"].text == std::to_string(ctx.flags().bits() | 0x100u | (ctx.is_remote() ? 0x200u : 0u)));
    }
  }
  check_json_optional_u64(got, "droppedLinksCount", want.dropped_links, false);
  if (want.status == st::status_code::unset && want.status_message.empty()) {
    CHECK_FALSE(got.has("status"));
  } else {
    const json_value& status = got["status"];
    REQUIRE(status.kind == json_value::object);
    check_json_optional_string(status, "message", want.status_message);
    check_json_optional_u64(status, "code", static_cast<std::uint64_t>(want.status), false);
  }
}

}  // namespace

// ============================================================ protobuf

TEST_CASE("protobuf: every span field, attribute type, event and link decodes back with nanopb") {
  batch_fixture f;
  fill_resource(f);
  fill_rich_span(f.add());
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  REQUIRE(ss.spans.size() == 1);
  check_span(ss.spans[0], *f.spans[0]);
  // Field 16 (flags) comes last: fields are written in field-number order, as
  // protobuf's own serializers do.
  CHECK(ss.spans[0].fields.back() == 16u);
  for (std::size_t i = 1; i < ss.spans[0].fields.size(); ++i)
    CHECK(ss.spans[0].fields[i - 1] <= ss.spans[0].fields[i]);
}

TEST_CASE("protobuf: resource attributes, their dropped count and the scope name/version are carried") {
  batch_fixture f;
  fill_resource(f);
  f.add().context = make_context(1, 2, 3, 1);
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  const resource_spans_d& rs = request.resource_spans[0];
  check_attributes(rs.resource_attributes, f.res.attributes);
  CHECK(rs.resource_dropped == 1);
  CHECK(ss.has_scope);
  CHECK(ss.scope_name == "orders.http");
  CHECK(ss.scope_version == "2.0.1");
}

TEST_CASE("protobuf: an empty resource and scope are still present, as empty messages") {
  batch_fixture f;
  f.scope.name.clear();
  f.scope.version.clear();
  f.add().context = make_context(1, 2, 3, 1);
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  CHECK(request.resource_spans[0].resource_attributes.empty());
  CHECK(request.resource_spans[0].resource_dropped == 0);
  CHECK(ss.has_scope);
  CHECK(ss.scope_name.empty());
  CHECK(ss.scope_version.empty());
}

TEST_CASE("protobuf: a root span omits parent_span_id and every default-valued field") {
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(7, 8, 9, 0x01);
  s.kind = st::span_kind::internal;
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  REQUIRE(ss.spans.size() == 1);
  const span_d& got = ss.spans[0];
  // trace_id, span_id, kind, flags: nothing else is on the wire.
  CHECK(got.fields == std::vector<std::uint32_t>{1, 2, 6, 16});
  CHECK(got.flags == (0x01u | 0x100u));  // HAS_IS_REMOTE: "no remote parent" is known
  CHECK_FALSE(got.has_status);
  check_span(got, s);
}

TEST_CASE("protobuf: span flags mark a remote parent with IS_REMOTE and a local one without") {
  batch_fixture f;
  st::span_data& remote = f.add();
  remote.context = make_context(1, 1, 1, 0x01);
  remote.parent_span_id = st::span_id::from_u64(10);
  remote.parent_is_remote = true;
  st::span_data& local = f.add();
  local.context = make_context(1, 1, 2, 0x03);
  local.parent_span_id = st::span_id::from_u64(1);
  st::span_data& unsampled_root = f.add();
  unsampled_root.context = make_context(2, 2, 3, 0x00);
  st::span_data& root_marked_remote = f.add();  // no parent, so nothing remote about it
  root_marked_remote.context = make_context(3, 3, 4, 0x01);
  root_marked_remote.parent_is_remote = true;
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  REQUIRE(ss.spans.size() == 4);
  CHECK(ss.spans[0].flags == 0x301u);
  CHECK(ss.spans[1].flags == 0x103u);
  CHECK(ss.spans[2].flags == 0x100u);
  CHECK(ss.spans[3].flags == 0x101u);
  CHECK(ss.spans[0].parent_span_id == bytes_of(st::span_id::from_u64(10)));
  CHECK(ss.spans[1].parent_span_id == bytes_of(st::span_id::from_u64(1)));
  CHECK_FALSE(ss.spans[2].has_field(4));
}

TEST_CASE("protobuf: link flags carry the linked context's trace flags and remoteness") {
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 1);
  auto& remote = s.links.next_slot();
  remote.context = make_context(4, 5, 6, 0x01, true, "k=v");
  auto& local = s.links.next_slot();
  local.context = make_context(7, 8, 9, 0x02, false);
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  REQUIRE(ss.spans[0].links.size() == 2);
  CHECK(ss.spans[0].links[0].flags == 0x301u);
  CHECK(ss.spans[0].links[0].trace_state == "k=v");
  CHECK(ss.spans[0].links[1].flags == 0x102u);
  CHECK(ss.spans[0].links[1].trace_state.empty());
  check_span(ss.spans[0], s);
}

TEST_CASE("protobuf: empty strings, zero, false and empty arrays keep their AnyValue type") {
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 1);
  s.attributes.set("s", "");
  s.attributes.set("i", 0);
  s.attributes.set("b", false);
  s.attributes.set("d", 0.0);
  s.attributes.set("neg0", -0.0);
  s.attributes.set("ab", std::vector<bool>{});
  s.attributes.set("as", std::vector<std::string>{""});
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  const auto& attrs = ss.spans[0].attributes;
  REQUIRE(attrs.size() == 7);
  CHECK(attrs[0].value.which == opentelemetry_proto_common_v1_AnyValue_string_value_tag);
  CHECK(attrs[1].value.which == opentelemetry_proto_common_v1_AnyValue_int_value_tag);
  CHECK(attrs[2].value.which == opentelemetry_proto_common_v1_AnyValue_bool_value_tag);
  CHECK(attrs[3].value.which == opentelemetry_proto_common_v1_AnyValue_double_value_tag);
  CHECK(std::signbit(attrs[4].value.d));
  CHECK(attrs[5].value.which == opentelemetry_proto_common_v1_AnyValue_array_value_tag);
  CHECK(attrs[5].value.array.empty());
  REQUIRE(attrs[6].value.array.size() == 1);
  CHECK(attrs[6].value.array[0].which == opentelemetry_proto_common_v1_AnyValue_string_value_tag);
  check_span(ss.spans[0], s);
}

TEST_CASE("protobuf: NaN, infinities and denormals travel bit-exact as double_value") {
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 1);
  s.attributes.set("nan", std::numeric_limits<double>::quiet_NaN());
  s.attributes.set("inf", std::numeric_limits<double>::infinity());
  s.attributes.set("-inf", -std::numeric_limits<double>::infinity());
  s.attributes.set("denorm", std::numeric_limits<double>::denorm_min());
  s.attributes.set("arr", std::vector<double>{std::numeric_limits<double>::quiet_NaN(), 1e-310});
  request_d request;
  std::string bytes;
  check_span(decode_single(f, request, bytes).spans[0], s);
}

TEST_CASE("protobuf: 512 spans with 4 attributes each decode in order") {
  batch_fixture f;
  fill_resource(f);
  for (int i = 0; i < 512; ++i) {
    st::span_data& s = f.add();
    s.context = make_context(0xabcdef, static_cast<std::uint64_t>(i) + 1, static_cast<std::uint64_t>(i) + 100, 1);
    if (i > 0) s.parent_span_id = st::span_id::from_u64(100);
    s.name = "span-" + std::to_string(i);
    s.kind = static_cast<st::span_kind>(1 + i % 5);
    s.start_time_unix_nano = 1700000000000000000ULL + static_cast<std::uint64_t>(i);
    s.end_time_unix_nano = s.start_time_unix_nano + 1000;
    s.attributes.set("http.request.method", "GET");
    s.attributes.set("http.response.status_code", 200 + i % 5);
    s.attributes.set("server.address", "example.com");
    s.attributes.set("sampled", i % 2 == 0);
  }
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  REQUIRE(ss.spans.size() == 512);
  for (std::size_t i = 0; i < 512; ++i) check_span(ss.spans[i], *f.spans[i]);
}

TEST_CASE("protobuf: length prefixes are right when bodies outgrow or undershoot the reserved bytes") {
  // A 3 MB attribute needs 4 length bytes in the span, the scope and the
  // resource spans (reserved: 2, 3, 3); a 200-byte key value needs 2 (reserved: 1).
  batch_fixture f;
  st::span_data& big = f.add();
  big.context = make_context(1, 2, 3, 1);
  big.attributes.set("huge", std::string(3u << 20, 'x'));
  big.attributes.set("medium", std::string(200, 'y'));
  big.attributes.set("array", std::vector<std::string>(40, std::string(10, 'z')));
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  REQUIRE(ss.spans.size() == 1);
  check_span(ss.spans[0], big);

  // A tiny batch shrinks the 3 reserved bytes to 1.
  batch_fixture tiny;
  tiny.scope.name.clear();
  tiny.scope.version.clear();
  tiny.add().context = make_context(1, 2, 3, 1);
  request_d tiny_request;
  std::string tiny_bytes;
  decode_single(tiny, tiny_request, tiny_bytes);
  // 10 (tag + length of ResourceSpans, of Resource, of ScopeSpans, of Scope, of Span = 2 bytes each)
  // + trace_id (2 + 16) + span_id (2 + 8) + kind (2) + flags (2 + 4): every length took one byte.
  CHECK(tiny_bytes.size() == 10 + 18 + 10 + 2 + 6);
}

TEST_CASE("protobuf: ill-formed UTF-8 in any string field becomes U+FFFD") {
  batch_fixture f;
  f.res.attributes.set("bad\xFFkey", "v\xC0\xAF");
  f.scope.name = "scope\x80";
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 1);
  s.name = "name\xE2\x82";
  s.status = st::status_code::error;
  s.status_message = "\xED\xA0\x80msg";
  s.attributes.set("arr", std::vector<std::string>{"ok", "\xF4\x90\x80\x80"});
  auto& e = s.events.next_slot();
  e.name = "\xF0\x9F\x98";
  request_d request;
  std::string bytes;
  const scope_spans_d& ss = decode_single(f, request, bytes);
  const auto& rattrs = request.resource_spans[0].resource_attributes;
  REQUIRE(rattrs.size() == 1);
  CHECK(rattrs[0].key == "bad" + std::string(fffd) + "key");
  CHECK(rattrs[0].value.str == "v" + std::string(fffd) + std::string(fffd));
  CHECK(ss.scope_name == "scope" + std::string(fffd));
  const span_d& got = ss.spans[0];
  CHECK(got.name == "name" + std::string(fffd));
  CHECK(got.status_message == std::string(fffd) + std::string(fffd) + std::string(fffd) + "msg");
  REQUIRE(got.attributes.size() == 1);
  REQUIRE(got.attributes[0].value.array.size() == 2);
  CHECK(got.attributes[0].value.array[0].str == "ok");
  CHECK(got.attributes[0].value.array[1].str == std::string(fffd) + std::string(fffd) + std::string(fffd) +
                                                   std::string(fffd));
  REQUIRE(got.events.size() == 1);
  CHECK(got.events[0].name == std::string(fffd));
}

TEST_CASE("protobuf: keys repaired before export are written unchecked, to the very same bytes") {
  // The pipeline repairs keys (detail::settle_for_export) and the encoder then
  // skips its own check of them: the output must not change.
  batch_fixture checked, repaired;
  fill_rich_span(checked.add());
  fill_rich_span(repaired.add());
  checked.spans[0]->attributes.set("caf\xC3\xA9", 1);
  repaired.spans[0]->attributes.set("caf\xC3\xA9", 1);
  repaired.spans[0]->attributes.set("bad\xFF", 2);
  checked.spans[0]->attributes.set("bad\xEF\xBF\xBD", 2);  // what the repair makes of it
  st::detail::settle_for_export(*repaired.spans[0]);
  REQUIRE(repaired.spans[0]->attributes.keys_repaired());
  REQUIRE_FALSE(checked.spans[0]->attributes.keys_repaired());
  std::string want, got;
  otlp::encode_protobuf(checked.batch(), want);
  otlp::encode_protobuf(repaired.batch(), got);
  CHECK(got == want);
  request_d request;
  const scope_spans_d& ss = decode_single(repaired, request, got);
  const auto& attrs = ss.spans[0].attributes;
  REQUIRE(attrs.size() >= 2);
  CHECK(attrs[attrs.size() - 2].key == "caf\xC3\xA9");
  CHECK(attrs.back().key == "bad" + std::string(fffd));
}

TEST_CASE("protobuf: an empty batch is an empty request and the buffer is replaced, not appended to") {
  batch_fixture f;
  std::string out = "stale contents";
  otlp::encode_protobuf(f.batch(), out);
  CHECK(out.empty());
  request_d request;
  CHECK(decode_request(out, request));
  CHECK(request.resource_spans.empty());
}

TEST_CASE("protobuf and json: re-encoding into the same buffer reuses its storage") {
  batch_fixture f;
  fill_resource(f);
  for (int i = 0; i < 64; ++i) fill_rich_span(f.add());
  std::string out;
  otlp::encode_protobuf(f.batch(), out);
  const std::string first = out;
  const char* data = out.data();
  const std::size_t capacity = out.capacity();
  otlp::encode_protobuf(f.batch(), out);
  CHECK(out == first);  // deterministic
  CHECK(out.data() == data);
  CHECK(out.capacity() == capacity);

  otlp::encode_json(f.batch(), out);
  const std::string first_json = out;
  data = out.data();
  otlp::encode_json(f.batch(), out);
  CHECK(out == first_json);
  CHECK(out.data() == data);
}

#if defined(STREAMBUS_OTLP_PROTOC)
namespace {
std::string run_protoc_round_trip(const std::string& bytes, std::string& text) {
  char in_path[] = "/tmp/streambus_otlp_in_XXXXXX";
  char txt_path[] = "/tmp/streambus_otlp_txt_XXXXXX";
  char out_path[] = "/tmp/streambus_otlp_out_XXXXXX";
  for (char* p : {in_path, txt_path, out_path}) {
    const int fd = mkstemp(p);
    REQUIRE(fd >= 0);
    close(fd);
  }
  std::FILE* in = std::fopen(in_path, "wb");
  REQUIRE(in != nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), in);
  std::fclose(in);
  auto run = [](const char* mode, const char* from, const char* to) {
    const std::string cmd = std::string("\"") + STREAMBUS_OTLP_PROTOC + "\" -I\"" + STREAMBUS_OTLP_PROTO_DIR +
                            "\" trace_service.proto --" + mode +
                            "=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest < \"" + from +
                            "\" > \"" + to + "\"";
    return std::system(cmd.c_str());
  };
  const int decode_rc = run("decode", in_path, txt_path);
  const int encode_rc = run("encode", txt_path, out_path);
  auto slurp = [](const char* path) {
    std::string s;
    if (std::FILE* fp = std::fopen(path, "rb")) {
      char buf[65536];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) s.append(buf, n);
      std::fclose(fp);
    }
    return s;
  };
  text = slurp(txt_path);
  std::string out = slurp(out_path);
  for (const char* p : {in_path, txt_path, out_path}) unlink(p);
  REQUIRE(decode_rc == 0);
  REQUIRE(encode_rc == 0);
  return out;
}
}  // namespace

TEST_CASE("protobuf: protoc decodes the request and re-encodes it to the very same bytes (canonical encoding)") {
  batch_fixture f;
  fill_resource(f);
  fill_rich_span(f.add());
  st::span_data& root = f.add();
  root.context = make_context(9, 9, 9, 0);
  root.name = "root";
  root.attributes.set("bad.utf8", "x\xFFy");
  for (int i = 0; i < 40; ++i) fill_rich_span(f.add());  // the ScopeSpans length needs 3 bytes
  std::string bytes;
  otlp::encode_protobuf(f.batch(), bytes);
  std::string text;
  const std::string again = run_protoc_round_trip(bytes, text);
  CHECK(text.find("kind: SPAN_KIND_SERVER") != std::string::npos);
  CHECK(text.find("code: STATUS_CODE_ERROR") != std::string::npos);
  CHECK(text.find("flags: 771") != std::string::npos);  // 0x303: sampled|random, remote parent
  CHECK(again.size() == bytes.size());
  CHECK(again == bytes);
}
#endif

// ============================================================ JSON

TEST_CASE("json: the request has the OTLP/JSON shape and every span field matches") {
  batch_fixture f;
  fill_resource(f);
  fill_rich_span(f.add());
  st::span_data& root = f.add();
  root.context = make_context(0xffffffffffffffffULL, 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x01);
  root.kind = st::span_kind::client;
  root.name = "root";
  std::string out;
  otlp::encode_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& rs = doc["resourceSpans"][0];
  CHECK(rs.keys() == std::vector<std::string>{"resource", "scopeSpans"});
  check_json_attributes(rs["resource"], f.res.attributes);
  const json_value& ss = json_single_scope_spans(doc);
  CHECK(ss["scope"]["name"].text == "orders.http");
  CHECK(ss["scope"]["version"].text == "2.0.1");
  REQUIRE(ss["spans"].items.size() == 2);
  check_json_span(ss["spans"][0], *f.spans[0]);
  check_json_span(ss["spans"][1], *f.spans[1]);
}

TEST_CASE("json: ids are lowercase hex, 64-bit integers decimal strings, enums and counts numbers") {
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(0xABCDEF0123456789ULL, 0xFEDCBA9876543210ULL, 0x00F067AA0BA902B7ULL, 0x01);
  s.parent_span_id = st::span_id::from_u64(0xDEADBEEFCAFEBABEULL);
  s.kind = st::span_kind::consumer;
  s.start_time_unix_nano = 18446744073709551615ULL;
  s.end_time_unix_nano = 1;
  s.attributes.set("min", std::numeric_limits<std::int64_t>::min());
  s.dropped_links = 3;
  s.status = st::status_code::ok;
  std::string out;
  otlp::encode_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& span = json_single_scope_spans(doc)["spans"][0];
  CHECK(span["traceId"].text == "abcdef0123456789fedcba9876543210");
  CHECK(span["spanId"].text == "00f067aa0ba902b7");
  CHECK(span["parentSpanId"].text == "deadbeefcafebabe");
  CHECK(span["kind"].kind == json_value::number);
  CHECK(span["kind"].text == "5");
  CHECK(span["startTimeUnixNano"].kind == json_value::string);
  CHECK(span["startTimeUnixNano"].text == "18446744073709551615");
  CHECK(span["endTimeUnixNano"].text == "1");
  CHECK(span["attributes"][0]["value"]["intValue"].text == "-9223372036854775808");
  CHECK(span["droppedLinksCount"].kind == json_value::number);
  CHECK(span["droppedLinksCount"].text == "3");
  CHECK(span["status"].keys() == std::vector<std::string>{"code"});
  CHECK(span["status"]["code"].text == "1");
  // The raw text, too: no base64, no enum names, no snake_case keys.
  CHECK(out.find("\"traceId\":\"abcdef0123456789fedcba9876543210\"") != std::string::npos);
  CHECK(out.find("SPAN_KIND") == std::string::npos);
  CHECK(out.find('_') == std::string::npos);
  CHECK(out.find(' ') == std::string::npos);
}

TEST_CASE("json: a root span has no parentSpanId and omits every default-valued member") {
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 0x01);
  s.kind = st::span_kind::internal;
  std::string out;
  otlp::encode_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& span = json_single_scope_spans(doc)["spans"][0];
  CHECK(span.keys() == std::vector<std::string>{"traceId", "spanId", "flags", "kind"});
  CHECK(span["flags"].text == "257");
  CHECK(doc["resourceSpans"][0]["resource"].members.empty());
}

TEST_CASE("json: span and link flags mark remote parents and remote links") {
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 0x01);
  s.parent_span_id = st::span_id::from_u64(5);
  s.parent_is_remote = true;
  s.links.next_slot().context = make_context(4, 5, 6, 0x00, true, "a=1");
  std::string out;
  otlp::encode_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& span = json_single_scope_spans(doc)["spans"][0];
  CHECK(span["flags"].text == "769");
  CHECK(span["links"][0]["flags"].text == "768");
  CHECK(span["links"][0]["traceState"].text == "a=1");
  CHECK_FALSE(span["links"][0].has("attributes"));
  check_json_span(span, s);
}

TEST_CASE("json: 512 spans with 4 attributes each parse and match") {
  batch_fixture f;
  fill_resource(f);
  for (int i = 0; i < 512; ++i) {
    st::span_data& s = f.add();
    s.context = make_context(7, static_cast<std::uint64_t>(i) + 1, static_cast<std::uint64_t>(i) + 1, 1);
    s.name = "op";
    s.kind = st::span_kind::producer;
    s.start_time_unix_nano = 1000 + static_cast<std::uint64_t>(i);
    s.end_time_unix_nano = 2000 + static_cast<std::uint64_t>(i);
    s.attributes.set("a", i);
    s.attributes.set("b", 0.5 * i);
    s.attributes.set("c", "text");
    s.attributes.set("d", std::vector<bool>{i % 2 == 0});
  }
  std::string out;
  otlp::encode_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& ss = json_single_scope_spans(doc);
  REQUIRE(ss["spans"].items.size() == 512);
  for (std::size_t i = 0; i < 512; ++i) check_json_span(ss["spans"][i], *f.spans[i]);
}

TEST_CASE("json: control characters, quotes and ill-formed UTF-8 give valid JSON that decodes to the sanitized text") {
  const std::string r(fffd);
  struct example {
    std::string input, decoded;
  };
  std::string all_controls, all_controls_decoded;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(static_cast<char>(c));
  all_controls += "\x7f\"\\/";
  all_controls_decoded = all_controls;
  const std::vector<example> examples = {
      {all_controls, all_controls_decoded},
      {"plain", "plain"},
      {"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},  // é € 😀 stay
      {"\xEF\xBF\xBF\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF\xF4\x8F\xBF\xBF"},                  // U+FFFF, U+10FFFF stay
      {"\x80", r},                                  // lone continuation byte
      {"a\xBF\xBF" "b", "a" + r + r + "b"},         // each stray continuation is one subpart
      {"\xC0\xAF", r + r},                          // overlong '/'
      {"\xC1\xBF", r + r},                          // overlong
      {"\xE0\x80\xAF", r + r + r},                  // overlong 3-byte
      {"\xED\xA0\x80", r + r + r},                  // UTF-16 surrogate D800
      {"\xF4\x90\x80\x80", r + r + r + r},          // above U+10FFFF
      {"\xF5\x80", r + r},                          // never a lead byte
      {"\xFE\xFF", r + r},
      {"x\xE2\x82", "x" + r},                       // truncated at the end: one subpart
      {"\xE2\x82z", r + "z"},                       // truncated in the middle
      {"\xF0\x9F\x98", r},                          // truncated 4-byte sequence
      {"\xF0\x9F\x98\"", r + "\""},                 // ...followed by a quote
      {"\xC3", r},                                  // lone lead byte
      {std::string("nul\0inside", 10), std::string("nul\0inside", 10)},
  };
  for (const auto& ex : examples) {
    batch_fixture f;
    st::span_data& s = f.add();
    s.context = make_context(1, 2, 3, 1);
    s.name = ex.input;
    s.status_message = ex.input;
    s.attributes.set("key" + ex.input, ex.input);
    s.attributes.set("array", std::vector<std::string>{ex.input});
    s.events.next_slot().name = ex.input;
    f.res.attributes.set("r", ex.input);
    f.scope.name = ex.input;
    std::string out;
    otlp::encode_json(f.batch(), out);
    INFO("input bytes: " << hex_of(ex.input));
    const json_value doc = parse_json(out);
    CHECK(doc["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"].text == ex.decoded);
    const json_value& ss = json_single_scope_spans(doc);
    CHECK(ss["scope"]["name"].text == ex.decoded);
    const json_value& span = ss["spans"][0];
    CHECK(span["name"].text == ex.decoded);
    CHECK(span["status"]["message"].text == ex.decoded);
    CHECK(span["attributes"][0]["key"].text == "key" + ex.decoded);
    CHECK(span["attributes"][0]["value"]["stringValue"].text == ex.decoded);
    CHECK(span["attributes"][1]["value"]["arrayValue"]["values"][0]["stringValue"].text == ex.decoded);
    CHECK(span["events"][0]["name"].text == ex.decoded);
    // No raw control character may appear anywhere in the document.
    CHECK(std::none_of(out.begin(), out.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
  }
}

TEST_CASE("json and protobuf: a special byte is caught at every offset of a long string") {
  // The encoders skip plain ASCII eight bytes at a time; a quote, a control
  // character or a bad byte must be caught wherever it sits in the word.
  struct special {
    std::string raw, decoded;
  };
  const std::vector<special> specials = {{"\"", "\""},     {"\\", "\\"},       {"\n", "\n"},
                                         {"\x1f", "\x1f"}, {std::string(1, '\0'), std::string(1, '\0')},
                                         {"\x7f", "\x7f"}, {"\x80", std::string(fffd)},
                                         {"\xC3\xA9", "\xC3\xA9"}, {"\xE2\x82", std::string(fffd)}};
  const std::string base = "abcdefghijklmnopqrstuvwxyz0123";
  for (const auto& sp : specials) {
    for (std::size_t at = 0; at <= base.size(); ++at) {
      const std::string input = base.substr(0, at) + sp.raw + base.substr(at);
      const std::string decoded = base.substr(0, at) + sp.decoded + base.substr(at);
      INFO("special " << hex_of(sp.raw) << " at " << at);
      batch_fixture f;
      st::span_data& s = f.add();
      s.context = make_context(1, 2, 3, 1);
      s.name = input;
      std::string out;
      otlp::encode_json(f.batch(), out);
      const json_value doc = parse_json(out);
      CHECK(json_single_scope_spans(doc)["spans"][0]["name"].text == decoded);
      request_d request;
      const scope_spans_d& ss = decode_single(f, request, out);
      // Protobuf strings carry control characters as they are; only bad UTF-8 changes.
      CHECK(ss.spans[0].name == decoded);
    }
  }
}

TEST_CASE("json: NaN and infinities are proto3 JSON strings and finite doubles round-trip exactly") {
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      0.1,
                                      1.5,
                                      -2.75,
                                      1e300,
                                      -1e-300,
                                      123456789.123456789,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::lowest(),
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::epsilon(),
                                      9007199254740993.0,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity()};
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 1);
  for (std::size_t i = 0; i < values.size(); ++i) s.attributes.set("d" + std::to_string(i), values[i]);
  s.attributes.set("array", values);
  std::string out;
  otlp::encode_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& span = json_single_scope_spans(doc)["spans"][0];
  check_json_span(span, s);
  CHECK(out.find("{\"doubleValue\":\"NaN\"}") != std::string::npos);
  CHECK(out.find("{\"doubleValue\":\"Infinity\"}") != std::string::npos);
  CHECK(out.find("{\"doubleValue\":\"-Infinity\"}") != std::string::npos);
  CHECK(out.find("{\"doubleValue\":1.5}") != std::string::npos);
}

TEST_CASE("json: numbers do not follow the C locale's decimal point") {
  // Only meaningful where such a locale is installed; the check holds either way.
  const char* old = std::setlocale(LC_NUMERIC, nullptr);
  const std::string saved = old ? old : "C";
  for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"})
    if (std::setlocale(LC_NUMERIC, name) != nullptr) break;
  batch_fixture f;
  st::span_data& s = f.add();
  s.context = make_context(1, 2, 3, 1);
  s.attributes.set("d", 1.5);
  std::string out;
  otlp::encode_json(f.batch(), out);
  std::setlocale(LC_NUMERIC, saved.c_str());
  CHECK(out.find("{\"doubleValue\":1.5}") != std::string::npos);
  parse_json(out);
}

TEST_CASE("json: an empty batch is an empty object and the buffer is replaced, not appended to") {
  batch_fixture f;
  std::string out = "stale";
  otlp::encode_json(f.batch(), out);
  CHECK(out == "{}");
  CHECK(parse_json(out).members.empty());
}

TEST_CASE("json: the test's parser rejects what is not strict JSON") {
  // Guards the guard: the checks above are only as good as this parser.
  for (const char* bad : {"", "{", "{\"a\":1,}", "[1,]", "01", "1.", "-", "\"\x01\"", "\"\\x\"", "\"\\ud800\"",
                          "\"\\udc00\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "{\"a\":1,\"a\":2}",
                          "{} x", "NaN", "'a'", "\"abc"}) {
    INFO("input: " << bad);
    json_value v;
    json_parser p(bad);
    CHECK_FALSE(p.parse(v));
  }
  json_value v;
  json_parser p("{\"a\":[1,-0.5e+3,true,false,null,\"\\ud83d\\ude00\\u00e9\"]}");
  REQUIRE(p.parse(v));
  CHECK(v["a"][5].text == "\xF0\x9F\x98\x80\xC3\xA9");
}
