// W3C tracestate: grammar, limits, canonical form and mutation rules.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <streambus/tracing.hpp>

namespace {

using streambus::tracing::trace_state;

bool parses(const std::string& header) {
  trace_state s;
  return trace_state::parse(header, s);
}

std::string canonical(const std::string& header) {
  trace_state s;
  REQUIRE(trace_state::parse(header, s));
  return std::string(s.header());
}

// "bar01=01,bar02=02,..." with n members, as the W3C test suite builds them.
std::string numbered_members(int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i) {
    if (!out.empty()) out += ',';
    const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
    out += "bar" + n + "=" + n;
  }
  return out;
}

// Every tail character a simple key may hold, from the W3C test suite.
const std::string key_chars = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";

// Every character a value may hold: 0x20-0x2B, 0x2D-0x3C, 0x3E-0x7E.
std::string all_value_chars() {
  std::string v;
  for (int c = 0x20; c <= 0x7e; ++c)
    if (c != ',' && c != '=') v += static_cast<char>(c);
  return v;
}

}  // namespace

TEST_CASE("trace_state parses the spec's rojo/congo example and keeps its order") {
  trace_state s;
  REQUIRE(trace_state::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", s));
  CHECK(s.size() == 2);
  CHECK_FALSE(s.empty());
  CHECK(s.header() == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  CHECK(s.get("rojo") == std::string_view("00f067aa0ba902b7"));
  CHECK(s.get("congo") == std::string_view("t61rcWkgMzE"));
  CHECK_FALSE(s.get("nobody").has_value());
  CHECK_FALSE(s.get("").has_value());
  CHECK_FALSE(s.get("rojo=00f067aa0ba902b7").has_value());

  std::vector<std::string> seen;
  s.for_each([&](std::string_view k, std::string_view v) { seen.push_back(std::string(k) + "|" + std::string(v)); });
  CHECK(seen == std::vector<std::string>{"rojo|00f067aa0ba902b7", "congo|t61rcWkgMzE"});
}

TEST_CASE("trace_state: a default state is empty and equal to a parsed empty header") {
  trace_state s;
  CHECK(s.empty());
  CHECK(s.size() == 0);
  CHECK(s.header().empty());
  CHECK(s == trace_state::from_header(""));
  CHECK(s != trace_state::from_header("a=1"));
}

TEST_CASE("trace_state accepts empty and whitespace-only headers and members") {
  for (const char* h : {"", " ", "\t", " \t ", ",", ",,,", " , \t ,", "\t,\t"}) {
    CAPTURE(h);
    trace_state s = trace_state::from_header("keep=1");
    REQUIRE(trace_state::parse(h, s));
    CHECK(s.empty());
  }
  CHECK(canonical("foo=1,,bar=2,") == "foo=1,bar=2");
  CHECK(canonical(",foo=1, ,\t,bar=2") == "foo=1,bar=2");
  CHECK(canonical("foo=1,") == "foo=1");  // "foo=1" joined with an empty tracestate header
  CHECK(canonical(",foo=1") == "foo=1");
}

TEST_CASE("trace_state strips OWS around members as the W3C test suite sends it") {
  CHECK(canonical("foo=1 \t , \t bar=2, \t baz=3") == "foo=1,bar=2,baz=3");
  CHECK(canonical("foo=1\t \t,\t \tbar=2,\t \tbaz=3") == "foo=1,bar=2,baz=3");
  CHECK(canonical(" foo=1") == "foo=1");
  CHECK(canonical("\tfoo=1") == "foo=1");
  CHECK(canonical("foo=1 ") == "foo=1");
  CHECK(canonical("foo=1\t") == "foo=1");
  CHECK(canonical("\t foo=1 \t") == "foo=1");
  const trace_state s = trace_state::from_header("foo=1 \t , \t bar=2, \t baz=3");
  CHECK(s.get("foo") == std::string_view("1"));
  CHECK(s.get("bar") == std::string_view("2"));
  CHECK(s.get("baz") == std::string_view("3"));
}

TEST_CASE("trace_state keeps a value's leading spaces and drops trailing ones") {
  const trace_state s = trace_state::from_header("foo=  1  ,bar= x y");
  CHECK(s.header() == "foo=  1,bar= x y");
  CHECK(s.get("foo") == std::string_view("  1"));
  CHECK(s.get("bar") == std::string_view(" x y"));
}

TEST_CASE("trace_state allows 32 list-members and drops a list of 33 whole") {
  trace_state s;
  REQUIRE(trace_state::parse(numbered_members(1, 32), s));
  CHECK(s.size() == 32);
  CHECK(s.get("bar01") == std::string_view("01"));
  CHECK(s.get("bar32") == std::string_view("32"));

  // Empty members do not count toward the limit.
  REQUIRE(trace_state::parse(",," + numbered_members(1, 32) + ", ,", s));
  CHECK(s.size() == 32);

  trace_state kept = trace_state::from_header("keep=1");
  CHECK_FALSE(trace_state::parse(numbered_members(1, 33), kept));
  CHECK(kept.header() == "keep=1");  // unchanged on failure
  CHECK(trace_state::from_header(numbered_members(1, 33)).empty());
}

TEST_CASE("trace_state with a duplicate key is invalid as a whole") {
  CHECK_FALSE(parses("foo=1,foo=1"));
  CHECK_FALSE(parses("foo=1,foo=2"));
  CHECK_FALSE(parses("foo=1,bar=2,foo=3"));
  CHECK_FALSE(parses("foo=1 , foo=1"));
  CHECK_FALSE(parses("t@v=1,t@v=2"));
  CHECK(trace_state::from_header("foo=1,foo=2").empty());
  // Different keys sharing a prefix or a tenant are not duplicates.
  CHECK(canonical("foo=1,foo2=2,t@v=3,t@w=4,u@v=5") == "foo=1,foo2=2,t@v=3,t@w=4,u@v=5");
}

TEST_CASE("trace_state key grammar: simple keys") {
  CHECK(trace_state::valid_key("a"));
  CHECK(trace_state::valid_key("foo"));
  CHECK(trace_state::valid_key(key_chars));
  CHECK(trace_state::valid_key("f_-*/0"));
  CHECK(trace_state::valid_key(std::string(256, 'z')));
  CHECK_FALSE(trace_state::valid_key(std::string(257, 'z')));
  CHECK_FALSE(trace_state::valid_key(""));
  CHECK_FALSE(trace_state::valid_key("1abc"));  // a simple key starts with lcalpha
  CHECK_FALSE(trace_state::valid_key("_abc"));
  CHECK_FALSE(trace_state::valid_key("FOO"));
  CHECK_FALSE(trace_state::valid_key("Foo"));
  CHECK_FALSE(trace_state::valid_key("foo.bar"));
  CHECK_FALSE(trace_state::valid_key("foo "));
  CHECK_FALSE(trace_state::valid_key(" foo"));
  CHECK_FALSE(trace_state::valid_key("fo\to"));
  CHECK_FALSE(trace_state::valid_key("foo=bar"));
  CHECK_FALSE(trace_state::valid_key("foo,bar"));
  CHECK_FALSE(trace_state::valid_key("f\xc3\xa9"));

  CHECK(canonical(key_chars + "=" + "1") == key_chars + "=1");
  CHECK_FALSE(parses("foo =1"));
  CHECK_FALSE(parses("FOO=1"));
  CHECK_FALSE(parses("foo.bar=1"));
  CHECK_FALSE(parses("=1"));
  CHECK_FALSE(parses("foo"));  // a member without '='
  CHECK_FALSE(parses("foo=1,bar"));
}

TEST_CASE("trace_state key grammar: multi-tenant keys and their length limits") {
  CHECK(trace_state::valid_key("fw529a3039@dt"));
  CHECK(trace_state::valid_key("1a2b3c4d5e@dt"));  // a tenant-id may start with a digit
  CHECK(trace_state::valid_key("9@a"));
  CHECK(trace_state::valid_key(key_chars + "@a-z0-9_-*/"));
  CHECK(trace_state::valid_key(std::string(241, 't') + "@" + std::string(14, 'v')));
  CHECK_FALSE(trace_state::valid_key(std::string(242, 't') + "@v"));
  CHECK_FALSE(trace_state::valid_key("t@" + std::string(15, 'v')));
  CHECK_FALSE(trace_state::valid_key("foo@"));
  CHECK_FALSE(trace_state::valid_key("@foo"));
  CHECK_FALSE(trace_state::valid_key("foo@@bar"));
  CHECK_FALSE(trace_state::valid_key("foo@bar@baz"));
  CHECK_FALSE(trace_state::valid_key("t@1v"));  // a system-id starts with lcalpha
  CHECK_FALSE(trace_state::valid_key("_t@v"));
  CHECK_FALSE(trace_state::valid_key("T@v"));

  // The W3C suite's cases: an invalid key drops the whole tracestate.
  CHECK_FALSE(parses("foo@=1,bar=2"));
  CHECK_FALSE(parses("@foo=1,bar=2"));
  CHECK_FALSE(parses("foo@@bar=1,bar=2"));
  CHECK_FALSE(parses("foo@bar@baz=1,bar=2"));
  CHECK(parses("foo=1," + std::string(241, 't') + "@" + std::string(14, 'v') + "=1"));
  CHECK_FALSE(parses("foo=1," + std::string(242, 't') + "@v=1"));
  CHECK_FALSE(parses("foo=1,t@" + std::string(15, 'v') + "=1"));
  CHECK(parses("foo=1," + std::string(256, 'z') + "=1"));
  CHECK_FALSE(parses("foo=1," + std::string(257, 'z') + "=1"));
}

TEST_CASE("trace_state value grammar") {
  const std::string every = all_value_chars();  // starts with a space, ends with '~'
  CHECK(trace_state::valid_value(every));
  CHECK(trace_state::valid_value("t61rcWkgMzE"));
  CHECK(trace_state::valid_value("x"));
  CHECK(trace_state::valid_value(" x"));
  CHECK(trace_state::valid_value(std::string(256, 'v')));
  CHECK(trace_state::valid_value(std::string(255, ' ') + "v"));
  CHECK_FALSE(trace_state::valid_value(std::string(257, 'v')));
  CHECK_FALSE(trace_state::valid_value(""));
  CHECK_FALSE(trace_state::valid_value(" "));
  CHECK_FALSE(trace_state::valid_value("x "));  // must end with a non-space
  CHECK_FALSE(trace_state::valid_value("a,b"));
  CHECK_FALSE(trace_state::valid_value("a=b"));
  CHECK_FALSE(trace_state::valid_value("a\tb"));
  CHECK_FALSE(trace_state::valid_value("a\nb"));
  CHECK_FALSE(trace_state::valid_value(std::string("a\0b", 3)));
  CHECK_FALSE(trace_state::valid_value("a\x7f"));
  CHECK_FALSE(trace_state::valid_value("caf\xc3\xa9"));

  const trace_state a = trace_state::from_header(key_chars + "=" + every);
  CHECK(a.get(key_chars) == std::string_view(every));
  const std::string mt = key_chars + "@a-z0-9_-*/";
  const trace_state b = trace_state::from_header(mt + "=" + every);
  CHECK(b.get(mt) == std::string_view(every));

  CHECK_FALSE(parses("foo=bar=baz"));
  CHECK_FALSE(parses("foo=,bar=3"));
  CHECK_FALSE(parses("foo=a\tb"));
  CHECK_FALSE(parses("foo=" + std::string(257, 'v')));
  CHECK(parses("foo=" + std::string(256, 'v')));
  CHECK(parses("foo=" + std::string(256, 'v') + "   "));  // trailing OWS is not counted
}

TEST_CASE("trace_state::set moves or inserts the entry at the front (spec example)") {
  const trace_state congo = trace_state::from_header("congo=t61rcWkgMzE");
  const trace_state rojo = congo.set("rojo", "00f067aa0ba902b7");
  CHECK(rojo.header() == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  const trace_state again = rojo.set("congo", "ucfJifl5GOE");
  CHECK(again.header() == "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
  CHECK(again.size() == 2);
  CHECK(congo.header() == "congo=t61rcWkgMzE");  // set returns a new state

  CHECK(trace_state().set("a", "1").header() == "a=1");
  CHECK(trace_state::from_header("a=1,b=2,c=3").set("b", "9").header() == "b=9,a=1,c=3");
  CHECK(trace_state::from_header("a=1,b=2,c=3").set("c", "3").header() == "c=3,a=1,b=2");
  CHECK(trace_state::from_header("a=1,b=2,c=3").set("a", "1").header() == "a=1,b=2,c=3");
  // "b" is a prefix of "bb" but not the same key.
  CHECK(trace_state::from_header("bb=1,b=2").set("b", "3").header() == "b=3,bb=1");
}

TEST_CASE("trace_state::set with an invalid key or value returns an unchanged copy") {
  const trace_state s = trace_state::from_header("a=1,b=2");
  CHECK(s.set("", "1") == s);
  CHECK(s.set("B", "1") == s);
  CHECK(s.set("a", "") == s);
  CHECK(s.set("a", "x,y") == s);
  CHECK(s.set("a", "x=y") == s);
  CHECK(s.set("a", "x ") == s);
  CHECK(s.set("a", std::string(257, 'v')) == s);
  CHECK(s.set(std::string(257, 'k'), "1") == s);
}

TEST_CASE("trace_state::set on a full list drops members from the end") {
  const trace_state full = trace_state::from_header(numbered_members(1, 32));
  REQUIRE(full.size() == 32);

  const trace_state added = full.set("new", "1");
  CHECK(added.size() == 32);
  CHECK(added.get("new") == std::string_view("1"));
  CHECK(added.header().substr(0, 6) == "new=1,");
  CHECK(added.get("bar31") == std::string_view("31"));
  CHECK_FALSE(added.get("bar32").has_value());

  // Updating an existing key does not grow the list, so nothing is dropped.
  const trace_state updated = full.set("bar16", "xx");
  CHECK(updated.size() == 32);
  CHECK(updated.header().substr(0, 9) == "bar16=xx,");
  CHECK(updated.get("bar32") == std::string_view("32"));
  CHECK(trace_state::from_header(std::string(updated.header())) == updated);
}

TEST_CASE("trace_state::erase removes one key and keeps the order of the rest") {
  const trace_state s = trace_state::from_header("a=1,b=2,c=3");
  CHECK(s.erase("b").header() == "a=1,c=3");
  CHECK(s.erase("a").header() == "b=2,c=3");
  CHECK(s.erase("c").header() == "a=1,b=2");
  CHECK(s.erase("zz") == s);
  CHECK(s.erase("") == s);
  CHECK(trace_state::from_header("a=1").erase("a").empty());
  CHECK(s.erase("a").erase("b").erase("c") == trace_state());
}

TEST_CASE("trace_state::parse leaves the output unchanged on failure; from_header drops invalid input") {
  trace_state s = trace_state::from_header("keep=1");
  CHECK_FALSE(trace_state::parse("bad key=1", s));
  CHECK(s.header() == "keep=1");
  CHECK(trace_state::from_header("foo=1,BAD=2").empty());
  // A successful parse replaces the previous content.
  CHECK(trace_state::parse("x=1", s));
  CHECK(s.header() == "x=1");
}

TEST_CASE("trace_state survives random and truncated input and stays canonical") {
  std::uint64_t seed = 0x9e3779b97f4a7c15ull;
  auto next = [&seed]() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<std::size_t>(seed);  // used as an index: size_t on 32-bit targets too
  };
  const std::string alphabet = "ab z09_-*/@=,, \t\t==AZ~\x7f\x80\xff";
  const std::string valid = "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE ,\t1a@dt= x y,,";
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    switch (round % 3) {
      case 0: {  // random bytes from a grammar-heavy alphabet, or any byte
        const std::size_t len = next() % 64;
        for (std::size_t i = 0; i < len; ++i)
          input += (next() % 4 == 0) ? static_cast<char>(next() & 0xff) : alphabet[next() % alphabet.size()];
        break;
      }
      case 1:  // truncations of a valid header
        input = valid.substr(0, next() % (valid.size() + 1));
        break;
      default: {  // one byte of a valid header changed
        input = valid;
        input[next() % input.size()] = static_cast<char>(next() & 0xff);
        break;
      }
    }
    trace_state s;
    if (!trace_state::parse(input, s)) continue;
    ++accepted;
    // Canonical form is a fixed point and every member is well-formed.
    trace_state again;
    REQUIRE(trace_state::parse(s.header(), again));
    REQUIRE(again == s);
    REQUIRE(s.size() <= trace_state::max_members);
    s.for_each([](std::string_view k, std::string_view v) {
      REQUIRE(trace_state::valid_key(k));
      REQUIRE(trace_state::valid_value(v));
    });
  }
  CHECK(accepted > 0);
}
