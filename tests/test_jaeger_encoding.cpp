// Jaeger encoders, checked with readers that share no code with them: the
// Thrift Batch is read back by a generic binary-protocol walker written from
// the Thrift spec, then checked field by field (ids and types from jaeger-idl's
// jaeger.thrift); the UI JSON is read back by a strict RFC 8259 parser and
// checked against jaeger's model/json shapes and the OTel->Jaeger mapping.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
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

// ============================================================ test data

#include "support/batch_fixture.hpp"

st::span_context make_context(std::uint64_t hi, std::uint64_t lo, std::uint64_t sid, std::uint8_t flags,
                              bool remote = false) {
  return st::span_context(st::trace_id::from_u64(hi, lo), st::span_id::from_u64(sid), st::trace_flags(flags), remote);
}

void fill_resource(batch_fixture& f) {
  f.res.attributes.set("service.name", "checkout");
  f.res.attributes.set("service.version", "1.2.3");
  f.res.attributes.set("host.cpu.count", 8);
  f.res.attributes.set("deployment.canary", false);
  f.scope.name = "orders.http";
  f.scope.version = "2.0.1";
}

// Every attribute type, events, links, status, dropped counts; ids with the
// top bit set so the signed reinterpretation shows.
void fill_rich_span(st::span_data& s) {
  s.context = make_context(0xff00000000000000ULL, 0x8448eb211c80319cULL, 0xb7ad6b7169203331ULL, 0x03);
  s.parent_span_id = st::span_id::from_u64(0x00f067aa0ba902b7ULL);
  s.name = "GET /orders/{id} \xC3\xA9";  // é
  s.kind = st::span_kind::server;
  s.start_time_unix_nano = 1700000000123456789ULL;
  s.end_time_unix_nano = 1700000000987654321ULL;
  s.status = st::status_code::error;
  s.status_message = "upstream \"timeout\"";
  s.attributes.set("bool.true", true);
  s.attributes.set("int.min", std::numeric_limits<std::int64_t>::min());
  s.attributes.set("double.frac", 0.1);
  s.attributes.set("string.utf8", "\xE6\x97\xA5\xE6\x9C\xAC");  // 日本
  s.attributes.set("u64.big", std::uint64_t{18446744073709551615ULL});
  s.attributes.set("array.bool", std::vector<bool>{true, false});
  s.attributes.set("array.int", std::vector<std::int64_t>{0, -1, std::numeric_limits<std::int64_t>::min()});
  s.attributes.set("array.double", std::vector<double>{0.0, 2.5, -1e-300});
  s.attributes.set("array.string", std::vector<std::string>{"a", "", "q\"uote"});
  s.attributes.set("array.empty", std::vector<std::int64_t>{});
  s.attributes.set("error", "user value, replaced by the status");
  s.attributes.add_dropped(7);

  auto& e1 = s.events.next_slot();
  e1.name = "exception";
  e1.time_unix_nano = 1700000000500000999ULL;
  e1.attributes.set("exception.type", "std::runtime_error");
  e1.attributes.set("exception.count", 3);
  e1.attributes.add_dropped(2);
  auto& e2 = s.events.next_slot();
  e2.name = "no-attributes";
  e2.time_unix_nano = 1700000000600000000ULL;
  s.dropped_events = 4;

  auto& l1 = s.links.next_slot();
  l1.context = make_context(0x1111111111111111ULL, 0x2222222222222222ULL, 0x3333333333333333ULL, 0x01, true);
  l1.attributes.set("link.reason", "batch");
  auto& l2 = s.links.next_slot();
  l2.context = make_context(0, 0x5555555555555555ULL, 0x6666666666666666ULL, 0x00);
  s.dropped_links = 5;
}

// The tag a value should become: kind is "string", "bool", "int64" or "float64".
struct want_tag {
  std::string key, kind, text;  // text: the string, "true"/"false", decimal, or a double's value via number
  double number = 0;
};
want_tag str(std::string k, std::string v) { return {std::move(k), "string", std::move(v)}; }
want_tag boolean(std::string k, bool v) { return {std::move(k), "bool", v ? "true" : "false"}; }
want_tag int64(std::string k, std::int64_t v) { return {std::move(k), "int64", std::to_string(v)}; }
want_tag float64(std::string k, double v) { return {std::move(k), "float64", "", v}; }

