// libFuzzer target for every parser that reads bytes from outside the
// process: propagation headers (W3C traceparent/tracestate, baggage, B3 single
// and multi, Jaeger uber-trace-id and uberctx-*), the OTEL_* environment, and
// what an OTLP collector answers (protobuf and JSON bodies, Retry-After); and
// for every encoder, with arbitrary bytes in the strings a span carries.
//
// Built by `tools/run test` (configuration fuzz-parsers, clang++ -fsanitize=
// fuzzer,address,undefined, in build/clang-fuzz) and run for a fixed number of
// inputs from a fixed seed, so a CI run is repeatable. By hand, for as long as
// you like (one command line):
//   build/clang-fuzz/fuzz_inputs -max_total_time=600 -dict=tests/fuzz/inputs.dict
//       build/clang-fuzz/corpus tests/fuzz/corpus
//
// Besides "no crash, no leak, no undefined behaviour" (the sanitizers), each
// parser is held to a property an independent reader can check:
//   - whatever is accepted survives a round trip: inject what was extracted,
//     extract it again, get the same context (and the same baggage);
//   - a re-serialised tracestate or baggage parses to itself (canonical form);
//   - configuration either resolves or throws config_error, nothing else;
//   - a Retry-After delay is never negative;
//   - every JSON encoding passes a strict RFC 8259 reader, and the OTLP
//     protobuf is well-formed wire format.
#include <streambus/tracing.hpp>
#include <streambus/tracing/otlp_http_exporter.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace st = streambus::tracing;
using headers = std::map<std::string, std::string>;

namespace {

#include "../support/strict_json.hpp"

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// Splits the input at NUL bytes into at most n fields (the last one keeps the rest).
std::vector<std::string_view> fields(std::string_view data, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    const std::size_t nul = data.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(data.substr(0, nul));
    data.remove_prefix(nul + 1);
  }
  out.push_back(data);
  out.resize(n);
  return out;
}

bool same_ids(const st::span_context& a, const st::span_context& b) {
  return a.trace_id() == b.trace_id() && a.span_id() == b.span_id() && a.sampled() == b.sampled();
}

void w3c(std::string_view data) {
  const auto f = fields(data, 2);
  const headers in{{"traceparent", std::string(f[0])}, {"tracestate", std::string(f[1])}};
  const st::span_context ctx = st::extract(in);
  if (!ctx.valid()) {
    check(ctx.trace_state().empty(), "an invalid traceparent kept a tracestate");
    return;
  }
  check(ctx.is_remote(), "an extracted context is not remote");
  headers out;
  st::inject(ctx, out);
  check(out.at("traceparent").size() == st::traceparent_size, "injected traceparent has the wrong size");
  const st::span_context again = st::extract(out);
  check(again == ctx, "traceparent/tracestate round trip changed the context");
}

void tracestate(std::string_view data) {
  st::trace_state parsed;
  if (!st::trace_state::parse(data, parsed)) return;
  check(parsed.size() <= st::trace_state::max_members, "more than 32 tracestate members");
  st::trace_state again;
  check(st::trace_state::parse(parsed.header(), again), "canonical tracestate does not parse");
  check(again.header() == parsed.header(), "canonical tracestate is not a fixed point");
  parsed.for_each([&](std::string_view key, std::string_view value) {
    const auto got = parsed.get(key);
    check(got && *got == value, "tracestate get() disagrees with for_each()");
  });
}

void baggage_header(std::string_view data) {
  const st::baggage bag = st::baggage::from_header(data);
  const std::string text = bag.header();
  const st::baggage again = st::baggage::from_header(text);
  check(again == bag, "baggage header round trip changed the entries");
  check(again.header() == text, "canonical baggage header is not a fixed point");
}

