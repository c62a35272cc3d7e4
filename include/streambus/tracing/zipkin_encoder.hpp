// Zipkin encoder: a span_batch as the Zipkin v2 JSON list of spans that
// `POST /api/v2/spans` takes (Zipkin, Jaeger's Zipkin port and others).
//
// Shape, from openzipkin/zipkin-api's zipkin2-api.yaml:
//   [{"traceId": 32 lower-hex, "id": 16, "parentId": 16 (absent on a root),
//     "name", "kind": CLIENT|SERVER|PRODUCER|CONSUMER (absent = local),
//     "timestamp": epoch µs, "duration": µs (less than one rounds up to 1),
//     "localEndpoint": {"serviceName"}, "remoteEndpoint": {...},
//     "annotations": [{"timestamp", "value"}], "tags": {string: string}}]
//
// The OpenTelemetry -> Zipkin mapping is the specification's
// (trace/sdk_exporters/zipkin.md and common/mapping-to-non-otlp.md):
// - service name from service.name ("unknown_service" when absent); the other
//   resource attributes become tags (Zipkin has no process), a span attribute
//   of the same key wins;
// - INTERNAL spans have no kind;
// - attributes as string tags: booleans "true"/"false", numbers as their
//   shortest round-trip text, arrays as a JSON list;
// - status: otel.status_code OK/ERROR; for ERROR the tag `error` holds the
//   description ("" when none); otherwise an attribute error=false (bool or
//   string) is removed, since Zipkin treats any `error` tag as a failure;
// - otel.scope.name/version (and the deprecated otel.library.* aliases) and
//   non-zero otel.dropped_{attributes,events,links}_count tags; a mapped tag
//   wins over an attribute with its key;
// - events become annotations: the event name, or `"name":{attributes as
//   JSON}` when the event has attributes (the spec's format);
// - CLIENT and PRODUCER spans get a remoteEndpoint from the first of the
//   spec's ranked attributes present (peer.service, server.address,
//   net.peer.name, network.peer.address(+port), ...): an IP literal goes to
//   ipv4/ipv6, anything else to serviceName;
// - fields that would be empty are omitted (the spec's "Request Payload").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "attributes.hpp"
#include "detail/protobuf_writer.hpp"
#include "exporter.hpp"
#include "jaeger_encoder.hpp"  // the mapping helpers shared by the non-OTLP encoders
#include "otlp_encoder.hpp"
#include "span_data.hpp"
#include "span_kind.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace zipkin {

inline constexpr std::string_view json_content_type = "application/json";

/// Replaces the contents of `out` with the Zipkin v2 JSON list of the spans in
/// `batch` (compact, always valid JSON; "[]" for an empty batch). The capacity
/// of `out` is kept for reuse. Throws only what growing `out` throws.
template <int = 0>
inline void encode_json_v2(const span_batch& batch, std::string& out);

