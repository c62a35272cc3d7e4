// Attribute values and lists: types, last write wins, limits, truncation.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "support/memory_tracer.hpp"

namespace st = streambus::tracing;
using st::attribute_type;

TEST_CASE("attribute values take every OpenTelemetry type") {
  CHECK(st::attribute_value(true).type() == attribute_type::boolean);
  CHECK(st::attribute_value(7).type() == attribute_type::int64);
  CHECK(st::attribute_value(std::int64_t{-7}).type() == attribute_type::int64);
  CHECK(st::attribute_value(7u).type() == attribute_type::int64);
  CHECK(st::attribute_value(short{7}).type() == attribute_type::int64);
  CHECK(st::attribute_value(2.5).type() == attribute_type::float64);
  CHECK(st::attribute_value(2.5f).type() == attribute_type::float64);
  CHECK(st::attribute_value("text").type() == attribute_type::string);
  CHECK(st::attribute_value(std::string("text")).type() == attribute_type::string);
  CHECK(st::attribute_value(std::string_view("text")).type() == attribute_type::string);
  CHECK(st::attribute_value(std::vector<bool>{true, false}).type() == attribute_type::bool_array);
  CHECK(st::attribute_value(std::vector<int>{1, 2}).type() == attribute_type::int64_array);
  CHECK(st::attribute_value(std::vector<std::int64_t>{1, 2}).type() == attribute_type::int64_array);
  CHECK(st::attribute_value(std::vector<double>{1.5}).type() == attribute_type::float64_array);
  CHECK(st::attribute_value(std::vector<float>{1.5f}).type() == attribute_type::float64_array);
  CHECK(st::attribute_value(std::vector<std::string>{"a"}).type() == attribute_type::string_array);
  CHECK(st::attribute_value(std::vector<std::string_view>{"a"}).type() == attribute_type::string_array);
  CHECK(st::attribute_value({"a", "b"}).type() == attribute_type::string_array);
  CHECK(st::attribute_value({1, 2, 3}).type() == attribute_type::int64_array);
  CHECK(*st::attribute_value(-5).get_if<std::int64_t>() == -5);
  CHECK(*st::attribute_value("x").get_if<std::string>() == "x");
}

TEST_CASE("unsigned values beyond int64 are kept exactly as decimal strings") {
  const std::uint64_t big = std::numeric_limits<std::uint64_t>::max();
  const st::attribute_value v(big);
  REQUIRE(v.type() == attribute_type::string);
  CHECK(*v.get_if<std::string>() == "18446744073709551615");
  const st::attribute_value fits(std::uint64_t{42});
  CHECK(*fits.get_if<std::int64_t>() == 42);
}

TEST_CASE("attribute list: last write wins, order kept, type may change") {
  st::attribute_list list;
  list.set("a", 1);
  list.set("b", "two");
  list.set("a", "one");
  REQUIRE(list.size() == 2);
  CHECK(list[0].key == "a");
  CHECK(*list.find("a")->get_if<std::string>() == "one");
  CHECK(list[1].key == "b");
  CHECK(list.find("missing") == nullptr);
}

TEST_CASE("attribute list: count limit drops new keys and counts them, updates still apply") {
  st::attribute_list list;
  for (int i = 0; i < 5; ++i) list.set("k" + std::to_string(i), i, 3);
  CHECK(list.size() == 3);
  CHECK(list.dropped() == 2);
  CHECK(list.set("k0", 100, 3));
  CHECK(*list.find("k0")->get_if<std::int64_t>() == 100);
  CHECK_FALSE(list.set("", 1, 3));  // empty keys are invalid
  CHECK(list.dropped() == 3);
}

TEST_CASE("attribute list: value length limit truncates strings by characters") {
  st::attribute_list list;
  list.set("ascii", "abcdef", 128, 3);
  list.set("utf8", "h\xc3\xa9llo", 128, 2);  // "héllo": é is two bytes
  list.set("array", std::vector<std::string>{"abcdef", "xy"}, 128, 3);
  list.set("number", 123456, 128, 3);  // not a string: untouched
  CHECK(*list.find("ascii")->get_if<std::string>() == "abc");
  CHECK(*list.find("utf8")->get_if<std::string>() == "h\xc3\xa9");
  CHECK(*list.find("array")->get_if<std::vector<std::string>>() == std::vector<std::string>{"abc", "xy"});
  CHECK(*list.find("number")->get_if<std::int64_t>() == 123456);
}