// Extracts with one propagator from headers built out of the input, then
// checks that injecting with the same propagator reads back the same.
void other_propagator(st::propagator_kind kind, std::string_view data) {
  headers in;
  switch (kind) {
    case st::propagator_kind::b3:
      in["b3"] = std::string(data);
      break;
    case st::propagator_kind::b3multi: {
      const auto f = fields(data, 5);
      in["X-B3-TraceId"] = std::string(f[0]);
      in["X-B3-SpanId"] = std::string(f[1]);
      in["X-B3-ParentSpanId"] = std::string(f[2]);
      in["X-B3-Sampled"] = std::string(f[3]);
      in["X-B3-Flags"] = std::string(f[4]);
      break;
    }
    case st::propagator_kind::jaeger: {
      const auto f = fields(data, 3);
      in["uber-trace-id"] = std::string(f[0]);
      in["uberctx-" + std::string(f[1])] = std::string(f[2]);
      break;
    }
    default:
      return;
  }
  const std::vector<st::propagator_kind> kinds{kind};
  const auto [ctx, bag] = st::extract_all(kinds, in);
  if (ctx.valid()) {
    headers out;
    st::inject_all(kinds, ctx, bag, out);
    const auto [ctx2, bag2] = st::extract_all(kinds, out);
    check(same_ids(ctx2, ctx), "propagator round trip changed the ids or the sampled flag");
    check(bag2 == bag, "propagator round trip changed the baggage");
  }
}

void environment(std::string_view data) {
  static constexpr const char* names[] = {
      "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER",
      "OTEL_TRACES_SAMPLER_ARG", "OTEL_PROPAGATORS", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT",
      "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_JAEGER_ENDPOINT",
      "OTEL_EXPORTER_ZIPKIN_ENDPOINT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
      "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
      "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT"};
  constexpr std::size_t count = sizeof names / sizeof names[0];
  // Up to four variables: a byte choosing the name, then the value up to a NUL.
  std::map<std::string, std::string> env;
  const auto f = fields(data, 4);
  for (std::string_view field : f) {
    if (field.empty()) continue;
    env[names[static_cast<unsigned char>(field[0]) % count]] = std::string(field.substr(1));
  }
  st::config cfg;
  cfg.read_environment = false;
  try {
    const st::resolved_config r = st::resolve_config(cfg, [&](std::string_view name) -> std::optional<std::string> {
      const auto it = env.find(std::string(name));
      if (it == env.end()) return std::nullopt;
      return it->second;
    });
    const double ratio = r.sampler.ratio();
    check(ratio >= 0.0 && ratio <= 1.0, "sampler ratio outside [0, 1]");
    check(r.batch.max_export_batch_size <= r.batch.max_queue_size, "export batch larger than the queue");
  } catch (const st::config_error&) {
    // rejected with a message: what we want for bad input
  }
}

void collector_answer(std::string_view data, bool json) {
  namespace oh = st::detail::otlp_http;
  oh::partial_success out;
  const bool ok = json ? oh::parse_json_response(data, out) : oh::parse_protobuf_response(data, out);
  if (!ok) return;
  check(out.error_message.size() <= data.size(), "error_message longer than the body it came from");
}

