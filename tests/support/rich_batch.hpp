// A batch using every span field, every attribute type, events and links,
// with a resource and scope: the OTLP encoding tests' main input, and what
// tools/check_big_endian.sh encodes on x86-64 and on s390x to compare bytes.
// Included inside a file's anonymous namespace, after <streambus/tracing.hpp>
// and with `namespace st = streambus::tracing;` in scope.
#pragma once

#include "batch_fixture.hpp"

st::span_context make_context(std::uint64_t hi, std::uint64_t lo, std::uint64_t sid, std::uint8_t flags,
                              bool remote = false, std::string_view state = {}) {
  return st::span_context(st::trace_id::from_u64(hi, lo), st::span_id::from_u64(sid), st::trace_flags(flags), remote,
                          st::trace_state::from_header(state));
}

// A span using every field, every attribute type, events and links.
void fill_rich_span(st::span_data& s) {
  s.context = make_context(0x0af7651916cd43ddULL, 0x8448eb211c80319cULL, 0xb7ad6b7169203331ULL, 0x03, false,
                           "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  s.parent_span_id = st::span_id::from_u64(0x00f067aa0ba902b7ULL);
  s.parent_is_remote = true;
  s.name = "GET /orders/{id} \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // é € 😀
  s.kind = st::span_kind::server;
  s.start_time_unix_nano = 1700000000123456789ULL;
  s.end_time_unix_nano = 1700000000987654321ULL;
  s.status = st::status_code::error;
  s.status_message = "upstream \"timeout\"";
  s.attributes.set("bool.true", true);
  s.attributes.set("bool.false", false);
  s.attributes.set("int.zero", 0);
  s.attributes.set("int.min", std::numeric_limits<std::int64_t>::min());
  s.attributes.set("int.max", std::numeric_limits<std::int64_t>::max());
  s.attributes.set("int.neg", -42);
  s.attributes.set("double.zero", 0.0);
  s.attributes.set("double.frac", 0.1);
  s.attributes.set("double.big", -1.7976931348623157e308);
  s.attributes.set("string.empty", "");
  s.attributes.set("string.utf8", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");  // 日本語
  s.attributes.set("u64.big", std::uint64_t{18446744073709551615ULL});  // kept as its decimal string
  s.attributes.set("array.bool", std::vector<bool>{true, false, true});
  s.attributes.set("array.int", std::vector<std::int64_t>{0, -1, 1, std::numeric_limits<std::int64_t>::min()});
  s.attributes.set("array.double", std::vector<double>{0.0, 2.5, -1e-300});
  s.attributes.set("array.string", std::vector<std::string>{"a", "", "\xC3\xBC"});
  s.attributes.set("array.empty", std::vector<std::int64_t>{});
  s.attributes.add_dropped(7);

  auto& e1 = s.events.next_slot();
  e1.name = "exception";
  e1.time_unix_nano = 1700000000500000000ULL;
  e1.attributes.set("exception.type", "std::runtime_error");
  e1.attributes.set("exception.count", 3);
  e1.attributes.add_dropped(2);
  auto& e2 = s.events.next_slot();
  e2.name = "no-attributes";
  e2.time_unix_nano = 1700000000600000000ULL;
  s.dropped_events = 4;

  auto& l1 = s.links.next_slot();
  l1.context = make_context(0x1111111111111111ULL, 0x2222222222222222ULL, 0x3333333333333333ULL, 0x01, true,
                            "vendor=value");
  l1.attributes.set("link.reason", "batch");
  l1.attributes.set("link.index", 1);
  l1.attributes.add_dropped(1);
  auto& l2 = s.links.next_slot();
  l2.context = make_context(0x4444444444444444ULL, 0x5555555555555555ULL, 0x6666666666666666ULL, 0x00, false);
  s.dropped_links = 5;
}

void fill_resource(batch_fixture& f) {
  f.res.attributes.set("service.name", "checkout");
  f.res.attributes.set("service.version", "1.2.3");
  f.res.attributes.set("telemetry.sdk.name", st::sdk_name);
  f.res.attributes.set("telemetry.sdk.language", "cpp");
  f.res.attributes.set("host.cpu.count", 8);
  f.res.attributes.add_dropped(1);
  f.scope.name = "orders.http";
  f.scope.version = "2.0.1";
}
