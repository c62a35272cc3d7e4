// Zipkin v2 JSON encoder, read back with a strict RFC 8259 parser and checked
// against zipkin2-api.yaml's Span shape and the OTel->Zipkin mapping (kind,
// µs times, string tags, status/error tags, annotations, remoteEndpoint).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <streambus/tracing.hpp>

namespace st = streambus::tracing;

namespace {

#include "support/batch_fixture.hpp"

st::span_context make_context(std::uint64_t hi, std::uint64_t lo, std::uint64_t sid, std::uint8_t flags = 0x01) {
  return st::span_context(st::trace_id::from_u64(hi, lo), st::span_id::from_u64(sid), st::trace_flags(flags));
}

// ============================================================ strict JSON
// (the parser of tests/otlp/test_otlp_encoding.cpp)

#include "support/strict_json.hpp"

json_value encode(const batch_fixture& f) {
  std::string out;
  st::zipkin::encode_json_v2(f.batch(), out);
  json_value doc = parse_json(out);
  REQUIRE(doc.kind == json_value::array);
  return doc;
}

// The tags object as an ordered list of (key, value); every value must be a string.
std::vector<std::pair<std::string, std::string>> tags_of(const json_value& span) {
  std::vector<std::pair<std::string, std::string>> out;
  const json_value& tags = span["tags"];
  REQUIRE(tags.kind == json_value::object);
  for (std::size_t i = 0; i < tags.names.size(); ++i) {
    CAPTURE(tags.names[i]);
    CHECK(tags.members[i].kind == json_value::string);
    out.emplace_back(tags.names[i], tags.members[i].text);
  }
  return out;
}

std::string tag(const json_value& span, std::string_view key) {
  const json_value& t = span["tags"][key];
  CAPTURE(key);
  REQUIRE(t.kind == json_value::string);
  return t.text;
}

}  // namespace

