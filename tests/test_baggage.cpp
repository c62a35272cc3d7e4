// W3C Baggage: header parsing and formatting (grammar, OWS, percent-encoding,
// properties, limits), the immutable baggage API, and inject/extract through
// carriers.
#include <doctest/doctest.h>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <streambus/tracing.hpp>

namespace tr = streambus::tracing;

namespace {

std::string value_of(const tr::baggage& b, std::string_view key) {
  const auto v = b.get(key);
  REQUIRE(v.has_value());
  return std::string(*v);
}

}  // namespace

TEST_CASE("baggage: the spec's example header gives three members with their properties") {
  const auto b = tr::baggage::from_header(
      "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue");
  REQUIRE(b.size() == 3);
  CHECK(b.entries()[0].key == "key1");
  CHECK(b.entries()[0].value == "value1");
  CHECK(b.entries()[0].properties == "property1;property2");
  CHECK(b.entries()[1].key == "key2");
  CHECK(b.entries()[1].value == "value2");
  CHECK(b.entries()[1].properties.empty());
  CHECK(b.entries()[2].key == "key3");
  CHECK(b.entries()[2].value == "value3");
  CHECK(b.entries()[2].properties == "propertyKey=propertyValue");
  // Canonical re-serialisation: no optional whitespace.
  CHECK(b.header() == "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue");
}

TEST_CASE("baggage: the spec's HTTP examples decode DF%2028 and keep key case") {
  const auto b = tr::baggage::from_header("userId=alice,serverNode=DF%2028,isProduction=false");
  CHECK(value_of(b, "userId") == "alice");
  CHECK(value_of(b, "serverNode") == "DF 28");
  CHECK(value_of(b, "isProduction") == "false");
  CHECK_FALSE(b.get("userid").has_value());  // keys are case-sensitive tokens
  CHECK(b.header() == "userId=alice,serverNode=DF%2028,isProduction=false");
}

TEST_CASE("baggage: OWS around keys, values, separators and properties is not part of them") {
  const auto b = tr::baggage::from_header(
      "SomeKey \t = \t SomeValue \t ; \t SomeProp \t , \t SomeKey2 \t = \t SomeValue2 \t ; \t ValueProp \t = \t "
      "PropVal");
  REQUIRE(b.size() == 2);
  CHECK(b.entries()[0].key == "SomeKey");
  CHECK(b.entries()[0].value == "SomeValue");
  CHECK(b.entries()[0].properties == "SomeProp");
  CHECK(b.entries()[1].key == "SomeKey2");
  CHECK(b.entries()[1].value == "SomeValue2");
  CHECK(b.entries()[1].properties == "ValueProp=PropVal");
}

TEST_CASE("baggage: a value may contain '=' (parsers must not split on it)") {
  const auto b = tr::baggage::from_header("SomeKey=SomeValue=equals");
  CHECK(value_of(b, "SomeKey") == "SomeValue=equals");
  CHECK(b.header() == "SomeKey=SomeValue=equals");  // '=' is a baggage-octet: sent as it is
  CHECK(tr::baggage::from_header(b.header()) == b);
}

TEST_CASE("baggage: values are percent-decoded on receipt and percent-encoded when sent") {
  // The W3C baggage test suite's value and its encoding (every byte but the unreserved ones).
  const std::string value = "\t \"';=asdf!@#$%^&*()";
  const std::string encoded = "%09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29";
  const auto b = tr::baggage::from_header("SomeKey=" + encoded);
  CHECK(value_of(b, "SomeKey") == value);
  // Sent with only what must be escaped: bytes outside baggage-octet (tab,
  // space, '"', ';'; also ',' and '\\'), '%', and '+' (a space to form
  // decoders such as opentelemetry-python's), as the Java and .NET SDKs do.
  CHECK(b.header() == "SomeKey=%09%20%22'%3B=asdf!@#$%25^&*()");
  CHECK(tr::baggage::from_header(b.header()) == b);
  const auto plus = tr::baggage().set("k", "a+b,c\\d\x01\xC3\xA9");
  CHECK(plus.header() == "k=a%2Bb%2Cc%5Cd%01%C3%A9");
  CHECK(tr::baggage::from_header(plus.header()) == plus);
  // Lowercase hex digits are accepted on receipt; '+' is not a space here.
  CHECK(value_of(tr::baggage::from_header("k=a%2fb+c"), "k") == "a/b+c");
}