// The mapping spec applied by hand to fill_rich_span + fill_resource.
std::vector<want_tag> rich_span_tags() {
  return {
      boolean("bool.true", true),
      int64("int.min", std::numeric_limits<std::int64_t>::min()),
      float64("double.frac", 0.1),
      str("string.utf8", "\xE6\x97\xA5\xE6\x9C\xAC"),
      str("u64.big", "18446744073709551615"),
      str("array.bool", "[true,false]"),
      str("array.int", "[0,-1,-9223372036854775808]"),
      str("array.double", "[0,2.5,-1e-300]"),
      str("array.string", "[\"a\",\"\",\"q\\\"uote\"]"),
      str("array.empty", "[]"),
      str("otel.scope.name", "orders.http"),
      str("otel.library.name", "orders.http"),
      str("otel.scope.version", "2.0.1"),
      str("otel.library.version", "2.0.1"),
      int64("otel.dropped_attributes_count", 7),
      int64("otel.dropped_events_count", 4),
      int64("otel.dropped_links_count", 5),
      str("span.kind", "server"),
      str("otel.status_code", "ERROR"),
      str("otel.status_description", "upstream \"timeout\""),
      boolean("error", true),
  };
}

std::vector<want_tag> rich_process_tags() {
  return {str("service.version", "1.2.3"), int64("host.cpu.count", 8), boolean("deployment.canary", false)};
}

// ============================================================ Thrift reader

// A Thrift binary-protocol value, reconstructed without knowing the schema.
struct tvalue {
  std::uint8_t type = 0;  // TType
  std::int64_t i = 0;     // bool, byte, i16, i32, i64
  double d = 0;
  std::string s;                         // string / binary
  std::uint8_t elem = 0;                 // list element type
  std::vector<tvalue> list;              // list elements
  std::map<std::int16_t, tvalue> fields;  // struct fields by id

  bool has(std::int16_t id) const { return fields.count(id) != 0; }
  const tvalue& at(std::int16_t id, std::uint8_t want_type) const {
    static const tvalue missing;
    const auto it = fields.find(id);
    CAPTURE(id);
    REQUIRE(it != fields.end());
    CHECK(it->second.type == want_type);
    return it == fields.end() ? missing : it->second;
  }
};

enum : std::uint8_t { t_bool = 2, t_byte = 3, t_double = 4, t_i16 = 6, t_i32 = 8, t_i64 = 10, t_string = 11,
                      t_struct = 12, t_map = 13, t_set = 14, t_list = 15 };

class thrift_reader {
 public:
  explicit thrift_reader(std::string_view bytes) : s_(bytes) {}

  // A whole buffer holding exactly one struct.
  bool read_root(tvalue& out) {
    out.type = t_struct;
    return read_struct(out, 0) && i_ == s_.size();
  }

 private:
  bool take(std::size_t n, std::uint64_t& v) {
    if (s_.size() - i_ < n) return false;
    v = 0;
    for (std::size_t k = 0; k < n; ++k) v = (v << 8) | static_cast<unsigned char>(s_[i_ + k]);
    i_ += n;
    return true;
  }
  static std::int64_t sign(std::uint64_t v, int bits) {
    if (bits == 64) {
      std::int64_t r;
      std::memcpy(&r, &v, sizeof r);
      return r;
    }
    const std::uint64_t top = std::uint64_t{1} << (bits - 1);
    return static_cast<std::int64_t>(v ^ top) - static_cast<std::int64_t>(top);
  }

