// W3C Trace Context propagation: traceparent parsing/formatting, inject and
// extract over every supported carrier and a user-defined one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <streambus/tracing.hpp>

namespace tr = streambus::tracing;

// A user carrier: an ordered list of header lines, adapted by specializing
// carrier_traits, as the header's documentation shows. (Internal linkage: the
// whole suite links into one executable.)
namespace {
namespace user {
struct header_list {
  std::vector<std::pair<std::string, std::string>> items;
};
}  // namespace user
}  // namespace

namespace streambus::tracing {
template <>
struct carrier_traits<user::header_list> {
  template <class F>
  static void for_each(const user::header_list& h, std::string_view key, F&& f) {
    for (const auto& kv : h.items)
      if (header_name_equals(kv.first, key)) {
        // Hand out a temporary copy: extract must not keep the view.
        const std::string copy = kv.second;
        f(std::string_view(copy));
      }
  }
  static void set(user::header_list& h, std::string_view key, std::string_view value) {
    auto& v = h.items;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& kv) { return header_name_equals(kv.first, key); }),
            v.end());
    v.emplace_back(std::string(key), std::string(value));
  }
};
}  // namespace streambus::tracing

namespace {

constexpr const char* spec_traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr const char* suite_trace_id = "12345678901234567890123456789012";
constexpr const char* suite_parent_id = "1234567890123456";

// The value the W3C test suite sends, with a given version and flags.
std::string suite_value(const std::string& version = "00", const std::string& flags = "01") {
  return version + "-" + suite_trace_id + "-" + suite_parent_id + "-" + flags;
}

bool parses(const std::string& value) {
  tr::span_context ctx;
  return tr::parse_traceparent(value, ctx);
}

tr::span_context parsed(const std::string& value) {
  tr::span_context ctx;
  REQUIRE(tr::parse_traceparent(value, ctx));
  return ctx;
}

// httplib::Headers is std::multimap<std::string, std::string, detail::ci>;
// this is the same shape without including httplib.
struct ci_less {
  bool operator()(const std::string& a, const std::string& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      const auto lx = (x >= 'A' && x <= 'Z') ? x - 'A' + 'a' : x;
      const auto ly = (y >= 'A' && y <= 'Z') ? y - 'A' + 'a' : y;
      return lx < ly;
    });
  }
};
using httplib_like_headers = std::multimap<std::string, std::string, ci_less>;

tr::span_context sample_context(const char* state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE") {
  return tr::span_context(tr::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736"),
                          tr::span_id::from_hex("00f067aa0ba902b7"), tr::trace_flags(0x03), false,
                          tr::trace_state::from_header(state));
}

template <class Carrier>
std::size_t count_entries(const Carrier& c, std::string_view key) {
  std::size_t n = 0;
  tr::carrier_traits<Carrier>::for_each(c, key, [&](std::string_view) { ++n; });
  return n;
}

template <class Carrier>
void check_round_trip() {
  const tr::span_context sent = sample_context();
  Carrier carrier;
  tr::inject(sent, carrier);
  CHECK(count_entries(carrier, "traceparent") == 1);
  CHECK(count_entries(carrier, "tracestate") == 1);

  const tr::span_context got = tr::extract(carrier);
  REQUIRE(got.valid());
  CHECK(got.is_remote());
  CHECK(got.trace_id() == sent.trace_id());
  CHECK(got.span_id() == sent.span_id());
  CHECK(got.flags() == sent.flags());
  CHECK(got.trace_state() == sent.trace_state());

  // Injecting again replaces, never duplicates, and drops a stale spelling.
  tr::carrier_traits<Carrier>::set(carrier, "TraceParent", "garbage");
  tr::inject(sample_context("a=1"), carrier);
  CHECK(count_entries(carrier, "traceparent") == 1);
  CHECK(count_entries(carrier, "tracestate") == 1);
  CHECK(tr::extract(carrier).trace_state().header() == "a=1");
}

}  // namespace