TEST_CASE("zipkin v2: every field of a rich client span") {
  batch_fixture f;
  f.res.attributes.set("service.name", "checkout");
  f.res.attributes.set("service.namespace", "shop");
  f.res.attributes.set("host.cpu.count", 8);
  f.res.attributes.set("shadowed", "resource value");
  f.scope.name = "orders.http";
  f.scope.version = "2.0.1";
  auto& s = f.add();
  s.context = make_context(0x0af7651916cd43ddULL, 0x8448eb211c80319cULL, 0xb7ad6b7169203331ULL);
  s.parent_span_id = st::span_id::from_u64(0x00f067aa0ba902b7ULL);
  s.name = "GET /orders";
  s.kind = st::span_kind::client;
  s.start_time_unix_nano = 1700000000123456789ULL;
  s.end_time_unix_nano = 1700000000987654321ULL;
  s.status = st::status_code::error;
  s.status_message = "upstream timeout";
  s.attributes.set("bool", true);
  s.attributes.set("int", -42);
  s.attributes.set("double", 0.1);
  s.attributes.set("string", "v\"q");
  s.attributes.set("array.int", std::vector<std::int64_t>{1, -2});
  s.attributes.set("array.string", std::vector<std::string>{"a", "b\"c"});
  s.attributes.set("array.bool", std::vector<bool>{false, true});
  s.attributes.set("array.double", std::vector<double>{1.5, -0.25});
  s.attributes.set("shadowed", "span value");
  s.attributes.set("peer.service", "inventory");
  s.attributes.set("server.address", "10.0.0.1");
  s.attributes.add_dropped(3);
  auto& e1 = s.events.next_slot();
  e1.name = "retry";
  e1.time_unix_nano = 1700000000500000999ULL;
  auto& e2 = s.events.next_slot();
  e2.name = "exception";
  e2.time_unix_nano = 1700000000600000000ULL;
  e2.attributes.set("exception.type", "std::runtime_error");
  e2.attributes.set("exception.count", 2);
  s.dropped_events = 1;
  s.dropped_links = 2;

  const json_value doc = encode(f);
  REQUIRE(doc.items.size() == 1);
  const json_value& z = doc[0];
  check_keys(z, {"traceId", "id", "parentId", "name", "kind", "timestamp", "duration", "localEndpoint",
                 "remoteEndpoint", "annotations", "tags"});
  CHECK(z["traceId"].text == "0af7651916cd43dd8448eb211c80319c");
  CHECK(z["id"].text == "b7ad6b7169203331");
  CHECK(z["parentId"].text == "00f067aa0ba902b7");
  CHECK(z["name"].text == "GET /orders");
  CHECK(z["kind"].text == "CLIENT");
  CHECK(z["timestamp"].kind == json_value::number);
  CHECK(z["timestamp"].text == "1700000000123456");
  CHECK(z["duration"].text == std::to_string((1700000000987654321ULL - 1700000000123456789ULL) / 1000));
  check_keys(z["localEndpoint"], {"serviceName"});
  CHECK(z["localEndpoint"]["serviceName"].text == "checkout");
  check_keys(z["remoteEndpoint"], {"serviceName"});  // peer.service outranks server.address
  CHECK(z["remoteEndpoint"]["serviceName"].text == "inventory");

  const json_value& ann = z["annotations"];
  REQUIRE(ann.items.size() == 2);
  check_keys(ann[0], {"timestamp", "value"});
  CHECK(ann[0]["timestamp"].text == "1700000000500000");
  CHECK(ann[0]["value"].text == "retry");
  CHECK(ann[1]["timestamp"].text == "1700000000600000");
  CHECK(ann[1]["value"].text == "\"exception\":{\"exception.type\":\"std::runtime_error\",\"exception.count\":2}");
  // ...and the annotation text is itself JSON once wrapped in braces.
  CHECK(parse_json("{" + ann[1]["value"].text + "}")["exception"]["exception.count"].text == "2");

  using kv = std::vector<std::pair<std::string, std::string>>;
  CHECK(tags_of(z) == kv{
                          {"bool", "true"},
                          {"int", "-42"},
                          {"double", "0.1"},
                          {"string", "v\"q"},
                          {"array.int", "[1,-2]"},
                          {"array.string", "[\"a\",\"b\\\"c\"]"},
                          {"array.bool", "[false,true]"},
                          {"array.double", "[1.5,-0.25]"},
                          {"shadowed", "span value"},
                          {"peer.service", "inventory"},
                          {"server.address", "10.0.0.1"},
                          {"service.namespace", "shop"},  // resource attributes, service.name excluded
                          {"host.cpu.count", "8"},
                          {"otel.scope.name", "orders.http"},
                          {"otel.library.name", "orders.http"},
                          {"otel.scope.version", "2.0.1"},
                          {"otel.library.version", "2.0.1"},
                          {"otel.dropped_attributes_count", "3"},
                          {"otel.dropped_events_count", "1"},
                          {"otel.dropped_links_count", "2"},
                          {"otel.status_code", "ERROR"},
                          {"error", "upstream timeout"},
                      });
}

TEST_CASE("zipkin v2: a minimal internal root span omits kind, parentId, annotations and tags") {
  batch_fixture f;
  f.scope.name.clear();
  f.scope.version.clear();
  auto& s = f.add();
  s.context = make_context(0, 0xabc, 0xdef);
  s.name = "local";
  s.start_time_unix_nano = 2'000'000'000ULL;
  s.end_time_unix_nano = 2'000'005'000ULL;
  const json_value doc = encode(f);
  check_keys(doc[0], {"traceId", "id", "name", "timestamp", "duration", "localEndpoint"});
  CHECK(doc[0]["traceId"].text == "00000000000000000000000000000abc");
  CHECK(doc[0]["duration"].text == "5");
  CHECK(doc[0]["localEndpoint"]["serviceName"].text == "unknown_service");
}