  bool read_value(std::uint8_t type, tvalue& out, int depth) {
    if (depth > 32) return false;
    out.type = type;
    std::uint64_t v = 0;
    switch (type) {
      case t_bool:
        if (!take(1, v) || v > 1) return false;  // the binary protocol writes 0 or 1
        out.i = static_cast<std::int64_t>(v);
        return true;
      case t_byte:
        if (!take(1, v)) return false;
        out.i = sign(v, 8);
        return true;
      case t_i16:
        if (!take(2, v)) return false;
        out.i = sign(v, 16);
        return true;
      case t_i32:
        if (!take(4, v)) return false;
        out.i = sign(v, 32);
        return true;
      case t_i64:
        if (!take(8, v)) return false;
        out.i = sign(v, 64);
        return true;
      case t_double:
        if (!take(8, v)) return false;
        std::memcpy(&out.d, &v, sizeof v);
        return true;
      case t_string: {
        if (!take(4, v)) return false;
        const std::int64_t len = sign(v, 32);
        if (len < 0 || static_cast<std::uint64_t>(len) > s_.size() - i_) return false;
        out.s = std::string(s_.substr(i_, static_cast<std::size_t>(len)));
        i_ += static_cast<std::size_t>(len);
        return true;
      }
      case t_struct: return read_struct(out, depth + 1);
      case t_list:
      case t_set: {
        if (!take(1, v)) return false;
        out.elem = static_cast<std::uint8_t>(v);
        if (!take(4, v)) return false;
        const std::int64_t n = sign(v, 32);
        if (n < 0 || static_cast<std::uint64_t>(n) > s_.size() - i_) return false;  // each element >= 1 byte
        for (std::int64_t k = 0; k < n; ++k) {
          tvalue item;
          if (!read_value(out.elem, item, depth + 1)) return false;
          out.list.push_back(std::move(item));
        }
        return true;
      }
      default: return false;  // maps are not used by jaeger.thrift's Batch; anything else is corrupt
    }
  }