TEST_CASE("baggage: UTF-8 values round-trip, and decoded bytes that are not UTF-8 become U+FFFD") {
  const std::string utf8 = "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";  // 日本 😀
  const auto b = tr::baggage().set("k", utf8);
  CHECK(b.header() == "k=%E6%97%A5%E6%9C%AC%20%F0%9F%98%80");
  CHECK(value_of(tr::baggage::from_header(b.header()), "k") == utf8);

  CHECK(value_of(tr::baggage::from_header("k=a%FFb"), "k") == "a\xEF\xBF\xBD" "b");
  CHECK(value_of(tr::baggage::from_header("k=%C3"), "k") == "\xEF\xBF\xBD");           // truncated sequence
  CHECK(value_of(tr::baggage::from_header("k=%ED%A0%80"), "k") ==                       // a surrogate
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(value_of(tr::baggage().set("k", "x\xC0y"), "k") == "x\xEF\xBF\xBDy");  // set() sanitises too
}

TEST_CASE("baggage: a malformed member is dropped alone, the rest of the header is kept") {
  const char* bad_members[] = {
      "no-equals",         // no '='
      "=value",            // empty key
      "k y=1",             // space inside the key
      "k\"=1",             // '"' is not a token character
      "k=a b",             // space inside the value
      "k=a\"b",            // DQUOTE in the value
      "k=a\\b",            // backslash in the value
      "k=%G1",             // not a hex escape
      "k=%2",              // truncated escape
      "k=abc%",            // '%' at the end
      "k=v;",              // empty property
      "k=v;p q",           // space inside a property key
      "k=v;p=a b",         // space inside a property value
      "k=v;=x",            // property without a key
      "k=\x01",            // control character
      "k=\xC3\xA9",        // raw non-ASCII (must be percent-encoded)
  };
  for (const char* bad : bad_members) {
    CAPTURE(bad);
    const auto b = tr::baggage::from_header(std::string("a=1,") + bad + ",z=2");
    CHECK(b.size() == 2);
    CHECK(value_of(b, "a") == "1");
    CHECK(value_of(b, "z") == "2");
    CHECK_FALSE(b.get("k").has_value());
  }
  // A truncated escape at the very end of the header: the byte after the
  // view (a hex digit here) is not read.
  const std::string buffer = "k=%41";
  CHECK(tr::baggage::from_header(std::string_view(buffer).substr(0, 4)).empty());
}

TEST_CASE("baggage: empty list elements and an empty header give nothing, not an error") {
  CHECK(tr::baggage::from_header("").empty());
  CHECK(tr::baggage::from_header(" \t ").empty());
  CHECK(tr::baggage::from_header(",,").empty());
  const auto b = tr::baggage::from_header(", a=1 ,, b=2 ,");
  CHECK(b.size() == 2);
  CHECK(tr::baggage().header().empty());
}

TEST_CASE("baggage: empty values are allowed and round-trip") {
  const auto b = tr::baggage::from_header("k=,j= ;p");
  CHECK(value_of(b, "k").empty());
  CHECK(value_of(b, "j").empty());
  CHECK(b.entries()[1].properties == "p");
  CHECK(b.header() == "k=,j=;p");
}

TEST_CASE("baggage: a repeated key keeps its first position and its last value") {
  const auto b = tr::baggage::from_header("a=1,b=2,a=3;p");
  REQUIRE(b.size() == 2);
  CHECK(b.entries()[0].key == "a");
  CHECK(b.entries()[0].value == "3");
  CHECK(b.entries()[0].properties == "p");
  CHECK(b.entries()[1].key == "b");

  // The replaced value's bytes are given back exactly: the header budget
  // (8192) still fits a member that needs every remaining byte.
  const auto budget = tr::baggage::from_header("a=1,a=2,b=" + std::string(8186, 'x'));
  CHECK(budget.size() == 2);
  CHECK(budget.header().size() == 8192);
}

TEST_CASE("baggage limits: at most 64 members are kept, the first ones") {
  std::string header;
  for (int i = 0; i < 100; ++i) header += (i ? "," : "") + std::string("key") + std::to_string(i) + "=value";
  const auto b = tr::baggage::from_header(header);
  REQUIRE(b.size() == tr::baggage::max_members);
  CHECK(b.entries().front().key == "key0");
  CHECK(b.entries().back().key == "key63");
  CHECK_FALSE(b.get("key64").has_value());
  // Exactly 64 members survive a round trip untouched.
  const auto again = tr::baggage::from_header(b.header());
  CHECK(again == b);
}

TEST_CASE("baggage limits: a header of exactly 8192 bytes is kept whole, one byte more drops the member") {
  const std::string long_value(8190, '7');  // "a=" + 8190 = 8192 bytes (the W3C suite's case)
  const auto fits = tr::baggage::from_header("a=" + long_value);
  CHECK(value_of(fits, "a") == long_value);
  CHECK(fits.header().size() == 8192);

  const auto too_big = tr::baggage::from_header("a=" + long_value + "7");
  CHECK(too_big.empty());

  // Members past the byte budget are dropped, whole; smaller later ones still fit.
  const auto mixed = tr::baggage::from_header("a=" + std::string(8000, 'x') + ",b=" + std::string(500, 'y') + ",c=z");
  CHECK(mixed.size() == 2);
  CHECK(mixed.get("a").has_value());
  CHECK_FALSE(mixed.get("b").has_value());
  CHECK(value_of(mixed, "c") == "z");
  CHECK(mixed.header().size() <= tr::baggage::max_bytes);
}

TEST_CASE("baggage limits: a received header within the limits is sent on whole, not grown by re-encoding") {
  // 20 URLs ('/' and ':' are baggage-octets, sent unescaped): 4.7 KB received.
  // Escaping them again as %2F and %3A once tripled the values, and the
  // 8192-byte limit, checked on that, dropped 8 of the 20 members.
  const std::string url = "https://example.com/a/b/c:8080/" + std::string(200, '/');
  std::string header;
  for (int i = 0; i < 20; ++i) header += (i ? ",k" : "k") + std::to_string(i) + "=" + url;
  REQUIRE(header.size() < tr::baggage::max_bytes);
  const auto b = tr::baggage::from_header(header);
  CHECK(b.size() == 20);
  CHECK(b.header() == header);
}

TEST_CASE("baggage limits: header() sends at most 64 members and 8192 bytes of set() entries") {
  tr::baggage b;
  for (int i = 0; i < 80; ++i) b = b.set("k" + std::to_string(i), "v");
  CHECK(b.size() == 80);  // the API keeps them...
  const auto sent = tr::baggage::from_header(b.header());
  CHECK(sent.size() == tr::baggage::max_members);  // ...the wire carries 64
  CHECK(value_of(sent, "k63") == "v");

  // Percent-encoding counts: 3000 spaces are 9000 bytes on the wire.
  const auto wide = tr::baggage().set("big", std::string(3000, ' ')).set("small", "s");
  CHECK(wide.header() == "small=s");
}

TEST_CASE("baggage API: set/erase return new values and leave the original alone") {
  const tr::baggage empty;
  const auto one = empty.set("user", "alice");
  const auto two = one.set("tier", "gold", "ttl=60;sticky");
  const auto replaced = two.set("user", "bob");
  const auto erased = replaced.erase("tier");

  CHECK(empty.empty());
  CHECK(one.size() == 1);
  CHECK(two.size() == 2);
  CHECK(value_of(one, "user") == "alice");
  CHECK(value_of(replaced, "user") == "bob");
  CHECK(replaced.entries()[0].key == "user");  // replaced in place
  CHECK(two.find("tier")->properties == "ttl=60;sticky");
  CHECK(erased.size() == 1);
  CHECK_FALSE(erased.get("tier").has_value());
  CHECK(erased.erase("absent") == erased);
  CHECK(two.header() == "user=alice,tier=gold;ttl=60;sticky");
}

TEST_CASE("baggage API: an invalid key or malformed properties leave the baggage unchanged") {
  const auto b = tr::baggage().set("a", "1");
  CHECK(b.set("", "x") == b);
  CHECK(b.set("has space", "x") == b);
  CHECK(b.set("k,", "x") == b);
  CHECK(b.set("k", "x", "bad prop") == b);
  CHECK(b.set("k", "x", "p=a\\b") == b);
  CHECK(tr::baggage::valid_key("Some-Key_1.~!"));
  CHECK_FALSE(tr::baggage::valid_key("a=b"));
  // Properties are canonicalised: optional whitespace removed.
  CHECK(b.set("k", "x", " p1 ; p2 = v ").find("k")->properties == "p1;p2=v");
}

TEST_CASE("baggage: properties are passed on as received, percent escapes included") {
  const auto b = tr::baggage::from_header("SomeKey=SomeValue;ValueProp%20%09%20%3D%20%09%20PropVal");
  REQUIRE(b.size() == 1);
  CHECK(b.entries()[0].properties == "ValueProp%20%09%20%3D%20%09%20PropVal");  // one key-only property
  CHECK(b.header() == "SomeKey=SomeValue;ValueProp%20%09%20%3D%20%09%20PropVal");
}

TEST_CASE("inject_baggage/extract_baggage round-trip through std::map and unordered_map") {
  const auto b = tr::baggage().set("user", "alice smith").set("n", "1", "p");
  std::map<std::string, std::string> m;
  tr::inject_baggage(b, m);
  CHECK(m.at("baggage") == "user=alice%20smith,n=1;p");
  CHECK(tr::extract_baggage(m) == b);

  std::unordered_map<std::string, std::string> u;
  tr::inject_baggage(b, u);
  CHECK(tr::extract_baggage(u) == b);
}

TEST_CASE("extract_baggage joins several baggage headers in carrier order, names in any case") {
  // Equal keys of a multimap keep insertion order (std::less puts "Baggage" first).
  std::multimap<std::string, std::string> h{{"baggage", "userId=alice"},
                                            {"baggage", "serverNode=DF%2028,isProduction=false"},
                                            {"Baggage", "first=1"},
                                            {"other", "x=1"}};
  const auto b = tr::extract_baggage(h);
  REQUIRE(b.size() == 4);
  CHECK(b.entries()[0].key == "first");
  CHECK(b.entries()[1].key == "userId");
  CHECK(b.entries()[2].key == "serverNode");
  CHECK(value_of(b, "serverNode") == "DF 28");
  CHECK(value_of(b, "isProduction") == "false");
}

TEST_CASE("inject_baggage: empty baggage writes nothing and removes a stale header") {
  std::map<std::string, std::string> m{{"BAGGAGE", "stale=1"}, {"keep", "me"}};
  tr::inject_baggage(tr::baggage(), m);
  CHECK(m.count("BAGGAGE") == 0);
  CHECK(m.at("keep") == "me");
  CHECK(tr::extract_baggage(m).empty());
}

TEST_CASE("baggage parsing survives arbitrary bytes without crashing and yields only valid members") {
  std::uint32_t seed = 12345;
  const auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 16;
  };
  const char alphabet[] = "ab=;,% \t\"\\3A\xC3\xFF";
  for (int round = 0; round < 2000; ++round) {
    std::string header;
    const std::size_t len = next() % 40;
    for (std::size_t i = 0; i < len; ++i) header.push_back(alphabet[next() % (sizeof alphabet - 1)]);
    const auto b = tr::baggage::from_header(header);
    for (const auto& e : b.entries()) {
      CHECK(tr::baggage::valid_key(e.key));
    }
    // Whatever was accepted re-parses to the same thing.
    CHECK(tr::baggage::from_header(b.header()) == b);
  }
}