TEST_CASE("zipkin v2: span kinds map to upper-case names, INTERNAL has none") {
  const std::pair<st::span_kind, const char*> kinds[] = {{st::span_kind::server, "SERVER"},
                                                          {st::span_kind::client, "CLIENT"},
                                                          {st::span_kind::producer, "PRODUCER"},
                                                          {st::span_kind::consumer, "CONSUMER"},
                                                          {st::span_kind::internal, nullptr}};
  for (const auto& [kind, name] : kinds) {
    batch_fixture f;
    auto& s = f.add();
    s.context = make_context(0, 1, 2);
    s.kind = kind;
    const json_value doc = encode(f);
    if (name != nullptr) {
      CHECK(doc[0]["kind"].text == name);
    } else {
      CHECK_FALSE(doc[0].has("kind"));
    }
  }
}

TEST_CASE("zipkin v2: durations under one microsecond round up to 1; an unfinished span has none") {
  batch_fixture f;
  auto& a = f.add();
  a.context = make_context(0, 1, 1);
  a.start_time_unix_nano = 1'000'000'000ULL;
  a.end_time_unix_nano = 1'000'000'500ULL;
  auto& b = f.add();
  b.context = make_context(0, 1, 2);
  b.start_time_unix_nano = 1'000'000'000ULL;
  b.end_time_unix_nano = 1'000'000'000ULL;
  auto& c = f.add();
  c.context = make_context(0, 1, 3);
  c.start_time_unix_nano = 1'000'000'000ULL;
  auto& d = f.add();
  d.context = make_context(0, 1, 4);
  d.start_time_unix_nano = 1'000'000'000ULL;
  d.end_time_unix_nano = 1'000'001'999ULL;  // truncated to whole microseconds
  const json_value doc = encode(f);
  REQUIRE(doc.items.size() == 4);
  CHECK(doc[0]["duration"].text == "1");
  CHECK(doc[1]["duration"].text == "1");
  CHECK_FALSE(doc[2].has("duration"));
  CHECK(doc[2]["timestamp"].text == "1000000");
  CHECK(doc[3]["duration"].text == "1");
}

TEST_CASE("zipkin v2: status mapping and the error tag") {
  batch_fixture f;
  f.scope.name.clear();
  f.scope.version.clear();
  auto& unset = f.add();
  unset.context = make_context(0, 1, 1);
  unset.attributes.set("error", false);  // a boolean false error tag is removed
  auto& ok = f.add();
  ok.context = make_context(0, 1, 2);
  ok.status = st::status_code::ok;
  ok.attributes.set("error", "false");  // as a string too
  auto& err = f.add();
  err.context = make_context(0, 1, 3);
  err.status = st::status_code::error;  // no description: error = ""
  err.attributes.set("error", "user text");
  auto& keep = f.add();
  keep.context = make_context(0, 1, 4);
  keep.attributes.set("error", "true");  // a user's failure marker stays
  const json_value doc = encode(f);
  using kv = std::vector<std::pair<std::string, std::string>>;
  CHECK_FALSE(doc[0].has("tags"));
  CHECK(tags_of(doc[1]) == kv{{"otel.status_code", "OK"}});
  CHECK(tags_of(doc[2]) == kv{{"otel.status_code", "ERROR"}, {"error", ""}});
  CHECK(tags_of(doc[3]) == kv{{"error", "true"}});
}