TEST_CASE("attribute list: the length limit bounds strings that are not UTF-8, at most 4 bytes a character") {
  st::attribute_list list;
  const std::size_t big = 1 << 20;
  list.set("continuations", std::string(big, '\x80'), 128, 16);  // stray continuation bytes: one each
  list.set("bad lead", "\xff" + std::string(big, '\xbf'), 128, 16);
  list.set("four", std::string("\xf0\x9f\x98\x80") + std::string(big, '\xbf'), 128, 2);  // one emoji, then strays
  list.set("cut lead", std::string("ab\xe6\x97") + "cd", 128, 3);  // a 3-byte lead cut short: "a", "b", "\xe6\x97"
  list.set("valid", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 128, 2);  // three 3-byte characters
  CHECK(list.find("continuations")->get_if<std::string>()->size() == 16);
  CHECK(list.find("bad lead")->get_if<std::string>()->size() == 16);
  CHECK(*list.find("four")->get_if<std::string>() == std::string("\xf0\x9f\x98\x80\xbf"));
  CHECK(*list.find("cut lead")->get_if<std::string>() == std::string("ab\xe6\x97"));
  CHECK(*list.find("valid")->get_if<std::string>() == "\xe6\x97\xa5\xe6\x9c\xac");
}

TEST_CASE("attribute list: the length limit counts characters as the encoders write them (U+FFFD per maximal subpart)") {
  // An overlong 4-byte form, a surrogate and an overlong NUL: every byte is
  // ill-formed on its own and becomes one U+FFFD when encoded. Counted as one
  // character per lead byte, 5 of them let 16, 12 and 8 characters through a
  // limit of 4.
  st::attribute_list list;
  std::string overlong, surrogate, nul;
  for (int i = 0; i < 5; ++i) {
    overlong += "\xf0\x80\x80\x80";
    surrogate += "\xed\xa0\x80";
    nul += "\xc0\x80";
  }
  list.set("overlong", overlong, 128, 4);
  list.set("surrogate", surrogate, 128, 4);
  list.set("nul", nul, 128, 4);
  list.set("mixed", "\xc3\xa9\xe6\x97x\xe6\x97\xa5yz", 128, 4);  // é, a cut 3-byte lead, x, 日: 4 characters
  CHECK(*list.find("overlong")->get_if<std::string>() == "\xf0\x80\x80\x80");
  CHECK(*list.find("surrogate")->get_if<std::string>() == "\xed\xa0\x80\xed");
  CHECK(*list.find("nul")->get_if<std::string>() == "\xc0\x80\xc0\x80");
  CHECK(*list.find("mixed")->get_if<std::string>() == "\xc3\xa9\xe6\x97x\xe6\x97\xa5");
}

TEST_CASE("attribute list: clear keeps storage so slots are reused") {
  st::attribute_list list;
  list.set("a.long.attribute.key.that.does.not.fit.sso", "a long string value that does not fit sso");
  const char* key_storage = list[0].key.data();
  list.clear();
  CHECK(list.empty());
  CHECK(list.dropped() == 0);
  list.set("another.long.key.that.does.not.fit.sso", "x");
  CHECK(list[0].key.data() == key_storage);
}

TEST_CASE("attribute_init builds typed values from a braced list") {
  st::attribute_init init{{"user_id", 123}, {"action", "create"}, {"valid", true}, {"ratio", 0.5}};
  st::attribute_list list;
  for (const auto& kv : init) list.set(kv.first, kv.second);
  CHECK(list.find("user_id")->type() == attribute_type::int64);
  CHECK(list.find("action")->type() == attribute_type::string);
  CHECK(list.find("valid")->type() == attribute_type::boolean);
  CHECK(list.find("ratio")->type() == attribute_type::float64);
}

TEST_CASE("character values are integers, as in the light API, not `true`") {
  // They used to convert to bool. (A pointer other than a string does not
  // compile: the value would have been `true` too.)
  CHECK(st::attribute_value('c') == st::attribute_value(99));
  CHECK(st::attribute_value(u'c') == st::attribute_value(99));
  CHECK(st::attribute_value(U'c') == st::attribute_value(99));
  CHECK(st::attribute_value(L'c') == st::attribute_value(99));
  st::attribute_list list;
  CHECK(list.set("char", 'A'));  // the in-place path of span::set_attribute
  CHECK(*list.find("char") == st::attribute_value(65));
  const st::attribute_init init{{"listed", 'B'}};
  for (const auto& kv : init) list.set(kv.first, kv.second);  // span::set_attributes
  CHECK(*list.find("listed") == st::attribute_value(66));
  CHECK(st::attribute_value(std::vector<char>{'a', 'b'}) == st::attribute_value(std::vector<std::int64_t>{97, 98}));
  char text[] = "text";  // a char array, and a mutable char pointer, are strings
  CHECK(list.set("array", text));
  CHECK(*list.find("array") == st::attribute_value("text"));
  char* pointer = text;
  CHECK(list.set("pointer", pointer));
  CHECK(*list.find("pointer") == st::attribute_value("text"));
}