void retry_after(std::string_view data) {
  namespace oh = st::detail::otlp_http;
  const auto delay = oh::parse_retry_after(data, 1'700'000'000);
  if (delay) check(delay->count() >= 0, "negative Retry-After delay");
  (void)oh::parse_http_date(data, 1'700'000'000);
}

// Arbitrary bytes as span names, attribute keys and values, event names,
// status messages, tracestate and resource and scope strings, through every
// encoder. The JSON documents must be strict RFC 8259 JSON (valid UTF-8, no
// raw control characters: tests/support/strict_json.hpp, the reader the
// encoding tests use); a plain-ASCII name must come back exactly; the
// protobuf request must be well-formed wire format all the way down.
bool wire_well_formed(std::string_view m, int depth) {
  std::size_t i = 0;
  const auto varint = [&](std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= m.size()) return false;
      const auto b = static_cast<unsigned char>(m[i++]);
      v |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (i < m.size()) {
    std::uint64_t key = 0, v = 0;
    if (!varint(key) || (key >> 3) == 0) return false;
    switch (key & 7) {
      case 0: if (!varint(v)) return false; break;
      case 1: if (m.size() - i < 8) return false; i += 8; break;
      case 5: if (m.size() - i < 4) return false; i += 4; break;
      case 2: {
        if (!varint(v) || v > m.size() - i) return false;
        const std::string_view inner = m.substr(i, static_cast<std::size_t>(v));
        i += static_cast<std::size_t>(v);
        // Fields 1 and 2 of the OTLP messages on the way down to a span are
        // messages themselves (ResourceSpans, ScopeSpans, Span...); a string
        // that happens to parse as one is harmless, so only the request's
        // top level is required to nest.
        if (depth == 0 && !wire_well_formed(inner, depth + 1)) return false;
        break;
      }
      default: return false;
    }
  }
  return true;
}

void encoders(std::string_view data) {
  const auto f = fields(data, 8);
  const auto number = [&](std::string_view s) {
    std::uint64_t v = 0;
    if (!s.empty()) std::memcpy(&v, s.data(), s.size() < 8 ? s.size() : 8);
    return v;
  };
  st::resource res;
  res.attributes.set("service.name", f[0]);
  st::instrumentation_scope scope;
  scope.name = std::string(f[1]);
  st::span_data span;
  span.context = st::span_context(st::trace_id::from_u64(number(f[2]) | 1, 2), st::span_id::from_u64(3),
                                  st::trace_flags(1), false, st::trace_state::from_header(f[3]));
  span.parent_span_id = st::span_id::from_u64(number(f[4]));
  span.name = f[0];
  span.kind = static_cast<st::span_kind>(1 + number(f[5]) % 5);
  span.start_time_unix_nano = number(f[4]);
  span.end_time_unix_nano = number(f[5]);
  span.status = static_cast<st::status_code>(number(f[6]) % 3);
  span.status_message = std::string(f[6]);
  span.attributes.set(f[1], f[2]);
  span.attributes.set("int", static_cast<std::int64_t>(number(f[3])));
  double d = 0;
  if (!f[4].empty()) std::memcpy(&d, f[4].data(), f[4].size() < 8 ? f[4].size() : 8);  // NaN and infinities too
  span.attributes.set("double", d);
  span.attributes.set("array", std::vector<std::string>{std::string(f[5]), std::string(f[6])});
  st::span_event& event = span.events.next_slot();
  event.name = std::string(f[7]);
  event.attributes.set(f[7], f[0]);
  st::span_link& link = span.links.next_slot();
  link.context = span.context;
  link.attributes.set("k", f[1]);
  const st::span_data* spans[] = {&span};
  const st::span_batch batch(res, scope, spans, 1);

  std::string out;
  st::otlp::encode_protobuf(batch, out);
  check(wire_well_formed(out, 0), "OTLP protobuf is not well-formed wire format");

  const bool ascii_name = std::all_of(f[0].begin(), f[0].end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  const auto strict = [&](const std::string& doc, const char* what) {
    json_value v;
    json_parser p(doc);
    if (!p.parse(v)) {
      std::fprintf(stderr, "%s: %s\n", what, doc.substr(0, 400).c_str());
      fail("an encoder wrote JSON that a strict reader rejects");
    }
    return v;
  };
  st::otlp::encode_json(batch, out);
  const json_value otlp = strict(out, "OTLP JSON");
  if (ascii_name)
    check(otlp["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"].text == f[0],
          "OTLP JSON changed a plain-ASCII span name");
  st::zipkin::encode_json_v2(batch, out);
  strict(out, "Zipkin JSON");
  st::jaeger::encode_ui_json(batch, out);
  strict(out, "Jaeger UI JSON");
  st::jaeger::encode_thrift_batch(batch, out);  // sanitizers only: thriftrw checks it in CI
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 11) {
    case 0: w3c(data); break;
    case 1: tracestate(data); break;
    case 2: baggage_header(data); break;
    case 3: other_propagator(st::propagator_kind::b3, data); break;
    case 4: other_propagator(st::propagator_kind::b3multi, data); break;
    case 5: other_propagator(st::propagator_kind::jaeger, data); break;
    case 6: environment(data); break;
    case 7: collector_answer(data, false); break;
    case 8: collector_answer(data, true); break;
    case 9: retry_after(data); break;
    case 10: encoders(data); break;
  }
  return 0;
}