  bool read_struct(tvalue& out, int depth) {
    for (;;) {
      std::uint64_t type = 0, id = 0;
      if (!take(1, type)) return false;
      if (type == 0) return true;  // stop
      if (!take(2, id)) return false;
      const auto fid = static_cast<std::int16_t>(sign(id, 16));
      if (out.fields.count(fid)) return false;  // a field twice
      tvalue v;
      if (!read_value(static_cast<std::uint8_t>(type), v, depth)) return false;
      out.fields.emplace(fid, std::move(v));
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

tvalue decode_thrift(const std::string& bytes) {
  tvalue root;
  thrift_reader r(bytes);
  REQUIRE(r.read_root(root));
  return root;
}

void check_only_fields(const tvalue& s, std::initializer_list<std::int16_t> allowed) {
  for (const auto& kv : s.fields) {
    bool ok = false;
    for (const auto id : allowed) ok = ok || id == kv.first;
    CAPTURE(kv.first);
    CHECK(ok);
  }
}

// Tag { 1: string key, 2: TagType vType, 3: vStr, 4: vDouble, 5: vBool, 6: vLong, 7: vBinary }
void check_thrift_tag(const tvalue& tag, const want_tag& want) {
  CAPTURE(want.key);
  REQUIRE(tag.type == t_struct);
  CHECK(tag.at(1, t_string).s == want.key);
  const std::int64_t v_type = tag.at(2, t_i32).i;
  if (want.kind == "string") {
    CHECK(v_type == 0);
    check_only_fields(tag, {1, 2, 3});
    CHECK(tag.at(3, t_string).s == want.text);
  } else if (want.kind == "float64") {
    CHECK(v_type == 1);
    check_only_fields(tag, {1, 2, 4});
    CHECK(tag.at(4, t_double).d == want.number);
  } else if (want.kind == "bool") {
    CHECK(v_type == 2);
    check_only_fields(tag, {1, 2, 5});
    CHECK(tag.at(5, t_bool).i == (want.text == "true" ? 1 : 0));
  } else {
    CHECK(v_type == 3);
    check_only_fields(tag, {1, 2, 6});
    CHECK(std::to_string(tag.at(6, t_i64).i) == want.text);
  }
}

void check_thrift_tags(const tvalue& list, const std::vector<want_tag>& want) {
  REQUIRE(list.type == t_list);
  CHECK(list.elem == t_struct);
  REQUIRE(list.list.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) check_thrift_tag(list.list[i], want[i]);
}

const tvalue* find_thrift_tag(const tvalue& list, std::string_view key) {
  for (const auto& t : list.list)
    if (t.fields.count(1) && t.fields.at(1).s == key) return &t;
  return nullptr;
}

std::int64_t as_signed(std::uint64_t v) {
  std::int64_t r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}

// Batch { 1: Process process, 2: list<Span> spans }; returns the spans.
const std::vector<tvalue>& check_thrift_batch(const tvalue& batch, std::string_view service,
                                              const std::vector<want_tag>& process_tags) {
  check_only_fields(batch, {1, 2});
  const tvalue& process = batch.at(1, t_struct);
  check_only_fields(process, {1, 2});
  CHECK(process.at(1, t_string).s == service);
  check_thrift_tags(process.at(2, t_list), process_tags);
  const tvalue& spans = batch.at(2, t_list);
  CHECK(spans.elem == t_struct);
  return spans.list;
}

// ============================================================ strict JSON

#include "support/strict_json.hpp"

void check_json_tag(const json_value& tag, const want_tag& want) {
  CAPTURE(want.key);
  check_keys(tag, {"key", "type", "value"});
  CHECK(tag["key"].text == want.key);
  CHECK(tag["type"].text == want.kind);
  const json_value& v = tag["value"];
  if (want.kind == "string") {
    CHECK(v.kind == json_value::string);
    CHECK(v.text == want.text);
  } else if (want.kind == "bool") {
    CHECK(v.kind == json_value::boolean);
    CHECK(v.b == (want.text == "true"));
  } else if (want.kind == "int64") {
    CHECK(v.kind == json_value::number);
    CHECK(v.text == want.text);
  } else {
    CHECK(v.kind == json_value::number);
    CHECK(std::strtod(v.text.c_str(), nullptr) == want.number);
  }
}

void check_json_tags(const json_value& list, const std::vector<want_tag>& want) {
  REQUIRE(list.kind == json_value::array);
  REQUIRE(list.items.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) check_json_tag(list[i], want[i]);
}

const json_value* find_json_tag(const json_value& list, std::string_view key) {
  for (const auto& t : list.items)
    if (t["key"].text == key) return &t;
  return nullptr;
}

}  // namespace

// ============================================================ Thrift

TEST_CASE("jaeger thrift: every field of a rich span, its process, references, tags and logs") {
  batch_fixture f;
  fill_resource(f);
  fill_rich_span(f.add());
  std::string out;
  st::jaeger::encode_thrift_batch(f.batch(), out);
  const tvalue batch = decode_thrift(out);
  const auto& spans = check_thrift_batch(batch, "checkout", rich_process_tags());
  REQUIRE(spans.size() == 1);
  const tvalue& s = spans[0];
  check_only_fields(s, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});

  // IDs: big-endian halves reinterpreted as signed i64 (the spec's example value).
  CHECK(s.at(1, t_i64).i == as_signed(0x8448eb211c80319cULL));
  CHECK(s.at(2, t_i64).i == -72057594037927936LL);
  CHECK(s.at(3, t_i64).i == as_signed(0xb7ad6b7169203331ULL));
  CHECK(s.at(4, t_i64).i == 0x00f067aa0ba902b7LL);
  CHECK(s.at(5, t_string).s == "GET /orders/{id} \xC3\xA9");
  CHECK(s.at(7, t_i32).i == 1);  // sampled; the W3C random bit is not Jaeger's debug bit
  CHECK(s.at(8, t_i64).i == 1700000000123456LL);  // µs, truncated
  CHECK(s.at(9, t_i64).i == (1700000000987654321LL - 1700000000123456789LL) / 1000);

  // References: the links, FOLLOWS_FROM, each with its own trace id.
  const tvalue& refs = s.at(6, t_list);
  CHECK(refs.elem == t_struct);
  REQUIRE(refs.list.size() == 2);
  for (const auto& r : refs.list) check_only_fields(r, {1, 2, 3, 4});
  CHECK(refs.list[0].at(1, t_i32).i == 1);
  CHECK(refs.list[0].at(2, t_i64).i == 0x2222222222222222LL);
  CHECK(refs.list[0].at(3, t_i64).i == 0x1111111111111111LL);
  CHECK(refs.list[0].at(4, t_i64).i == 0x3333333333333333LL);
  CHECK(refs.list[1].at(1, t_i32).i == 1);
  CHECK(refs.list[1].at(2, t_i64).i == 0x5555555555555555LL);
  CHECK(refs.list[1].at(3, t_i64).i == 0);
  CHECK(refs.list[1].at(4, t_i64).i == 0x6666666666666666LL);

  check_thrift_tags(s.at(10, t_list), rich_span_tags());

  // Logs: `event` = name first, then the attributes, then the dropped count.
  const tvalue& logs = s.at(11, t_list);
  CHECK(logs.elem == t_struct);
  REQUIRE(logs.list.size() == 2);
  check_only_fields(logs.list[0], {1, 2});
  CHECK(logs.list[0].at(1, t_i64).i == 1700000000500000LL);
  check_thrift_tags(logs.list[0].at(2, t_list),
                    {str("event", "exception"), str("exception.type", "std::runtime_error"),
                     int64("exception.count", 3), int64("otel.dropped_attributes_count", 2)});
  CHECK(logs.list[1].at(1, t_i64).i == 1700000000600000LL);
  check_thrift_tags(logs.list[1].at(2, t_list), {str("event", "no-attributes")});
}

TEST_CASE("jaeger thrift: a plain internal root span has no references, logs, kind or status tags") {
  batch_fixture f;
  f.res.attributes.set("service.name", "svc");
  f.scope.name.clear();
  f.scope.version.clear();
  auto& s = f.add();
  s.context = make_context(0, 1, 2, 0x01);
  s.name = "work";
  s.start_time_unix_nano = 5'000'000'000ULL;
  s.end_time_unix_nano = 5'000'000'999ULL;  // 999 ns: 0 µs
  s.attributes.set("k", "v");
  std::string out;
  st::jaeger::encode_thrift_batch(f.batch(), out);
  const tvalue batch = decode_thrift(out);
  const auto& spans = check_thrift_batch(batch, "svc", {});
  REQUIRE(spans.size() == 1);
  const tvalue& t = spans[0];
  check_only_fields(t, {1, 2, 3, 4, 5, 7, 8, 9, 10});
  CHECK(t.at(2, t_i64).i == 0);  // 64-bit-compatible high half
  CHECK(t.at(4, t_i64).i == 0);  // root: parentSpanId 0
  CHECK(t.at(8, t_i64).i == 5'000'000LL);
  CHECK(t.at(9, t_i64).i == 0);
  check_thrift_tags(t.at(10, t_list), {str("k", "v")});
}

TEST_CASE("jaeger thrift: status OK maps to otel.status_code only; span kinds map to lowercase names") {
  const std::pair<st::span_kind, const char*> kinds[] = {{st::span_kind::server, "server"},
                                                          {st::span_kind::client, "client"},
                                                          {st::span_kind::producer, "producer"},
                                                          {st::span_kind::consumer, "consumer"}};
  for (const auto& [kind, name] : kinds) {
    batch_fixture f;
    auto& s = f.add();
    s.context = make_context(0, 1, 2, 0x01);
    s.kind = kind;
    s.status = st::status_code::ok;
    std::string out;
    st::jaeger::encode_thrift_batch(f.batch(), out);
    const tvalue batch = decode_thrift(out);
    const auto& spans = check_thrift_batch(batch, "unknown_service", {});  // no service.name in the resource
    const tvalue& tags = spans.at(0).at(10, t_list);
    REQUIRE(find_thrift_tag(tags, "span.kind") != nullptr);
    CHECK(find_thrift_tag(tags, "span.kind")->at(3, t_string).s == name);
    REQUIRE(find_thrift_tag(tags, "otel.status_code") != nullptr);
    CHECK(find_thrift_tag(tags, "otel.status_code")->at(3, t_string).s == "OK");
    CHECK(find_thrift_tag(tags, "error") == nullptr);
    CHECK(find_thrift_tag(tags, "otel.status_description") == nullptr);
  }
}

TEST_CASE("jaeger thrift: an event attribute named `event` takes precedence over the event name") {
  batch_fixture f;
  auto& s = f.add();
  s.context = make_context(0, 1, 2, 0x01);
  auto& e = s.events.next_slot();
  e.name = "ignored-name";
  e.attributes.set("event", "from-attribute");
  std::string out;
  st::jaeger::encode_thrift_batch(f.batch(), out);
  const tvalue batch = decode_thrift(out);
  const auto& spans = check_thrift_batch(batch, "unknown_service", {});
  check_thrift_tags(spans.at(0).at(11, t_list).list.at(0).at(2, t_list), {str("event", "from-attribute")});
}

TEST_CASE("jaeger thrift: ill-formed UTF-8 becomes U+FFFD and the length prefix matches") {
  batch_fixture f;
  f.res.attributes.set("service.name", "bad\xFFname");
  auto& s = f.add();
  s.context = make_context(0, 1, 2, 0x01);
  s.name = "op\xC3";
  s.attributes.set("k\xFE", "v\xED\xA0\x80");
  std::string out;
  st::jaeger::encode_thrift_batch(f.batch(), out);
  const tvalue batch = decode_thrift(out);
  const auto& spans = check_thrift_batch(batch, "bad\xEF\xBF\xBDname", {});
  CHECK(spans.at(0).at(5, t_string).s == "op\xEF\xBF\xBD");
  const tvalue& tag = spans.at(0).at(10, t_list).list.at(0);
  CHECK(tag.at(1, t_string).s == "k\xEF\xBF\xBD");
  CHECK(tag.at(3, t_string).s == "v\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("jaeger thrift: non-finite doubles keep their DOUBLE type and bits") {
  batch_fixture f;
  auto& s = f.add();
  s.context = make_context(0, 1, 2, 0x01);
  s.attributes.set("nan", std::numeric_limits<double>::quiet_NaN());
  s.attributes.set("inf", -std::numeric_limits<double>::infinity());
  std::string out;
  st::jaeger::encode_thrift_batch(f.batch(), out);
  const tvalue batch = decode_thrift(out);
  const tvalue& tags = check_thrift_batch(batch, "unknown_service", {}).at(0).at(10, t_list);
  CHECK(std::isnan(find_thrift_tag(tags, "nan")->at(4, t_double).d));
  CHECK(find_thrift_tag(tags, "inf")->at(4, t_double).d == -std::numeric_limits<double>::infinity());
}

TEST_CASE("jaeger thrift: an empty batch is a valid Batch with the process and no spans") {
  batch_fixture f;
  fill_resource(f);
  std::string out = "stale contents";
  st::jaeger::encode_thrift_batch(f.batch(), out);
  const tvalue batch = decode_thrift(out);
  CHECK(check_thrift_batch(batch, "checkout", rich_process_tags()).empty());
}

TEST_CASE("jaeger thrift: many spans in one batch, the output buffer reused") {
  batch_fixture f;
  fill_resource(f);
  for (std::uint64_t i = 1; i <= 300; ++i) {
    auto& s = f.add();
    s.context = make_context(i, i * 7, i * 13, 0x01);
    s.name = "span-" + std::to_string(i);
    s.start_time_unix_nano = i * 1000;
    s.end_time_unix_nano = i * 3000;
  }
  std::string out;
  st::jaeger::encode_thrift_batch(f.batch(), out);
  const std::string first = out;
  st::jaeger::encode_thrift_batch(f.batch(), out);
  CHECK(out == first);
  const tvalue batch = decode_thrift(out);
  const auto& spans = check_thrift_batch(batch, "checkout", rich_process_tags());
  REQUIRE(spans.size() == 300);
  for (std::uint64_t i = 1; i <= 300; ++i) {
    const tvalue& s = spans[static_cast<std::size_t>(i - 1)];
    CHECK(s.at(2, t_i64).i == static_cast<std::int64_t>(i));
    CHECK(s.at(1, t_i64).i == static_cast<std::int64_t>(i * 7));
    CHECK(s.at(3, t_i64).i == static_cast<std::int64_t>(i * 13));
    CHECK(s.at(5, t_string).s == "span-" + std::to_string(i));
    CHECK(s.at(8, t_i64).i == static_cast<std::int64_t>(i));
    CHECK(s.at(9, t_i64).i == static_cast<std::int64_t>(2 * i));
  }
}

// ============================================================ UI JSON

TEST_CASE("jaeger UI JSON: the document, trace, process and span shapes of the query API") {
  batch_fixture f;
  fill_resource(f);
  fill_rich_span(f.add());
  std::string out;
  st::jaeger::encode_ui_json(f.batch(), out);
  const json_value doc = parse_json(out);
  check_keys(doc, {"data", "total", "limit", "offset", "errors"});
  CHECK(doc["total"].text == "0");
  CHECK(doc["limit"].text == "0");
  CHECK(doc["offset"].text == "0");
  CHECK(doc["errors"].kind == json_value::null_value);
  REQUIRE(doc["data"].items.size() == 1);

  const json_value& trace = doc["data"][0];
  check_keys(trace, {"traceID", "spans", "processes", "warnings"});
  CHECK(trace["traceID"].text == "ff000000000000008448eb211c80319c");
  CHECK(trace["warnings"].kind == json_value::null_value);
  check_keys(trace["processes"], {"p1"});
  const json_value& process = trace["processes"]["p1"];
  check_keys(process, {"serviceName", "tags"});
  CHECK(process["serviceName"].text == "checkout");
  check_json_tags(process["tags"], rich_process_tags());

  REQUIRE(trace["spans"].items.size() == 1);
  const json_value& s = trace["spans"][0];
  check_keys(s, {"traceID", "spanID", "flags", "operationName", "references", "startTime", "duration", "tags",
                 "logs", "processID", "warnings"});
  CHECK(s["traceID"].text == "ff000000000000008448eb211c80319c");
  CHECK(s["spanID"].text == "b7ad6b7169203331");
  CHECK(s["flags"].text == "1");
  CHECK(s["operationName"].text == "GET /orders/{id} \xC3\xA9");
  CHECK(s["startTime"].text == "1700000000123456");
  CHECK(s["duration"].text == std::to_string((1700000000987654321ULL - 1700000000123456789ULL) / 1000));
  CHECK(s["processID"].text == "p1");
  CHECK(s["warnings"].kind == json_value::null_value);

  // The parent as the first reference (CHILD_OF), then the links (FOLLOWS_FROM).
  const json_value& refs = s["references"];
  REQUIRE(refs.items.size() == 3);
  for (const auto& r : refs.items) check_keys(r, {"refType", "traceID", "spanID"});
  CHECK(refs[0]["refType"].text == "CHILD_OF");
  CHECK(refs[0]["traceID"].text == "ff000000000000008448eb211c80319c");
  CHECK(refs[0]["spanID"].text == "00f067aa0ba902b7");
  CHECK(refs[1]["refType"].text == "FOLLOWS_FROM");
  CHECK(refs[1]["traceID"].text == "11111111111111112222222222222222");
  CHECK(refs[1]["spanID"].text == "3333333333333333");
  CHECK(refs[2]["refType"].text == "FOLLOWS_FROM");
  CHECK(refs[2]["traceID"].text == "00000000000000005555555555555555");
  CHECK(refs[2]["spanID"].text == "6666666666666666");

  check_json_tags(s["tags"], rich_span_tags());

  const json_value& logs = s["logs"];
  REQUIRE(logs.items.size() == 2);
  check_keys(logs[0], {"timestamp", "fields"});
  CHECK(logs[0]["timestamp"].text == "1700000000500000");
  check_json_tags(logs[0]["fields"], {str("event", "exception"), str("exception.type", "std::runtime_error"),
                                      int64("exception.count", 3), int64("otel.dropped_attributes_count", 2)});
  CHECK(logs[1]["timestamp"].text == "1700000000600000");
  check_json_tags(logs[1]["fields"], {str("event", "no-attributes")});
}

TEST_CASE("jaeger UI JSON: spans are grouped per trace, traces in order of first appearance") {
  batch_fixture f;
  f.res.attributes.set("service.name", "svc");
  const std::uint64_t traces[] = {0x30, 0x10, 0x30, 0x20, 0x10, 0x30};
  std::uint64_t sid = 1;
  for (const auto t : traces) {
    auto& s = f.add();
    s.context = make_context(0, t, sid++, 0x01);
  }
  std::string out;
  st::jaeger::encode_ui_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& data = doc["data"];
  REQUIRE(data.items.size() == 3);
  const auto span_ids = [](const json_value& trace) {
    std::vector<std::string> ids;
    for (const auto& s : trace["spans"].items) {
      CHECK(s["traceID"].text == trace["traceID"].text);
      ids.push_back(s["spanID"].text);
    }
    return ids;
  };
  CHECK(data[0]["traceID"].text == "00000000000000000000000000000030");
  CHECK(span_ids(data[0]) == std::vector<std::string>{"0000000000000001", "0000000000000003", "0000000000000006"});
  CHECK(data[1]["traceID"].text == "00000000000000000000000000000010");
  CHECK(span_ids(data[1]) == std::vector<std::string>{"0000000000000002", "0000000000000005"});
  CHECK(data[2]["traceID"].text == "00000000000000000000000000000020");
  CHECK(span_ids(data[2]) == std::vector<std::string>{"0000000000000004"});
  for (const auto& trace : data.items) CHECK(trace["processes"]["p1"]["serviceName"].text == "svc");
}

TEST_CASE("jaeger UI JSON: a root span has empty references, tags and logs arrays, never null") {
  batch_fixture f;
  f.scope.name.clear();
  f.scope.version.clear();
  auto& s = f.add();
  s.context = make_context(0, 1, 2, 0x00);
  std::string out;
  st::jaeger::encode_ui_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& span = doc["data"][0]["spans"][0];
  CHECK(span["references"].kind == json_value::array);
  CHECK(span["references"].items.empty());
  CHECK(span["tags"].kind == json_value::array);
  CHECK(span["tags"].items.empty());
  CHECK(span["logs"].kind == json_value::array);
  CHECK(span["flags"].text == "0");
  CHECK(doc["data"][0]["processes"]["p1"]["serviceName"].text == "unknown_service");
  CHECK(doc["data"][0]["processes"]["p1"]["tags"].items.empty());
}

TEST_CASE("jaeger UI JSON: non-finite doubles become string tags, escapes and bad UTF-8 stay valid JSON") {
  batch_fixture f;
  auto& s = f.add();
  s.context = make_context(0, 1, 2, 0x01);
  s.name = "quote\" backslash\\ newline\n bad\xFF";
  s.attributes.set("nan", std::numeric_limits<double>::quiet_NaN());
  s.attributes.set("inf", std::numeric_limits<double>::infinity());
  s.attributes.set("-inf", -std::numeric_limits<double>::infinity());
  s.attributes.set("nan.array", std::vector<double>{std::numeric_limits<double>::quiet_NaN(), 1.5});
  s.attributes.set("big", std::numeric_limits<std::int64_t>::max());
  std::string out;
  st::jaeger::encode_ui_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& span = doc["data"][0]["spans"][0];
  CHECK(span["operationName"].text == "quote\" backslash\\ newline\n bad\xEF\xBF\xBD");
  check_json_tag(*find_json_tag(span["tags"], "nan"), str("nan", "NaN"));
  check_json_tag(*find_json_tag(span["tags"], "inf"), str("inf", "Infinity"));
  check_json_tag(*find_json_tag(span["tags"], "-inf"), str("-inf", "-Infinity"));
  check_json_tag(*find_json_tag(span["tags"], "nan.array"), str("nan.array", "[\"NaN\",1.5]"));
  check_json_tag(*find_json_tag(span["tags"], "big"), int64("big", std::numeric_limits<std::int64_t>::max()));
}

TEST_CASE("jaeger UI JSON: an empty batch is a document with no traces") {
  batch_fixture f;
  std::string out = "old";
  st::jaeger::encode_ui_json(f.batch(), out);
  CHECK(out == "{\"data\":[],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}");
  CHECK(parse_json(out)["data"].items.empty());
}

TEST_CASE("jaeger UI JSON: the error attribute is replaced by error=true only when the status is ERROR") {
  batch_fixture f;
  auto& ok = f.add();
  ok.context = make_context(0, 1, 2, 0x01);
  ok.attributes.set("error", "kept: the status is not ERROR");
  auto& bad = f.add();
  bad.context = make_context(0, 1, 3, 0x01);
  bad.status = st::status_code::error;
  bad.attributes.set("error", false);
  std::string out;
  st::jaeger::encode_ui_json(f.batch(), out);
  const json_value doc = parse_json(out);
  const json_value& spans = doc["data"][0]["spans"];
  check_json_tag(*find_json_tag(spans[0]["tags"], "error"), str("error", "kept: the status is not ERROR"));
  int errors = 0;
  for (const auto& t : spans[1]["tags"].items) {
    if (t["key"].text != "error") continue;
    ++errors;
    check_json_tag(t, boolean("error", true));
  }
  CHECK(errors == 1);
  CHECK(find_json_tag(spans[1]["tags"], "otel.status_description") == nullptr);  // no message, no tag
}