TEST_CASE("zipkin v2: remoteEndpoint for client and producer spans, by the spec's ranking") {
  struct attr {
    const char* key;
    st::attribute_value value;
  };
  struct scenario {
    st::span_kind kind;
    std::vector<attr> attrs;
    std::vector<std::pair<std::string, std::string>> want;  // remoteEndpoint members; empty: absent
  };
  const scenario cases[] = {
      {st::span_kind::client, {{"server.address", "api.example.com"}}, {{"serviceName", "api.example.com"}}},
      {st::span_kind::client,
       {{"network.peer.address", "192.168.1.20"}, {"network.peer.port", 8443}},
       {{"ipv4", "192.168.1.20"}, {"port", "8443"}}},
      {st::span_kind::producer,
       {{"net.sock.peer.addr", "2001:db8::c001"}, {"net.sock.peer.port", 9092}},
       {{"ipv6", "2001:db8::c001"}, {"port", "9092"}}},
      {st::span_kind::client,
       {{"db.name", "orders"}, {"net.peer.name", "db-host"}},  // net.peer.name (3) before db.name (11)
       {{"serviceName", "db-host"}}},
      {st::span_kind::client,
       {{"network.peer.address", "10.1.2.3"}, {"network.peer.port", 70000}},  // not a port
       {{"ipv4", "10.1.2.3"}}},
      {st::span_kind::client, {{"network.peer.address", "300.1.2.3"}}, {{"serviceName", "300.1.2.3"}}},
      // A host and a port is not an IPv6 address (it was sent as one).
      {st::span_kind::client, {{"server.address", "cafe:8080"}}, {{"serviceName", "cafe:8080"}}},
      {st::span_kind::client,
       {{"network.peer.address", "2001:db8:0:0:0:0:2:1"}},
       {{"ipv6", "2001:db8:0:0:0:0:2:1"}}},
      {st::span_kind::client, {{"network.peer.address", "::ffff:10.0.0.1"}}, {{"ipv6", "::ffff:10.0.0.1"}}},
      {st::span_kind::server, {{"peer.service", "caller"}}, {}},  // only client/producer
      {st::span_kind::client, {{"peer.service", 42}}, {}},        // not a string
      {st::span_kind::client, {}, {}},
  };
  for (const auto& c : cases) {
    batch_fixture f;
    auto& s = f.add();
    s.context = make_context(0, 1, 2);
    s.kind = c.kind;
    for (const auto& a : c.attrs) s.attributes.set(a.key, a.value);
    const json_value doc = encode(f);
    CAPTURE(c.attrs.empty() ? "" : c.attrs[0].key);
    if (c.want.empty()) {
      CHECK_FALSE(doc[0].has("remoteEndpoint"));
      continue;
    }
    const json_value& ep = doc[0]["remoteEndpoint"];
    REQUIRE(ep.kind == json_value::object);
    REQUIRE(ep.names.size() == c.want.size());
    for (std::size_t i = 0; i < c.want.size(); ++i) {
      CHECK(ep.names[i] == c.want[i].first);
      CHECK(ep.members[i].text == c.want[i].second);
    }
    if (ep.has("port")) CHECK(ep["port"].kind == json_value::number);
  }
}

TEST_CASE("zipkin v2: non-finite doubles, big integers and bad UTF-8 give valid JSON string tags") {
  batch_fixture f;
  f.scope.name.clear();
  f.scope.version.clear();
  auto& s = f.add();
  s.context = make_context(0, 1, 2);
  s.name = "bad\xC3";
  s.attributes.set("nan", std::numeric_limits<double>::quiet_NaN());
  s.attributes.set("inf", -std::numeric_limits<double>::infinity());
  s.attributes.set("min", std::numeric_limits<std::int64_t>::min());
  s.attributes.set("u64", std::uint64_t{18446744073709551615ULL});
  s.attributes.set("k\xFF", "v\n\t");
  const json_value doc = encode(f);
  CHECK(doc[0]["name"].text == "bad\xEF\xBF\xBD");
  CHECK(tag(doc[0], "nan") == "NaN");
  CHECK(tag(doc[0], "inf") == "-Infinity");
  CHECK(tag(doc[0], "min") == "-9223372036854775808");
  CHECK(tag(doc[0], "u64") == "18446744073709551615");
  CHECK(tag(doc[0], "k\xEF\xBF\xBD") == "v\n\t");
}

TEST_CASE("zipkin v2: an empty batch is an empty list; several spans keep batch order") {
  batch_fixture empty;
  std::string out = "stale";
  st::zipkin::encode_json_v2(empty.batch(), out);
  CHECK(out == "[]");

  batch_fixture f;
  for (std::uint64_t i = 1; i <= 50; ++i) {
    auto& s = f.add();
    s.context = make_context(i, i, i);
  }
  const json_value doc = encode(f);
  REQUIRE(doc.items.size() == 50);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    char want[17];
    std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(i));
    CHECK(doc[static_cast<std::size_t>(i - 1)]["id"].text == want);
  }
}