namespace {
enum unscoped_color { red, green };
}  // namespace

TEST_CASE("only exact bools, numbers, strings and arrays make attribute values; look-alikes do not compile") {
  // They converted to bool and were stored as `true`.
  static_assert(std::is_constructible_v<st::attribute_value, bool>);
  static_assert(!std::is_constructible_v<st::attribute_value, unscoped_color>);
  static_assert(!std::is_constructible_v<st::attribute_value, std::atomic<int>&>);
  static_assert(!std::is_constructible_v<st::attribute_value, int*>);
  static_assert(!std::is_constructible_v<st::attribute_value, void (*)()>);
  static_assert(!std::is_constructible_v<st::attribute_arg, unscoped_color>);
  static_assert(std::is_constructible_v<st::attribute_arg, char*>);
  CHECK(st::attribute_value(static_cast<int>(green)) == st::attribute_value(1));
  // The bool proxies are bools.
  std::vector<bool> bits{true, false};
  CHECK(st::attribute_value(bits[0]) == st::attribute_value(true));
  CHECK(st::attribute_value(bits[1]) == st::attribute_value(false));
  const std::atomic<bool> flag{true};
  CHECK(st::attribute_value(flag) == st::attribute_value(true));
  const volatile bool v = false;
  st::attribute_list list;
  CHECK(list.set("volatile", v));
  CHECK(*list.find("volatile") == st::attribute_value(false));
  CHECK(list.set("element", bits[0]));
  CHECK(*list.find("element") == st::attribute_value(true));
}

TEST_CASE("attribute list: a null const char* is stored as an empty string, new key or update") {
  st::attribute_list list;
  const char* none = nullptr;
  CHECK(list.set("new", none));
  CHECK(*list.find("new") == st::attribute_value(""));
  CHECK(list.set("updated", "before"));
  CHECK(list.set("updated", none));  // the in-place string path
  CHECK(*list.find("updated") == st::attribute_value(""));
  char* mutable_none = nullptr;
  CHECK(list.set("mutable", mutable_none));
  CHECK(*list.find("mutable") == st::attribute_value(""));
}

TEST_CASE("a moved-from attribute list is empty and usable; copies and moves keep every value") {
  st::attribute_list a;
  a.set("s", std::string("a string value long enough for the heap"));
  a.set("i", 7);
  a.set("v", std::vector<std::string>{"x", "y"});
  st::attribute_list b(std::move(a));
  CHECK(b.size() == 3);
  CHECK(a.size() == 0);  // NOLINT(bugprone-use-after-move): the state after a move is what is tested
  CHECK(a.begin() == a.end());
  a.set("again", 1);  // reusable
  CHECK(a.size() == 1);
  st::attribute_list c;
  c.set("old", 1.5);
  c = std::move(b);
  CHECK(c.size() == 3);
  CHECK(b.size() == 0);  // NOLINT(bugprone-use-after-move)
  st::attribute_list d(c);  // copies: each value as it was
  REQUIRE(d.size() == 3);
  CHECK(d.find("s")->get_if<std::string>() != nullptr);
  CHECK(*d.find("s")->get_if<std::string>() == "a string value long enough for the heap");
  CHECK(*d.find("i")->get_if<std::int64_t>() == 7);
  CHECK(d.find("v")->get_if<std::vector<std::string>>()->size() == 2);
  d = a;  // copy-assign over a longer list: only the source's attributes are left
  CHECK(d.size() == 1);
  CHECK(*d.find("again")->get_if<std::int64_t>() == 1);
  st::attribute_value x(std::string("text"));
  st::attribute_value y(3.5);
  y = x;  // a different alternative
  CHECK(*y.get_if<std::string>() == "text");
  x = st::attribute_value(true);
  y = x;
  CHECK(*y.get_if<bool>());
}

TEST_CASE("keys that are ill-formed UTF-8 are repaired before export, and keys that then coincide are merged") {
  st::attribute_list list;
  list.set("user\xff", "first");
  list.set("ok", 1);
  list.set("user\x80", "second");  // another key as given, the same once repaired
  list.set("user\xEF\xBF\xBD", "third");  // U+FFFD written out: the same key again
  list.set("caf\xC3\xA9", true);        // well-formed: untouched
  REQUIRE(list.size() == 5);
  list.repair_keys();
  REQUIRE(list.size() == 3);
  CHECK(list[0].key == "user\xEF\xBF\xBD");
  CHECK(std::get<std::string>(list[0].value.storage()) == "third");  // the last write wins, at the first place
  CHECK(list[1].key == "ok");
  CHECK(list[2].key == "caf\xC3\xA9");
  list.repair_keys();  // nothing left to do
  CHECK(list.size() == 3);
  // The slots past the end keep their buffers for reuse; new keys still go in.
  list.set("next", 2);
  CHECK(list.size() == 4);
  CHECK(list.find("next") != nullptr);
  // One U+FFFD per maximal subpart, as the encoders write it.
  CHECK(st::detail::utf8_repaired("a\xE2\x82z\xF0\x9F\x98") == "a\xEF\xBF\xBDz\xEF\xBF\xBD");
}