namespace detail {
// The functions below are templates that are only ever used with their
// default argument (`template <int = 0>`): a translation unit that includes
// the library but never calls them then does not compile them (about a
// quarter of the full header's compile time; see bench/README.md).

using tracing::detail::append_buffer;
using tracing::detail::nonotlp_extras;
using tracing::detail::nonotlp_tag;

template <int = 0>
inline std::string_view kind_name(span_kind kind) noexcept {
  switch (kind) {
    case span_kind::server: return "SERVER";
    case span_kind::client: return "CLIENT";
    case span_kind::producer: return "PRODUCER";
    case span_kind::consumer: return "CONSUMER";
    case span_kind::internal: break;
  }
  return {};
}

/// A tag value as a JSON string literal (Zipkin tags are all strings).
template <int = 0>
inline void json_tag_text(append_buffer& out, const nonotlp_tag& t) {
  switch (t.type) {
    case nonotlp_tag::kind::string: otlp::detail::json_string(out, t.str); return;
    case nonotlp_tag::kind::boolean: out.append(t.b ? "\"true\"" : "\"false\""); return;
    case nonotlp_tag::kind::int64:
      out.push_back('"');
      otlp::detail::json_integer(out, t.i);
      out.push_back('"');
      return;
    case nonotlp_tag::kind::float64:
      out.push_back('"');
      tracing::detail::nonotlp_double_text(out, t.d);
      out.push_back('"');
      return;
  }
}

/// Tags beside the attributes: scope, dropped counts and status.
template <int = 0>
inline nonotlp_extras span_extras(const span_data& span, const instrumentation_scope& scope) noexcept {
  nonotlp_extras ex;
  ex.add_common(span, scope);
  if (span.status != status_code::unset)
    ex.add("otel.status_code", nonotlp_tag::of_string(tracing::detail::nonotlp_status_name(span.status)));
  if (span.status == status_code::error) ex.add("error", nonotlp_tag::of_string(span.status_message));
  return ex;
}

// `error: false` must not reach Zipkin, which reads any `error` tag as failure.
template <int = 0>
inline bool is_false_error(const attribute& a) noexcept {
  if (a.key != "error") return false;
  if (const auto* b = a.value.get_if<bool>()) return !*b;
  if (const auto* s = a.value.get_if<std::string>()) return *s == "false";
  return false;
}

// ---------------------------------------------------------------- remoteEndpoint

template <int = 0>
inline bool is_ipv4(std::string_view s) noexcept {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t digits = 0;
    unsigned value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
  return parts == 4;
}

// Loose on purpose: only decides between "address" and "name". The shape of
// an IPv6 address: hex groups with "::", or eight groups (seven colons; six
// and a dotted IPv4 tail). "cafe:8080" is a host and a port, not an address.
template <int = 0>
inline bool is_ipv6(std::string_view s) noexcept {
  if (s.size() < 2 || s.size() > 45) return false;
  std::size_t colons = 0;
  bool dotted = false;
  for (const char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                    c == '.';
    if (!ok) return false;
    colons += c == ':';
    dotted = dotted || c == '.';
  }
  return s.find("::") != std::string_view::npos || colons == 7 || (colons == 6 && dotted);
}

struct remote_endpoint {
  std::string_view service_name, ipv4, ipv6;
  std::int64_t port = 0;
  bool empty() const noexcept { return service_name.empty() && ipv4.empty() && ipv6.empty(); }
};

// The specification's ranking, each with the port attribute that goes with it.
template <int = 0>
inline remote_endpoint find_remote_endpoint(const span_data& span) noexcept {
  static constexpr std::pair<std::string_view, std::string_view> ranked[] = {
      {"peer.service", {}},
      {"server.address", {}},
      {"net.peer.name", {}},
      {"network.peer.address", "network.peer.port"},
      {"server.socket.domain", {}},
      {"server.socket.address", "server.socket.port"},
      {"net.sock.peer.name", {}},
      {"net.sock.peer.addr", "net.sock.peer.port"},
      {"peer.hostname", {}},
      {"peer.address", {}},
      {"db.name", {}},
  };
  remote_endpoint ep;
  for (const auto& [key, port_key] : ranked) {
    const attribute_value* v = span.attributes.find(key);
    const std::string* s = v ? v->get_if<std::string>() : nullptr;
    if (s == nullptr || s->empty()) continue;
    if (key == "peer.service") {
      ep.service_name = *s;
    } else if (is_ipv4(*s)) {
      ep.ipv4 = *s;
    } else if (is_ipv6(*s)) {
      ep.ipv6 = *s;
    } else {
      ep.service_name = *s;
    }
    if (!port_key.empty()) {
      if (const attribute_value* p = span.attributes.find(port_key))
        if (const auto* n = p->get_if<std::int64_t>())
          if (*n > 0 && *n <= 65535) ep.port = *n;
    }
    break;
  }
  return ep;
}

// ---------------------------------------------------------------- span

template <int = 0>
inline void json_span(append_buffer& out, const span_data& span, const resource& res,
                      const instrumentation_scope& scope, std::string& scratch) {
  const span_context& ctx = span.context;
  out.append("{\"traceId\":");
  otlp::detail::json_hex_id(out, ctx.trace_id());
  out.append(",\"id\":");
  otlp::detail::json_hex_id(out, ctx.span_id());
  if (span.parent_span_id.valid()) {
    out.append(",\"parentId\":");
    otlp::detail::json_hex_id(out, span.parent_span_id);
  }
  if (!span.name.empty()) {
    out.append(",\"name\":");
    otlp::detail::json_string(out, span.name);
  }
  const std::string_view kind = kind_name(span.kind);
  if (!kind.empty()) {
    out.append(",\"kind\":\"");
    out.append(kind);
    out.push_back('"');
  }
  if (span.start_time_unix_nano != 0) {
    out.append(",\"timestamp\":");
    otlp::detail::json_integer(out, tracing::detail::nonotlp_micros(span.start_time_unix_nano));
  }
  if (span.end_time_unix_nano != 0) {
    const std::uint64_t us = tracing::detail::nonotlp_micros(span.duration_ns());
    out.append(",\"duration\":");
    otlp::detail::json_integer(out, us == 0 ? std::uint64_t{1} : us);
  }
  out.append(",\"localEndpoint\":{\"serviceName\":");
  otlp::detail::json_string(out, tracing::detail::nonotlp_service_name(res));
  out.push_back('}');
  if (span.kind == span_kind::client || span.kind == span_kind::producer) {
    const remote_endpoint ep = find_remote_endpoint(span);
    if (!ep.empty()) {
      out.append(",\"remoteEndpoint\":{");
      bool first = true;
      const auto member = [&](std::string_view name, std::string_view value) {
        if (value.empty()) return;
        if (!first) out.push_back(',');
        first = false;
        out.append(name);
        otlp::detail::json_string(out, value);
      };
      member("\"serviceName\":", ep.service_name);
      member("\"ipv4\":", ep.ipv4);
      member("\"ipv6\":", ep.ipv6);
      if (ep.port != 0) {
        out.append(",\"port\":");
        otlp::detail::json_integer(out, ep.port);
      }
      out.push_back('}');
    }
  }
  if (!span.events.empty()) {
    out.append(",\"annotations\":[");
    bool first = true;
    for (const span_event& e : span.events) {
      if (!first) out.push_back(',');
      first = false;
      out.append("{\"timestamp\":");
      otlp::detail::json_integer(out, tracing::detail::nonotlp_micros(e.time_unix_nano));
      out.append(",\"value\":");
      if (e.attributes.empty()) {
        otlp::detail::json_string(out, e.name);
      } else {
        scratch.clear();
        {
          append_buffer text(scratch);
          otlp::detail::json_string(text, e.name);
          text.append(":{");
          bool first_attr = true;
          for (const attribute& a : e.attributes) {
            if (!first_attr) text.push_back(',');
            first_attr = false;
            otlp::detail::json_string(text, a.key);
            text.push_back(':');
            tracing::detail::nonotlp_json_value(text, a.value);
          }
          text.push_back('}');
        }
        otlp::detail::json_string(out, scratch);
      }
      out.push_back('}');
    }
    out.push_back(']');
  }

  const nonotlp_extras extras = span_extras(span, scope);
  bool first_tag = true;
  const auto tag = [&](std::string_view key, const nonotlp_tag& t) {
    out.append(first_tag ? ",\"tags\":{" : ",");
    first_tag = false;
    otlp::detail::json_string(out, key);
    out.push_back(':');
    json_tag_text(out, t);
  };
  for (const attribute& a : span.attributes) {
    if (extras.has(a.key) || (span.status != status_code::error && is_false_error(a))) continue;
    tag(a.key, tracing::detail::nonotlp_tag_of(a.value, scratch));
  }
  for (const attribute& a : res.attributes) {
    if (a.key == "service.name" || extras.has(a.key) || span.attributes.find(a.key) != nullptr) continue;
    if (span.status != status_code::error && is_false_error(a)) continue;
    tag(a.key, tracing::detail::nonotlp_tag_of(a.value, scratch));
  }
  for (const auto& kv : extras) tag(kv.first, kv.second);
  if (!first_tag) out.push_back('}');
  out.push_back('}');
}

}  // namespace detail

template <int>
inline void encode_json_v2(const span_batch& batch, std::string& str) {
  str.clear();
  std::string scratch;
  detail::append_buffer out(str);
  out.push_back('[');
  bool first = true;
  for (const span_data& span : batch) {
    if (!first) out.push_back(',');
    first = false;
    detail::json_span(out, span, batch.resource(), batch.scope(), scratch);
  }
  out.push_back(']');
  out.finish();
}

}  // namespace zipkin
STREAMBUS_TRACING_END_NAMESPACE