TEST_CASE("header name constants are the lowercase W3C names") {
  CHECK(tr::traceparent_header == "traceparent");
  CHECK(tr::tracestate_header == "tracestate");
  CHECK(tr::traceparent_size == 55);
  CHECK(tr::header_name_equals("TrAcEpArEnT", "traceparent"));
  CHECK_FALSE(tr::header_name_equals("trace-parent", "traceparent"));
  CHECK_FALSE(tr::header_name_equals("traceparent ", "traceparent"));
}

TEST_CASE("parse_traceparent reads the spec's sampled example as a remote context") {
  const tr::span_context ctx = parsed(spec_traceparent);
  CHECK(ctx.valid());
  CHECK(ctx.is_remote());
  CHECK(ctx.sampled());
  CHECK_FALSE(ctx.flags().random());
  CHECK(ctx.flags().bits() == 0x01);
  CHECK(ctx.trace_id().to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(ctx.span_id().to_hex() == "00f067aa0ba902b7");
  CHECK(ctx.trace_state().empty());
  CHECK(tr::format_traceparent(ctx) == spec_traceparent);
}

TEST_CASE("parse_traceparent reads the spec's not-sampled example") {
  const tr::span_context ctx = parsed("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  CHECK_FALSE(ctx.sampled());
  CHECK(ctx.flags().bits() == 0);
  CHECK(tr::format_traceparent(ctx) == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST_CASE("parse_traceparent keeps the Level 2 random flag and drops unknown flag bits") {
  CHECK(parsed(suite_value("00", "02")).flags().random());
  CHECK_FALSE(parsed(suite_value("00", "02")).sampled());
  CHECK(parsed(suite_value("00", "03")).flags().bits() == 0x03);
  CHECK(parsed(suite_value("00", "ff")).flags().bits() == 0x03);
  CHECK(parsed(suite_value("00", "09")).flags().bits() == 0x01);  // the spec's 00001001 example
  CHECK(parsed(suite_value("00", "04")).flags().bits() == 0x00);
  CHECK(parsed(suite_value("00", "fc")).flags().bits() == 0x00);
  // Unknown bits are never forwarded.
  CHECK(tr::format_traceparent(parsed(suite_value("00", "ff"))) == suite_value("00", "03"));
  CHECK(tr::format_traceparent(parsed(suite_value("00", "f9"))) == suite_value("00", "01"));
}

TEST_CASE("parse_traceparent: version rules") {
  CHECK_FALSE(parses(suite_value("ff")));
  CHECK_FALSE(parses(suite_value(".0")));
  CHECK_FALSE(parses(suite_value("0.")));
  CHECK_FALSE(parses(suite_value("000")));
  CHECK_FALSE(parses(suite_value("0000")));
  CHECK_FALSE(parses(suite_value("0")));
  CHECK_FALSE(parses(suite_value("")));
  CHECK_FALSE(parses(suite_value("0A")));  // uppercase hex
  CHECK_FALSE(parses(suite_value("CC")));
  CHECK_FALSE(parses(suite_value("g0")));
  // Version 00: exactly 55 characters, nothing after the flags.
  CHECK_FALSE(parses(suite_value() + "."));
  CHECK_FALSE(parses(suite_value() + "-"));
  CHECK_FALSE(parses(suite_value() + "-what-the-future-will-be-like"));
  CHECK_FALSE(parses(suite_value() + "0"));
}

TEST_CASE("parse_traceparent: higher versions parse the version-00 fields") {
  for (const char* version : {"01", "cc", "fe", "10"}) {
    CAPTURE(version);
    const tr::span_context ctx = parsed(suite_value(version));
    CHECK(ctx.trace_id().to_hex() == suite_trace_id);
    CHECK(ctx.span_id().to_hex() == suite_parent_id);
    CHECK(ctx.sampled());
    // Re-emitted as the highest version we know: 00.
    CHECK(tr::format_traceparent(ctx) == suite_value("00"));
  }
  CHECK(parsed(suite_value("cc") + "-what-the-future-will-be-like").trace_id().to_hex() == suite_trace_id);
  CHECK(parsed(suite_value("cc", "03") + "-").flags().bits() == 0x03);
  CHECK_FALSE(parses(suite_value("cc") + ".what-the-future-will-be-like"));
  CHECK_FALSE(parses(suite_value("cc") + "0"));
  CHECK_FALSE(parses(suite_value("cc", "1")));  // shorter than 55
  CHECK_FALSE(parses(suite_value("cc", "1") + "-x"));  // 55+ chars but the flags are one digit
  // Field rules still apply to higher versions.
  CHECK_FALSE(parses("cc-00000000000000000000000000000000-1234567890123456-01"));
  CHECK_FALSE(parses("cc-12345678901234567890123456789012-0000000000000000-01"));
  CHECK_FALSE(parses("cc-1234567890123456789012345678901A-1234567890123456-01"));
  CHECK_FALSE(parses("cc-12345678901234567890123456789012-1234567890123456-0G"));
}

TEST_CASE("parse_traceparent: trace-id rules") {
  CHECK_FALSE(parses("00-00000000000000000000000000000000-1234567890123456-01"));
  CHECK_FALSE(parses("00-.2345678901234567890123456789012-1234567890123456-01"));
  CHECK_FALSE(parses("00-1234567890123456789012345678901.-1234567890123456-01"));
  CHECK_FALSE(parses("00-123456789012345678901234567890123-1234567890123456-01"));
  CHECK_FALSE(parses("00-1234567890123456789012345678901-1234567890123456-01"));
  CHECK_FALSE(parses("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(parses("00-4bf92f3577b34da6a3ce929d0e0e473G-00f067aa0ba902b7-01"));
  CHECK(parses("00-00000000000000000000000000000001-1234567890123456-01"));
}

TEST_CASE("parse_traceparent: parent-id rules") {
  CHECK_FALSE(parses("00-12345678901234567890123456789012-0000000000000000-01"));
  CHECK_FALSE(parses("00-12345678901234567890123456789012-.234567890123456-01"));
  CHECK_FALSE(parses("00-12345678901234567890123456789012-123456789012345.-01"));
  CHECK_FALSE(parses("00-12345678901234567890123456789012-12345678901234567-01"));
  CHECK_FALSE(parses("00-12345678901234567890123456789012-123456789012345-01"));
  CHECK_FALSE(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
  CHECK(parses("00-12345678901234567890123456789012-0000000000000001-01"));
}

TEST_CASE("parse_traceparent: trace-flags rules") {
  CHECK_FALSE(parses(suite_value("00", ".0")));
  CHECK_FALSE(parses(suite_value("00", "0.")));
  CHECK_FALSE(parses(suite_value("00", "001")));
  CHECK_FALSE(parses(suite_value("00", "1")));
  CHECK_FALSE(parses(suite_value("00", "")));
  CHECK_FALSE(parses(suite_value("00", "0A")));
  CHECK_FALSE(parses(suite_value("00", "FF")));
}

TEST_CASE("parse_traceparent: every dash must be a dash, and only there") {
  const std::string good = spec_traceparent;
  for (std::size_t pos : {2u, 35u, 52u}) {
    for (char c : {'_', '0', 'a', ' ', '.', '\0'}) {
      std::string bad = good;
      bad[pos] = c;
      CAPTURE(pos);
      CHECK_FALSE(parses(bad));
    }
  }
  // A dash anywhere inside a field is an illegal character there.
  for (std::size_t pos = 0; pos < good.size(); ++pos) {
    if (good[pos] == '-') continue;
    std::string bad = good;
    bad[pos] = '-';
    CAPTURE(pos);
    CHECK_FALSE(parses(bad));
  }
  CHECK_FALSE(parses("00+4bf92f3577b34da6a3ce929d0e0e4736+00f067aa0ba902b7+01"));
  CHECK_FALSE(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7--1"));
}

TEST_CASE("parse_traceparent trims leading and trailing OWS like the W3C test suite expects") {
  const std::string v = suite_value();
  for (const std::string& value : {" " + v, "\t" + v, v + " ", v + "\t", "\t " + v + " \t", "   " + v + "   "}) {
    CAPTURE(value);
    CHECK(parsed(value).trace_id().to_hex() == suite_trace_id);
  }
  // Only SP and HTAB are OWS; whitespace inside the value is never allowed.
  CHECK_FALSE(parses("\n" + v));
  CHECK_FALSE(parses(v + "\r\n"));
  CHECK_FALSE(parses(v + "\v"));
  CHECK_FALSE(parses("00- 12345678901234567890123456789012-1234567890123456-01"));
  CHECK_FALSE(parses("00-12345678901234567890123456789012-1234567890123456- 01"));
  // A higher version with trailing OWS and no extra fields is still 55 chars.
  CHECK(parses(suite_value("cc") + " \t"));
}

TEST_CASE("parse_traceparent rejects empty and short input and leaves the output unchanged") {
  CHECK_FALSE(parses(""));
  CHECK_FALSE(parses(" \t "));
  CHECK_FALSE(parses(std::string(55, ' ')));
  CHECK_FALSE(parses(std::string(55, '0')));
  CHECK_FALSE(parses(std::string(55, '-')));

  tr::span_context ctx = sample_context();
  const tr::span_context before = ctx;
  CHECK_FALSE(tr::parse_traceparent("00-00000000000000000000000000000000-1234567890123456-01", ctx));
  CHECK(ctx == before);
  // Success replaces everything, including a previous tracestate.
  REQUIRE(tr::parse_traceparent(spec_traceparent, ctx));
  CHECK(ctx.trace_state().empty());
  CHECK(ctx.is_remote());
}

TEST_CASE("format_traceparent: invalid contexts give nothing, the buffer form writes exactly 55 chars") {
  CHECK(tr::format_traceparent(tr::span_context()).empty());
  const tr::span_context no_span(tr::trace_id::from_hex(suite_trace_id), tr::span_id(), tr::trace_flags(1));
  CHECK(tr::format_traceparent(no_span).empty());
  const tr::span_context no_trace(tr::trace_id(), tr::span_id::from_hex(suite_parent_id), tr::trace_flags(1));
  CHECK(tr::format_traceparent(no_trace).empty());

  char buf[64];
  std::memset(buf, '#', sizeof buf);
  CHECK(tr::format_traceparent(tr::span_context(), buf) == 0);
  CHECK(buf[0] == '#');
  CHECK(tr::format_traceparent(parsed(spec_traceparent), buf) == 55);
  CHECK(std::string(buf, 55) == spec_traceparent);
  CHECK(buf[55] == '#');

  const tr::span_context local(tr::trace_id::from_u64(1, 2), tr::span_id::from_u64(3), tr::trace_flags(0xff));
  CHECK(tr::format_traceparent(local) == "00-00000000000000010000000000000002-0000000000000003-03");
}

TEST_CASE("inject/extract round-trip through every supported carrier and a user type") {
  SUBCASE("std::map") { check_round_trip<std::map<std::string, std::string>>(); }
  SUBCASE("std::map with transparent compare") { check_round_trip<std::map<std::string, std::string, std::less<>>>(); }
  SUBCASE("std::multimap") { check_round_trip<std::multimap<std::string, std::string>>(); }
  SUBCASE("httplib-like case-insensitive multimap") { check_round_trip<httplib_like_headers>(); }
  SUBCASE("std::unordered_map") { check_round_trip<std::unordered_map<std::string, std::string>>(); }
  SUBCASE("std::unordered_multimap") { check_round_trip<std::unordered_multimap<std::string, std::string>>(); }
  SUBCASE("user-defined carrier") { check_round_trip<user::header_list>(); }
}

TEST_CASE("inject writes lowercase names, skips an empty tracestate and writes nothing for an invalid context") {
  std::map<std::string, std::string> carrier;
  tr::inject(sample_context(""), carrier);
  REQUIRE(carrier.size() == 1);
  CHECK(carrier.begin()->first == "traceparent");
  CHECK(carrier.begin()->second == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");

  std::map<std::string, std::string> untouched{{"x", "y"}};
  tr::inject(tr::span_context(), untouched);
  CHECK(untouched == std::map<std::string, std::string>{{"x", "y"}});

  user::header_list list;
  tr::inject(sample_context(), list);
  REQUIRE(list.items.size() == 2);
  CHECK(list.items[0].first == "traceparent");
  CHECK(list.items[1] == std::make_pair(std::string("tracestate"), std::string("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")));
}

TEST_CASE("carrier set replaces entries whose name matches in any case") {
  httplib_like_headers h{{"TraceParent", "old"}, {"Other", "1"}};
  tr::carrier_traits<httplib_like_headers>::set(h, "traceparent", "new");
  CHECK(h.size() == 2);
  CHECK(h.find("traceparent")->second == "new");

  std::multimap<std::string, std::string> m{{"TRACESTATE", "a=1"}, {"tracestate", "b=2"}, {"TraceState", "c=3"}};
  tr::carrier_traits<decltype(m)>::set(m, "tracestate", "d=4");
  REQUIRE(m.size() == 1);
  CHECK(m.begin()->first == "tracestate");
  CHECK(m.begin()->second == "d=4");

  std::unordered_map<std::string, std::string> u{{"TRACEPARENT", "x"}};
  tr::carrier_traits<decltype(u)>::set(u, "traceparent", "y");
  CHECK(u == std::unordered_map<std::string, std::string>{{"traceparent", "y"}});
}

TEST_CASE("extract matches header names case-insensitively") {
  for (const char* tp_name : {"traceparent", "TraceParent", "TrAcEpArEnT", "TRACEPARENT"}) {
    for (const char* ts_name : {"tracestate", "TraceState", "TrAcEsTaTe", "TRACESTATE"}) {
      std::map<std::string, std::string> m{{tp_name, suite_value("00", "00")}, {ts_name, "foo=1"}};
      const tr::span_context ctx = tr::extract(m);
      CAPTURE(tp_name);
      CAPTURE(ts_name);
      CHECK(ctx.trace_id().to_hex() == suite_trace_id);
      CHECK(ctx.trace_state().get("foo") == std::string_view("1"));
    }
  }
}

TEST_CASE("extract ignores wrongly named headers") {
  std::map<std::string, std::string> m{{"trace-parent", suite_value()}, {"trace.parent", suite_value()}};
  CHECK_FALSE(tr::extract(m).valid());
  std::map<std::string, std::string> s{{"traceparent", suite_value()}, {"trace-state", "foo=1"}, {"trace.state", "bar=1"}};
  const tr::span_context ctx = tr::extract(s);
  CHECK(ctx.valid());
  CHECK(ctx.trace_state().empty());
}

TEST_CASE("extract: several traceparent values make the context invalid") {
  httplib_like_headers h{{"traceparent", "00-12345678901234567890123456789011-1234567890123456-01"},
                         {"traceparent", "00-12345678901234567890123456789012-1234567890123456-01"}};
  CHECK_FALSE(tr::extract(h).valid());
  // Even two identical values, or two spellings of the name.
  std::multimap<std::string, std::string> same{{"traceparent", suite_value()}, {"traceparent", suite_value()}};
  CHECK_FALSE(tr::extract(same).valid());
  std::map<std::string, std::string> spellings{{"traceparent", suite_value()}, {"TraceParent", suite_value()}};
  CHECK_FALSE(tr::extract(spellings).valid());
  std::unordered_multimap<std::string, std::string> u{{"traceparent", suite_value()}, {"traceparent", suite_value()}};
  CHECK_FALSE(tr::extract(u).valid());
}

TEST_CASE("extract: without a valid traceparent the tracestate is ignored") {
  std::map<std::string, std::string> only_state{{"tracestate", "foo=1"}};
  CHECK(tr::extract(only_state) == tr::span_context());
  std::map<std::string, std::string> bad_parent{{"traceparent", suite_value("ff")}, {"tracestate", "foo=1"}};
  const tr::span_context ctx = tr::extract(bad_parent);
  CHECK_FALSE(ctx.valid());
  CHECK(ctx.trace_state().empty());
  CHECK(ctx == tr::span_context());
  std::map<std::string, std::string> empty;
  CHECK(tr::extract(empty) == tr::span_context());
}

TEST_CASE("extract joins repeated tracestate headers in carrier order") {
  httplib_like_headers h{{"traceparent", suite_value("00", "00")},
                         {"tracestate", "foo=1,bar=2"},
                         {"TraceState", "rojo=1,congo=2"},
                         {"tracestate", "baz=3"}};
  CHECK(tr::extract(h).trace_state().header() == "foo=1,bar=2,rojo=1,congo=2,baz=3");

  user::header_list list{{{"traceparent", suite_value()}, {"tracestate", "b=2"}, {"x", "y"}, {"tracestate", "a=1"}}};
  CHECK(tr::extract(list).trace_state().header() == "b=2,a=1");
}

TEST_CASE("extract: empty tracestate headers are accepted and contribute nothing") {
  user::header_list a{{{"traceparent", suite_value()}, {"tracestate", ""}}};
  const tr::span_context ca = tr::extract(a);
  CHECK(ca.valid());
  CHECK(ca.trace_state().empty());
  user::header_list b{{{"traceparent", suite_value()}, {"tracestate", "foo=1"}, {"tracestate", ""}}};
  CHECK(tr::extract(b).trace_state().header() == "foo=1");
  user::header_list c{{{"traceparent", suite_value()}, {"tracestate", ""}, {"tracestate", "foo=1"}}};
  CHECK(tr::extract(c).trace_state().header() == "foo=1");
}

TEST_CASE("extract drops an invalid tracestate and keeps the context") {
  for (const char* state : {"foo=1,foo=1", "FOO=1", "foo=bar=baz", "foo=,bar=3", "foo@=1,bar=2"}) {
    CAPTURE(state);
    std::map<std::string, std::string> m{{"traceparent", suite_value("00", "00")}, {"tracestate", state}};
    const tr::span_context ctx = tr::extract(m);
    CHECK(ctx.valid());
    CHECK(ctx.trace_id().to_hex() == suite_trace_id);
    CHECK(ctx.trace_state().empty());
  }
  // A key duplicated across two headers is a duplicate in the joined value.
  user::header_list dup{{{"traceparent", suite_value()}, {"tracestate", "foo=1"}, {"tracestate", "foo=2"}}};
  const tr::span_context ctx = tr::extract(dup);
  CHECK(ctx.valid());
  CHECK(ctx.trace_state().empty());
}

TEST_CASE("extract: the W3C suite's 32/33 members split over four headers") {
  auto members = [](int first, int last) {
    std::string out;
    for (int i = first; i <= last; ++i) {
      if (!out.empty()) out += ',';
      const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
      out += "bar" + n + "=" + n;
    }
    return out;
  };
  user::header_list ok{{{"traceparent", suite_value("00", "00")},
                        {"tracestate", members(1, 10)},
                        {"tracestate", members(11, 20)},
                        {"tracestate", members(21, 30)},
                        {"tracestate", members(31, 32)}}};
  const tr::span_context c32 = tr::extract(ok);
  CHECK(c32.trace_state().size() == 32);
  CHECK(c32.trace_state().get("bar01") == std::string_view("01"));

  user::header_list too_many = ok;
  too_many.items.back().second = members(31, 33);
  const tr::span_context c33 = tr::extract(too_many);
  CHECK(c33.valid());
  CHECK(c33.trace_state().empty());
}

TEST_CASE("extract: the W3C suite's key length limits across headers") {
  auto state_of = [](const std::string& second) {
    user::header_list h{{{"traceparent", suite_value("00", "00")}, {"tracestate", "foo=1"}, {"tracestate", second}}};
    return tr::extract(h).trace_state();
  };
  CHECK(state_of(std::string(256, 'z') + "=1").get("foo") == std::string_view("1"));
  CHECK_FALSE(state_of(std::string(257, 'z') + "=1").get("foo").has_value());
  CHECK(state_of(std::string(241, 't') + "@" + std::string(14, 'v') + "=1").get("foo") == std::string_view("1"));
  CHECK_FALSE(state_of(std::string(242, 't') + "@v=1").get("foo").has_value());
  CHECK_FALSE(state_of("t@" + std::string(15, 'v') + "=1").get("foo").has_value());
}

TEST_CASE("extract accepts a higher-version traceparent and inject re-emits version 00") {
  std::map<std::string, std::string> in{{"traceparent", suite_value("cc") + "-what-the-future-will-be-like"},
                                        {"tracestate", "congo=t61rcWkgMzE"}};
  const tr::span_context ctx = tr::extract(in);
  REQUIRE(ctx.valid());
  std::map<std::string, std::string> out;
  tr::inject(ctx, out);
  CHECK(out["traceparent"] == suite_value("00"));
  CHECK(out["tracestate"] == "congo=t61rcWkgMzE");
}

TEST_CASE("parse_traceparent survives random, truncated and mutated input") {
  std::uint64_t seed = 0x2545f4914f6cdd1dull;
  auto next = [&seed]() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<std::size_t>(seed);  // used as an index: size_t on 32-bit targets too
  };
  const std::string alphabet = "0123456789abcdef0123456789abcdef--- \tAFgz.";
  const std::string valid = spec_traceparent;
  std::size_t accepted = 0;
  for (int round = 0; round < 30000; ++round) {
    std::string input;
    switch (round % 4) {
      case 0: {
        const std::size_t len = next() % 90;
        for (std::size_t i = 0; i < len; ++i)
          input += (next() % 8 == 0) ? static_cast<char>(next() & 0xff) : alphabet[next() % alphabet.size()];
        break;
      }
      case 1:
        input = valid.substr(0, next() % (valid.size() + 1));
        break;
      case 2:
        input = valid;
        input[next() % input.size()] = alphabet[next() % alphabet.size()];
        break;
      default: {  // plausible shape with random version and flags, sometimes extended
        input = valid;
        input[0] = alphabet[next() % 16];
        input[1] = alphabet[next() % 16];
        input[53] = alphabet[next() % 16];
        input[54] = alphabet[next() % 16];
        if (next() % 2) input += alphabet[next() % alphabet.size()] + std::string("x");
        break;
      }
    }
    tr::span_context ctx;
    if (!tr::parse_traceparent(input, ctx)) continue;
    ++accepted;
    REQUIRE(ctx.valid());
    REQUIRE(ctx.is_remote());
    REQUIRE((ctx.flags().bits() & ~tr::trace_flags::known_bits) == 0);
    // What was accepted re-formats to the same ids, and re-parses to itself.
    const std::string formatted = tr::format_traceparent(ctx);
    REQUIRE(formatted.size() == 55);
    const std::size_t start = input.find_first_not_of(" \t");
    REQUIRE(formatted.substr(3, 50) == input.substr(start + 3, 50));
    tr::span_context again;
    REQUIRE(tr::parse_traceparent(formatted, again));
    REQUIRE(again == ctx);
  }
  CHECK(accepted > 0);
}

TEST_CASE("extract survives random carriers without crashing") {
  std::uint64_t seed = 0xdeadbeefcafef00dull;
  auto next = [&seed]() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<std::size_t>(seed);  // used as an index: size_t on 32-bit targets too
  };
  const std::vector<std::string> names = {"traceparent", "TRACEPARENT", "tracestate", "TraceState", "x", ""};
  const std::vector<std::string> values = {spec_traceparent, "", "foo=1", "foo=1,foo=2", ",,", "garbage",
                                           suite_value("cc") + "-x", std::string(600, 'a')};
  std::size_t valid = 0;
  for (int round = 0; round < 3000; ++round) {
    user::header_list h;
    const std::size_t n = next() % 6;
    for (std::size_t i = 0; i < n; ++i) {
      std::string v = values[next() % values.size()];
      if (!v.empty() && next() % 3 == 0) v.resize(next() % v.size());
      h.items.emplace_back(names[next() % names.size()], v);
    }
    const tr::span_context ctx = tr::extract(h);
    if (!ctx.valid()) {
      REQUIRE(ctx == tr::span_context());
      continue;
    }
    ++valid;
    REQUIRE(count_entries(h, "traceparent") == 1);
    user::header_list out;
    tr::inject(ctx, out);
    REQUIRE(tr::extract(out) == ctx);
  }
  CHECK(valid > 0);
}

TEST_CASE("inject into a reused carrier removes a stale tracestate") {
  std::map<std::string, std::string> headers{{"TraceState", "old=value"},
                                             {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  const tr::span_context ctx(tr::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736"),
                             tr::span_id::from_hex("00f067aa0ba902b7"), tr::trace_flags(1));
  tr::inject(ctx, headers);
  CHECK(headers.size() == 1);
  CHECK(headers["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}