TEST_CASE("an attribute list remembers that its keys were repaired until a new key or a clear") {
  st::attribute_list list;
  list.set("a", 1);
  CHECK_FALSE(list.keys_repaired());
  list.repair_keys();
  CHECK(list.keys_repaired());
  list.set("a", 2);  // an update keeps the keys as they were
  CHECK(list.keys_repaired());
  list.set("b\xff", 3);  // a new key has not been checked
  CHECK_FALSE(list.keys_repaired());
  list.repair_keys();
  CHECK(list.keys_repaired());
  CHECK(list[1].key == "b\xEF\xBF\xBD");
  list.clear();
  CHECK_FALSE(list.keys_repaired());
  st::attribute_list copy = [] {
    st::attribute_list l;
    l.set("k", true);
    l.repair_keys();
    return l;
  }();
  CHECK(copy.keys_repaired());
}

namespace {
// Remembers the resource's keys of the batches it is given.
class resource_key_exporter final : public st::span_exporter {
 public:
  st::export_result export_spans(const st::span_batch& batch) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    keys_.clear();
    for (const auto& a : batch.resource().attributes) keys_.push_back(a.key);
    return st::export_result::success;
  }
  std::string_view name() const noexcept override { return "resource-keys"; }
  std::vector<std::string> keys() {
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> keys_;
};
}  // namespace

TEST_CASE("the pipeline hands exporters unique keys: the span's, its events' and links', synchronous and batched") {
  const auto record = [](st::tracer& tracer) {
    auto span = tracer.start("keys");
    span.set_attribute("k\xff", 1).set_attribute("k\x80", 2);
    span.add_event("e", {{"a\xC0", "x"}, {"a\xC1", "y"}});
    span.add_link(st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(3), st::trace_flags(1)),
                  {{"l\xfe", true}, {"l\xfd", false}});
  };
  const auto check = [](const std::vector<st::span_data>& spans) {
    REQUIRE(spans.size() == 1);
    const st::span_data& s = spans[0];
    REQUIRE(s.attributes.size() == 1);
    CHECK(s.attributes[0].key == "k\xEF\xBF\xBD");
    CHECK(std::get<std::int64_t>(s.attributes[0].value.storage()) == 2);
    REQUIRE(s.events.size() == 1);
    REQUIRE(s.events[0].attributes.size() == 1);
    CHECK(std::get<std::string>(s.events[0].attributes[0].value.storage()) == "y");
    REQUIRE(s.links.size() == 1);
    REQUIRE(s.links[0].attributes.size() == 1);
    CHECK(std::get<bool>(s.links[0].attributes[0].value.storage()) == false);
  };
  {
    memory_tracer m;
    record(m.tracer);
    check(m.spans());
  }
  auto batched = std::make_shared<st::in_memory_exporter>(false);
  st::config cfg;
  cfg.exporter = "none";
  cfg.read_environment = false;
  cfg.exporters = {batched};
  cfg.attributes = {{"r\xff", "1"}, {"r\x80", "2"}};  // resource attributes
  auto resource_keys = std::make_shared<resource_key_exporter>();
  cfg.exporters.push_back(resource_keys);
  auto tracer = st::tracer::create(cfg);
  record(tracer);
  REQUIRE(tracer.force_flush(std::chrono::seconds(10)));
  check(batched->spans());
  const std::vector<std::string> keys = resource_keys->keys();
  CHECK(std::count(keys.begin(), keys.end(), "r\xEF\xBF\xBD") == 1);
  CHECK(std::count(keys.begin(), keys.end(), "r\xff") == 0);
}

TEST_CASE("assign_chars: every length up to 40, shorter, longer, and overlapping its own buffer") {
  const std::string source = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
  for (std::size_t held = 0; held <= 40; ++held) {
    for (std::size_t n = 0; n <= 40; ++n) {
      std::string s = source.substr(5, held);
      st::detail::assign_chars(s, std::string_view(source).substr(0, n));
      CHECK(s == source.substr(0, n));
    }
  }
  // A part of the string itself, shifted either way (std::string::assign allows it).
  for (std::size_t n = 1; n <= 40; ++n) {
    std::string forward = source.substr(0, 41);
    st::detail::assign_chars(forward, std::string_view(forward).substr(1, n));
    CHECK(forward == source.substr(1, n));
    std::string same = source.substr(0, n);
    st::detail::assign_chars(same, same);
    CHECK(same == source.substr(0, n));
  }
}
