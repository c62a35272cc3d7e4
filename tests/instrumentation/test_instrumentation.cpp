// The std-only instrumentation helpers: instrumented_operation,
// trace_with_retry and the produce -> consume messaging spans, checked span
// by span (names, kinds, parents, links, attributes, status, events).
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>  // doctest prints std::error_code through it
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../support/fake_expected.hpp"
#include "../support/memory_tracer.hpp"
#include "../support/string_attribute.hpp"
#include "../support/thread_cancel.hpp"

namespace st = streambus::tracing;
using namespace std::chrono_literals;

namespace {

struct fixture : memory_tracer {
  using memory_tracer::memory_tracer;

  st::span_data named(std::string_view name) const {
    std::vector<st::span_data> found;
    for (auto& s : spans())
      if (s.name == name) found.push_back(s);
    REQUIRE_MESSAGE(found.size() == 1, "spans named '" << std::string(name) << "': " << found.size());
    return found.front();
  }

  std::vector<st::span_data> all_named(std::string_view name) const {
    std::vector<st::span_data> found;
    for (auto& s : spans())
      if (s.name == name) found.push_back(s);
    return found;
  }
};

const st::attribute_value* attr(const st::attribute_list& attrs, std::string_view key) { return attrs.find(key); }

std::optional<std::int64_t> int_attr(const st::attribute_list& attrs, std::string_view key) {
  const auto* v = attrs.find(key);
  if (v == nullptr) return std::nullopt;
  const auto* i = v->get_if<std::int64_t>();
  REQUIRE_MESSAGE(i != nullptr, "attribute " << std::string(key) << " is not an int64");
  return *i;
}

const st::span_event* find_event(const st::span_data& s, std::string_view name, std::size_t nth = 0) {
  for (const auto& e : s.events)
    if (e.name == name && nth-- == 0) return &e;
  return nullptr;
}

std::size_t count_events(const st::span_data& s, std::string_view name) {
  std::size_t n = 0;
  for (const auto& e : s.events)
    if (e.name == name) ++n;
  return n;
}

// Remembers where it was constructed, so a test can tell the very object
// thrown from a copy of it.
struct tagged_error : std::runtime_error {
  explicit tagged_error(const std::string& what) : std::runtime_error(what), self(this) {}
  tagged_error(const tagged_error& other) : std::runtime_error(other), self(other.self) {}
  const tagged_error* self;
};

struct custom_error {
  int code = 0;
};

// An application's error enum, made an error code the standard way.
namespace app {
enum class store_error { full = 1 };
class store_category_t final : public std::error_category {
 public:
  const char* name() const noexcept override { return "store"; }
  std::string message(int) const override { return "store is full"; }
};
const std::error_category& store_category() {
  static const store_category_t category;
  return category;
}
std::error_code make_error_code(store_error e) { return {static_cast<int>(e), store_category()}; }
}  // namespace app

// An error code that is not std::error_code (as boost::system::error_code).
struct lookalike_code {
  struct category_type {
    const char* name() const { return "net"; }
  };
  category_type category() const { return {}; }
  int value() const { return v; }
  std::string message() const { return "network down"; }
  explicit operator bool() const { return v != 0; }
  int v = 0;
};

std::string trace_hex(const st::span_context& c) { return c.trace_id().to_hex(); }
std::string span_hex(const st::span_context& c) { return c.span_id().to_hex(); }

}  // namespace

// ============================================================ instrumented_operation

TEST_CASE("instrumented_operation: one INTERNAL child of the current span, value returned, status left unset") {
  fixture f;
  st::span_context outer_ctx;
  int result = 0;
  {
    auto outer = f.tracer.start("outer");
    outer_ctx = outer.context();
    result = st::instrumented_operation(f.tracer, "compute", [] { return 42; });
  }
  CHECK(result == 42);
  const auto op = f.named("compute");
  CHECK(op.kind == st::span_kind::internal);
  CHECK(op.context.trace_id() == outer_ctx.trace_id());
  CHECK(op.parent_span_id == outer_ctx.span_id());
  CHECK(op.status == st::status_code::unset);
  CHECK(op.status_message.empty());
  CHECK(attr(op.attributes, "error.type") == nullptr);
  CHECK(op.events.size() == 0);
  CHECK(op.end_time_unix_nano >= op.start_time_unix_nano);
}

TEST_CASE("instrumented_operation: fn(span&) gets the operation's span, which is current while fn runs") {
  fixture f;
  st::span_context seen;
  const std::string out = st::instrumented_operation(f.tracer, "load", [&](st::span& s) {
    s.set_attribute("rows", 7);
    seen = s.context();
    auto inner = f.tracer.start("inner");  // nests under the operation's span
    return std::string("done");
  });
  CHECK(out == "done");
  const auto op = f.named("load");
  const auto inner = f.named("inner");
  CHECK(op.context.span_id() == seen.span_id());
  CHECK(int_attr(op.attributes, "rows") == 7);
  CHECK(inner.parent_span_id == op.context.span_id());
  CHECK(inner.context.trace_id() == op.context.trace_id());
  CHECK_FALSE(op.parent_span_id.valid());  // nothing was current: a root
  CHECK(f.tracer.current_context().valid() == false);  // the span is no longer current afterwards
}

TEST_CASE("instrumented_operation: references and move-only values pass through unchanged") {
  fixture f;
  int target = 5;
  int& ref = st::instrumented_operation(f.tracer, "ref", [&]() -> int& { return target; });
  CHECK(&ref == &target);
  auto lvalue = [&]() -> int& { return target; };
  auto xvalue = [&]() -> int&& { return std::move(target); };
  auto prvalue = [] { return 1; };
  auto nothing = [] {};
  static_assert(std::is_same_v<decltype(st::instrumented_operation(f.tracer, "r", lvalue)), int&>);
  static_assert(std::is_same_v<decltype(st::instrumented_operation(f.tracer, "r", xvalue)), int&&>);
  static_assert(std::is_same_v<decltype(st::instrumented_operation(f.tracer, "r", prvalue)), int>);
  static_assert(std::is_same_v<decltype(st::instrumented_operation(f.tracer, "r", nothing)), void>);
  static_assert(std::is_same_v<decltype(st::trace_with_retry(f.tracer, "r", 1, lvalue)), int&>);
  static_assert(std::is_same_v<decltype(st::trace_with_retry(f.tracer, "r", 1, nothing)), void>);

  int&& rref = st::instrumented_operation(f.tracer, "rref", [&]() -> int&& { return std::move(target); });
  CHECK(&rref == &target);

  auto owned = st::instrumented_operation(f.tracer, "unique", [] { return std::make_unique<int>(9); });
  REQUIRE(owned != nullptr);
  CHECK(*owned == 9);
  CHECK(f.spans().size() == 3);
}

TEST_CASE("instrumented_operation: a void callable runs once and its span ends") {
  fixture f;
  int calls = 0;
  st::instrumented_operation(f.tracer, "side-effect", [&] { ++calls; });
  CHECK(calls == 1);
  const auto op = f.named("side-effect");
  CHECK(op.status == st::status_code::unset);
}

TEST_CASE("instrumented_operation: a std::exception is recorded and rethrown as the very same object") {
  fixture f;
  bool caught = false;
  try {
    st::instrumented_operation(f.tracer, "fails", []() -> int { throw tagged_error("disk on fire"); });
  } catch (const tagged_error& e) {
    caught = true;
    CHECK(std::string(e.what()) == "disk on fire");
    CHECK(e.self == &e);  // no copy was made on the way out
  }
  CHECK(caught);
  const auto op = f.named("fails");
  CHECK(op.status == st::status_code::error);
  CHECK(op.status_message == "disk on fire");
  const auto* ev = find_event(op, "exception");
  REQUIRE(ev != nullptr);
  CHECK(str_attr(ev->attributes, "exception.message") == "disk on fire");
  const auto type = str_attr(ev->attributes, "exception.type");
  REQUIRE(type.has_value());
  CHECK(type->find("tagged_error") != std::string::npos);
  CHECK(str_attr(op.attributes, "error.type") == type);
}

TEST_CASE("instrumented_operation: a void callable's exception is rethrown too") {
  fixture f;
  CHECK_THROWS_AS(st::instrumented_operation(f.tracer, "void-fails", [] { throw std::out_of_range("index 9"); }),
                  std::out_of_range);
  const auto op = f.named("void-fails");
  CHECK(op.status == st::status_code::error);
  CHECK(op.status_message == "index 9");
  CHECK(str_attr(op.attributes, "error.type") == "std::out_of_range");
}

TEST_CASE("instrumented_operation: a non-std exception is rethrown unchanged and recorded as unknown") {
  fixture f;
  int caught = 0;
  try {
    st::instrumented_operation(f.tracer, "throws-int", []() -> int { throw 42; });
  } catch (int v) {
    caught = v;
  }
  CHECK(caught == 42);
  const auto op = f.named("throws-int");
  CHECK(op.status == st::status_code::error);
  CHECK(op.status_message == "unknown exception");
  // The thrown type, as for a std::exception (the Itanium C++ ABI names it; before: "_OTHER" and "error").
  CHECK(str_attr(op.attributes, "error.type") == "int");
  const auto* ev = find_event(op, "exception");
  REQUIRE(ev != nullptr);
  CHECK(str_attr(ev->attributes, "exception.type") == "int");
  CHECK(str_attr(ev->attributes, "exception.message") == "unknown exception");
  CHECK(ev->attributes.size() == 2);  // exception.type once, not "error" and then "int"
}

TEST_CASE("instrumented_operation: a non-zero std::error_code marks ERROR and is returned unchanged") {
  fixture f;
  const std::error_code refused = std::make_error_code(std::errc::connection_refused);
  const std::error_code ec = st::instrumented_operation(f.tracer, "connect", [&] { return refused; });
  CHECK(ec == refused);
  const auto op = f.named("connect");
  CHECK(op.status == st::status_code::error);
  CHECK(op.status_message == refused.message());
  CHECK(str_attr(op.attributes, "error.type") == "generic:" + std::to_string(refused.value()));
  CHECK(find_event(op, "exception") == nullptr);  // a returned error is not an exception
}

TEST_CASE("instrumented_operation: a zero std::error_code and true are successes") {
  fixture f;
  CHECK_FALSE(st::instrumented_operation(f.tracer, "ok-code", [] { return std::error_code(); }));
  CHECK(st::instrumented_operation(f.tracer, "ok-bool", [] { return true; }));
  CHECK(f.named("ok-code").status == st::status_code::unset);
  CHECK(f.named("ok-bool").status == st::status_code::unset);
  CHECK(attr(f.named("ok-code").attributes, "error.type") == nullptr);
}

TEST_CASE("instrumented_operation: other results (0, nullptr, an empty string) are never errors") {
  fixture f;
  CHECK(st::instrumented_operation(f.tracer, "zero", [] { return 0; }) == 0);
  CHECK(st::instrumented_operation(f.tracer, "null", []() -> const char* { return nullptr; }) == nullptr);
  CHECK(st::instrumented_operation(f.tracer, "empty", [] { return std::string(); }).empty());
  for (const char* name : {"zero", "null", "empty"}) {
    CAPTURE(name);
    CHECK(f.named(name).status == st::status_code::unset);
  }
}

TEST_CASE("instrumented_operation: false marks ERROR and is returned") {
  fixture f;
  CHECK_FALSE(st::instrumented_operation(f.tracer, "check", [] { return false; }));
  const auto op = f.named("check");
  CHECK(op.status == st::status_code::error);
  CHECK(op.status_message == "returned false");
  CHECK(str_attr(op.attributes, "error.type") == "_OTHER");
}

TEST_CASE("instrumented_operation: expected-like results are judged by has_value() and described by error()") {
  fixture f;
  using code_result = fake_expected<int, std::error_code>;
  using text_result = fake_expected<int, std::string>;
  using ptr_result = fake_expected<int, std::exception_ptr>;
  using errc_result = fake_expected<int, std::errc>;
  using custom_result = fake_expected<int, custom_error>;

  const auto timed_out = std::make_error_code(std::errc::timed_out);
  const auto a = st::instrumented_operation(f.tracer, "code", [&] { return code_result::failure(timed_out); });
  CHECK(a.error() == timed_out);
  const auto b = st::instrumented_operation(f.tracer, "text", [] { return text_result::failure("no such user"); });
  CHECK(b.error() == "no such user");
  const auto c = st::instrumented_operation(f.tracer, "ptr", [] {
    return ptr_result::failure(std::make_exception_ptr(std::length_error("too long")));
  });
  CHECK_FALSE(c.has_value());
  const auto d = st::instrumented_operation(f.tracer, "errc", [] { return errc_result::failure(std::errc::io_error); });
  CHECK(d.error() == std::errc::io_error);
  const auto e = st::instrumented_operation(f.tracer, "custom", [] { return custom_result::failure({7}); });
  CHECK(e.error().code == 7);
  const auto ok = st::instrumented_operation(f.tracer, "fine", [] { return code_result(3); });
  CHECK(ok.value() == 3);

  CHECK(f.named("code").status == st::status_code::error);
  CHECK(f.named("code").status_message == timed_out.message());
  CHECK(str_attr(f.named("code").attributes, "error.type") == "generic:" + std::to_string(timed_out.value()));
  CHECK(f.named("text").status_message == "no such user");
  CHECK(str_attr(f.named("text").attributes, "error.type") == "_OTHER");
  CHECK(f.named("ptr").status_message == "too long");
  CHECK(str_attr(f.named("ptr").attributes, "error.type") == "std::length_error");
  CHECK(f.named("errc").status_message == std::make_error_code(std::errc::io_error).message());
  CHECK(f.named("custom").status == st::status_code::error);
  const auto custom_type = str_attr(f.named("custom").attributes, "error.type");
  REQUIRE(custom_type.has_value());
  CHECK(custom_type->find("custom_error") != std::string::npos);
  CHECK(f.named("fine").status == st::status_code::unset);
}

TEST_CASE("instrumented_operation: error conditions, look-alike error codes and application error enums") {
  fixture f;
  const std::error_condition denied = std::errc::permission_denied;
  CHECK(st::instrumented_operation(f.tracer, "condition", [&] { return denied; }) == denied);
  CHECK(st::instrumented_operation(f.tracer, "lookalike", [] { return lookalike_code{5}; }).v == 5);
  CHECK(st::instrumented_operation(f.tracer, "lookalike-ok", [] { return lookalike_code{0}; }).v == 0);
  using store_result = fake_expected<int, app::store_error>;
  const auto r = st::instrumented_operation(f.tracer, "store", [] { return store_result::failure(app::store_error::full); });
  CHECK(r.error() == app::store_error::full);
  // Error code enums returned directly: non-zero fails, zero succeeds.
  CHECK(st::instrumented_operation(f.tracer, "errc", [] { return std::errc::permission_denied; }) ==
        std::errc::permission_denied);
  CHECK(st::instrumented_operation(f.tracer, "errc-zero", [] { return std::errc(); }) == std::errc());
  CHECK(st::instrumented_operation(f.tracer, "store-direct", [] { return app::store_error::full; }) ==
        app::store_error::full);

  const auto condition = f.named("condition");
  CHECK(condition.status == st::status_code::error);
  CHECK(condition.status_message == denied.message());
  CHECK(str_attr(condition.attributes, "error.type") == "generic:" + std::to_string(denied.value()));
  const auto lookalike = f.named("lookalike");
  CHECK(lookalike.status == st::status_code::error);
  CHECK(lookalike.status_message == "network down");
  CHECK(str_attr(lookalike.attributes, "error.type") == "net:5");
  CHECK(f.named("lookalike-ok").status == st::status_code::unset);
  const auto store = f.named("store");
  CHECK(store.status == st::status_code::error);
  CHECK(store.status_message == "store is full");
  CHECK(str_attr(store.attributes, "error.type") == "store:1");
  const auto errc = f.named("errc");
  CHECK(errc.status == st::status_code::error);
  CHECK(errc.status_message == std::make_error_code(std::errc::permission_denied).message());
  CHECK(str_attr(errc.attributes, "error.type") == "generic:" + std::to_string(EACCES));
  CHECK(f.named("errc-zero").status == st::status_code::unset);
  CHECK(str_attr(f.named("store-direct").attributes, "error.type") == "store:1");
}

TEST_CASE("instrumented_operation: an empty std::optional is not an error (no error() member)") {
  fixture f;
  const auto none = st::instrumented_operation(f.tracer, "lookup", [] { return std::optional<int>(); });
  CHECK_FALSE(none.has_value());
  CHECK(f.named("lookup").status == st::status_code::unset);
}

TEST_CASE("instrumented_operation: nested operations form a chain of parents") {
  fixture f;
  const int v = st::instrumented_operation(f.tracer, "a", [&] {
    return st::instrumented_operation(f.tracer, "b", [&] {
      return st::instrumented_operation(f.tracer, "c", [] { return 3; }) + 1;
    }) + 1;
  });
  CHECK(v == 5);
  const auto a = f.named("a");
  const auto b = f.named("b");
  const auto c = f.named("c");
  CHECK(b.parent_span_id == a.context.span_id());
  CHECK(c.parent_span_id == b.context.span_id());
  CHECK(a.context.trace_id() == c.context.trace_id());
}

// ============================================================ trace_with_retry

TEST_CASE("trace_with_retry: max_attempts < 1 is a clear std::invalid_argument and fn never runs") {
  fixture f;
  int calls = 0;
  for (int bad : {0, -1, -100}) {
    try {
      st::trace_with_retry(f.tracer, "never", bad, [&](int) { ++calls; });
      FAIL("no exception for max_attempts = " << bad);
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      CHECK(what.find("max_attempts") != std::string::npos);
      CHECK(what.find(std::to_string(bad)) != std::string::npos);
    }
  }
  CHECK(calls == 0);
  CHECK(f.spans().empty());
}

TEST_CASE("trace_with_retry: an invalid backoff is a std::invalid_argument") {
  fixture f;
  auto noop = [](int) {};
  CHECK_THROWS_AS(st::trace_with_retry(f.tracer, "x", 2, noop, st::retry_backoff{-1ms}), std::invalid_argument);
  CHECK_THROWS_AS(st::trace_with_retry(f.tracer, "x", 2, noop, st::retry_backoff{1ms, 0.5}), std::invalid_argument);
  CHECK_THROWS_AS(st::trace_with_retry(f.tracer, "x", 2, noop, st::retry_backoff{1ms, 2.0, -5ms}),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      st::trace_with_retry(f.tracer, "x", 2, noop, st::retry_backoff{1ms, std::numeric_limits<double>::infinity()}),
      std::invalid_argument);
  CHECK(f.spans().empty());
}

TEST_CASE("trace_with_retry: exceptions then success -> parent, one child per attempt, a retry event per retry") {
  fixture f;
  std::vector<int> attempts_seen;
  st::span_context outer_ctx;
  int result = 0;
  {
    auto outer = f.tracer.start("request");
    outer_ctx = outer.context();
    result = st::trace_with_retry(f.tracer, "fetch", 5, [&](int attempt) {
      attempts_seen.push_back(attempt);
      if (attempt < 3) throw std::runtime_error("unavailable #" + std::to_string(attempt));
      return attempt * 10;
    });
  }
  CHECK(result == 30);
  CHECK(attempts_seen == std::vector<int>{1, 2, 3});

  const auto parent = f.named("fetch");
  CHECK(parent.kind == st::span_kind::internal);
  CHECK(parent.parent_span_id == outer_ctx.span_id());
  CHECK(parent.status == st::status_code::unset);  // the last attempt succeeded
  CHECK(int_attr(parent.attributes, "retry.max_attempts") == 5);
  CHECK(int_attr(parent.attributes, "retry.attempt_count") == 3);
  CHECK(attr(parent.attributes, "error.type") == nullptr);

  const auto children = f.all_named("fetch attempt");
  REQUIRE(children.size() == 3);
  for (std::size_t i = 0; i < children.size(); ++i) {
    CAPTURE(i);
    CHECK(children[i].parent_span_id == parent.context.span_id());
    CHECK(children[i].context.trace_id() == outer_ctx.trace_id());
    CHECK(int_attr(children[i].attributes, "retry.attempt") == static_cast<std::int64_t>(i + 1));
    CHECK(children[i].end_time_unix_nano <= parent.end_time_unix_nano);
  }
  CHECK(children[0].status == st::status_code::error);
  CHECK(children[0].status_message == "unavailable #1");
  CHECK(find_event(children[0], "exception") != nullptr);
  CHECK(children[1].status == st::status_code::error);
  CHECK(children[2].status == st::status_code::unset);
  CHECK(children[2].events.size() == 0);

  REQUIRE(count_events(parent, "retry") == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto* ev = find_event(parent, "retry", i);
    REQUIRE(ev != nullptr);
    CHECK(int_attr(ev->attributes, "retry.attempt") == static_cast<std::int64_t>(i + 1));
    CHECK(str_attr(ev->attributes, "error.message") == "unavailable #" + std::to_string(i + 1));
    CHECK(str_attr(ev->attributes, "error.type") == "std::runtime_error");
    CHECK(int_attr(ev->attributes, "retry.delay_ms") == 0);
    // the event is added after the failed attempt's span ended
    CHECK(ev->time_unix_nano >= children[i].end_time_unix_nano);
  }
  CHECK(find_event(parent, "exception") == nullptr);
}

TEST_CASE("trace_with_retry: when every attempt throws, the last exception object is rethrown, the parent ERROR") {
  fixture f;
  bool caught = false;
  try {
    st::trace_with_retry(f.tracer, "doomed", 3, [&](int attempt) -> int {
      throw tagged_error("attempt " + std::to_string(attempt) + " failed");
    });
  } catch (const tagged_error& e) {
    caught = true;
    CHECK(std::string(e.what()) == "attempt 3 failed");
    CHECK(e.self == &e);
  }
  CHECK(caught);
  const auto parent = f.named("doomed");
  CHECK(parent.status == st::status_code::error);
  CHECK(parent.status_message == "attempt 3 failed");
  CHECK(int_attr(parent.attributes, "retry.attempt_count") == 3);
  CHECK(count_events(parent, "retry") == 2);
  const auto* ex = find_event(parent, "exception");
  REQUIRE(ex != nullptr);
  CHECK(str_attr(ex->attributes, "exception.message") == "attempt 3 failed");
  const auto children = f.all_named("doomed attempt");
  REQUIRE(children.size() == 3);
  for (const auto& c : children) {
    CHECK(c.status == st::status_code::error);
    CHECK(count_events(c, "exception") == 1);
  }
  CHECK(children[2].status_message == "attempt 3 failed");
}

TEST_CASE("trace_with_retry: error results are retried and the last one is returned") {
  fixture f;
  int calls = 0;
  const auto codes = std::vector<std::error_code>{std::make_error_code(std::errc::connection_refused),
                                                  std::make_error_code(std::errc::timed_out)};
  const std::error_code ec = st::trace_with_retry(f.tracer, "dial", 2, [&](int attempt) {
    ++calls;
    return codes[static_cast<std::size_t>(attempt - 1)];
  });
  CHECK(calls == 2);
  CHECK(ec == codes[1]);
  const auto parent = f.named("dial");
  CHECK(parent.status == st::status_code::error);
  CHECK(parent.status_message == codes[1].message());
  CHECK(str_attr(parent.attributes, "error.type") == "generic:" + std::to_string(codes[1].value()));
  const auto* ev = find_event(parent, "retry");
  REQUIRE(ev != nullptr);
  CHECK(str_attr(ev->attributes, "error.message") == codes[0].message());
  const auto children = f.all_named("dial attempt");
  REQUIRE(children.size() == 2);
  CHECK(children[0].status_message == codes[0].message());
  CHECK(children[1].status_message == codes[1].message());
}

TEST_CASE("trace_with_retry: bool results: false is retried, true stops") {
  fixture f;
  int calls = 0;
  CHECK(st::trace_with_retry(f.tracer, "poll", 4, [&](int attempt) {
    ++calls;
    return attempt == 2;
  }));
  CHECK(calls == 2);
  CHECK(f.all_named("poll attempt").size() == 2);
  CHECK(f.named("poll").status == st::status_code::unset);
  CHECK(count_events(f.named("poll"), "retry") == 1);
}

TEST_CASE("trace_with_retry: fn(span&, attempt) gets the attempt's own span") {
  fixture f;
  std::vector<st::span_id> given;
  st::trace_with_retry(f.tracer, "annotated", 2, [&](st::span& attempt_span, int attempt) {
    given.push_back(attempt_span.context().span_id());
    attempt_span.set_attribute("http.request.resend_count", attempt - 1);
    auto inner = f.tracer.start("inner");  // nests under the attempt span
    if (attempt == 1) throw std::runtime_error("first try fails");
  });
  const auto children = f.all_named("annotated attempt");
  REQUIRE(children.size() == 2);
  REQUIRE(given.size() == 2);
  CHECK(children[0].context.span_id() == given[0]);
  CHECK(children[1].context.span_id() == given[1]);
  CHECK(int_attr(children[1].attributes, "http.request.resend_count") == 1);
  const auto inners = f.all_named("inner");
  REQUIRE(inners.size() == 2);
  CHECK(inners[0].parent_span_id == given[0]);
  CHECK(inners[1].parent_span_id == given[1]);
}

TEST_CASE("trace_with_retry: a void fn that succeeds at once makes one attempt and no retry event") {
  fixture f;
  int calls = 0;
  st::trace_with_retry(f.tracer, "once", 3, [&] { ++calls; });
  CHECK(calls == 1);
  CHECK(f.all_named("once attempt").size() == 1);
  CHECK(count_events(f.named("once"), "retry") == 0);
  CHECK(int_attr(f.named("once").attributes, "retry.attempt_count") == 1);
}

TEST_CASE("trace_with_retry: max_attempts = 1 is a single attempt whose failure is final") {
  fixture f;
  const bool ok = st::trace_with_retry(f.tracer, "single", 1, [](int) { return false; });
  CHECK_FALSE(ok);
  CHECK(f.all_named("single attempt").size() == 1);
  CHECK(f.named("single").status == st::status_code::error);
  CHECK(count_events(f.named("single"), "retry") == 0);
}

TEST_CASE("trace_with_retry: references pass through") {
  fixture f;
  int slot = 0;
  int& r = st::trace_with_retry(f.tracer, "ref", 2, [&](int) -> int& { return slot; });
  CHECK(&r == &slot);
}

TEST_CASE("retry backoff: an unbounded max stays a huge positive wait, never an overflow") {
  const st::retry_backoff b{100ms, 2.0, std::chrono::milliseconds::max(), false};
  for (int attempt : {1, 10, 57, 58, 64, 1000, std::numeric_limits<int>::max()}) {
    CAPTURE(attempt);
    const auto wait = st::detail::retry_delay(b, attempt);
    CHECK(wait.count() > 0);  // was -2^63 ms from attempt 58 on (and UB converting 2^63)
    if (attempt == 1) CHECK(wait == 100ms);
  }
}

TEST_CASE("trace_with_retry: exponential backoff waits between attempts, capped by max") {
  fixture f;
  // Fails three times: waits 10, 30, then 40 (capped) ms.
  const auto start2 = std::chrono::steady_clock::now();
  const bool ok = st::trace_with_retry(
      f.tracer, "backoff2", 4, [](int attempt) { return attempt == 4; }, st::retry_backoff{10ms, 3.0, 40ms, false});
  const auto elapsed2 = std::chrono::steady_clock::now() - start2;
  CHECK(ok);
  CHECK(elapsed2 >= 80ms);
  CHECK(f.all_named("backoff2 attempt").size() == 4);
  const auto parent = f.named("backoff2");
  REQUIRE(count_events(parent, "retry") == 3);
  CHECK(int_attr(find_event(parent, "retry", 0)->attributes, "retry.delay_ms") == 10);
  CHECK(int_attr(find_event(parent, "retry", 1)->attributes, "retry.delay_ms") == 30);
  CHECK(int_attr(find_event(parent, "retry", 2)->attributes, "retry.delay_ms") == 40);
}

TEST_CASE("trace_with_retry: jitter keeps each wait within [wait/2, wait]") {
  fixture f;
  const bool ok = st::trace_with_retry(
      f.tracer, "jittered", 6, [](int attempt) { return attempt == 6; }, st::retry_backoff{8ms, 1.0, 8ms, true});
  CHECK(ok);
  const auto parent = f.named("jittered");
  REQUIRE(count_events(parent, "retry") == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto d = int_attr(find_event(parent, "retry", i)->attributes, "retry.delay_ms");
    REQUIRE(d.has_value());
    CHECK(*d >= 4);
    CHECK(*d <= 8);
  }
}

// ============================================================ messaging

TEST_CASE("trace_produce_message: a current PRODUCER span with the messaging conventions, context injected") {
  fixture f;
  std::map<std::string, std::string> headers{{"content-type", "application/json"}, {"baggage", "tenant=acme"}};
  st::span_context produced;
  st::span_context outer_ctx;
  {
    auto outer = f.tracer.start("checkout");
    outer_ctx = outer.context();
    auto send = st::trace_produce_message(f.tracer, "orders", 3, "customer-17", "{\"total\":12}", headers);
    produced = send.context();
    CHECK(f.tracer.current_context().span_id() == produced.span_id());  // current
    auto serialize = f.tracer.start("serialize");
  }
  const auto s = f.named("send orders");
  CHECK(s.kind == st::span_kind::producer);
  CHECK(s.parent_span_id == outer_ctx.span_id());
  CHECK(s.context.trace_id() == outer_ctx.trace_id());
  CHECK(str_attr(s.attributes, "messaging.system") == "streambus");
  CHECK(str_attr(s.attributes, "messaging.operation.type") == "send");
  CHECK(str_attr(s.attributes, "messaging.operation.name") == "send");
  CHECK(str_attr(s.attributes, "messaging.destination.name") == "orders");
  CHECK(str_attr(s.attributes, "messaging.destination.partition.id") == "3");
  CHECK(int_attr(s.attributes, "messaging.message.body.size") == 12);
  CHECK(str_attr(s.attributes, "messaging.streambus.message.key") == "customer-17");
  CHECK(s.attributes.size() == 7);
  CHECK(s.status == st::status_code::unset);
  CHECK(f.named("serialize").parent_span_id == s.context.span_id());

  REQUIRE(headers.count("traceparent") == 1);
  CHECK(headers["traceparent"] == "00-" + trace_hex(produced) + "-" + span_hex(produced) + "-03");
  CHECK(headers["content-type"] == "application/json");  // other headers untouched
  CHECK(headers["baggage"] == "tenant=acme");             // the caller's baggage too
}

TEST_CASE("produce -> consume: the CONSUMER span continues the producer's trace and links to it") {
  fixture f;
  std::map<std::string, std::string> headers;
  st::span_context producer_ctx;
  {
    auto send = st::trace_produce_message(f.tracer, "payments", 0, "k", "value", headers);
    producer_ctx = send.context();
  }
  st::span_context consumer_ctx;
  {
    auto unrelated = f.tracer.start("poll-loop");  // the consumer's current span must not become the parent
    auto process = st::trace_consume_message(f.tracer, "payments", 0, 1234, headers);
    consumer_ctx = process.context();
    CHECK(f.tracer.current_context().span_id() == consumer_ctx.span_id());
    auto handler = f.tracer.start("apply-payment");
  }
  const auto c = f.named("process payments");
  CHECK(c.kind == st::span_kind::consumer);
  CHECK(c.context.trace_id() == producer_ctx.trace_id());
  CHECK(c.parent_span_id == producer_ctx.span_id());
  CHECK(c.parent_is_remote);
  REQUIRE(c.links.size() == 1);
  CHECK(c.links[0].context.trace_id() == producer_ctx.trace_id());
  CHECK(c.links[0].context.span_id() == producer_ctx.span_id());
  CHECK(str_attr(c.attributes, "messaging.system") == "streambus");
  CHECK(str_attr(c.attributes, "messaging.operation.type") == "process");
  CHECK(str_attr(c.attributes, "messaging.operation.name") == "process");
  CHECK(str_attr(c.attributes, "messaging.destination.name") == "payments");
  CHECK(str_attr(c.attributes, "messaging.destination.partition.id") == "0");
  CHECK(int_attr(c.attributes, "messaging.streambus.message.offset") == 1234);
  CHECK(c.attributes.size() == 6);
  CHECK(f.named("apply-payment").parent_span_id == c.context.span_id());
  CHECK(f.named("poll-loop").context.trace_id() != c.context.trace_id());
}

TEST_CASE("produce -> consume carries tracestate through the message headers") {
  fixture f;
  const st::span_context remote(st::trace_id::from_hex("4bf92f3577b34da6a3ce929d0e0e4736"),
                                st::span_id::from_hex("00f067aa0ba902b7"), st::trace_flags(0x01), true,
                                st::trace_state::from_header("vendor=abc"));
  std::unordered_map<std::string, std::string> headers;
  {
    auto incoming = f.tracer.start("handle", remote, st::span_kind::server);
    auto send = st::trace_produce_message(f.tracer, "audit", 1, "", "", headers);
  }
  CHECK(headers.at("tracestate") == "vendor=abc");
  { auto process = st::trace_consume_message(f.tracer, "audit", 1, 0, headers); }
  const auto c = f.named("process audit");
  CHECK(c.context.trace_id() == remote.trace_id());
  CHECK(c.context.trace_state().header() == "vendor=abc");
  CHECK(c.parent_span_id == f.named("send audit").context.span_id());
  // an empty key is no key; an empty body has size 0
  CHECK(attr(f.named("send audit").attributes, "messaging.streambus.message.key") == nullptr);
  CHECK(int_attr(f.named("send audit").attributes, "messaging.message.body.size") == 0);
}

TEST_CASE("trace_consume_message without a valid context starts a new trace with no link") {
  fixture f;
  std::map<std::string, std::string> garbage{{"traceparent", "00-not-a-valid-header-01"}};
  st::span_context outer_ctx;
  {
    auto outer = f.tracer.start("consumer-loop");
    outer_ctx = outer.context();
    { auto a = st::trace_consume_message(f.tracer, "t", 2, 10, garbage); }
    { auto b = st::trace_consume_message(f.tracer, "t", 2, 11); }
  }
  const auto spans = f.all_named("process t");
  REQUIRE(spans.size() == 2);
  for (const auto& s : spans) {
    CHECK_FALSE(s.parent_span_id.valid());
    CHECK(s.context.trace_id() != outer_ctx.trace_id());
    CHECK(s.links.size() == 0);
    CHECK(s.kind == st::span_kind::consumer);
  }
  CHECK(spans[0].context.trace_id() != spans[1].context.trace_id());
  CHECK(int_attr(spans[1].attributes, "messaging.streambus.message.offset") == 11);
}

TEST_CASE("messaging: a negative partition is left out, an empty topic gives the bare operation name") {
  fixture f;
  { auto s = st::trace_produce_message(f.tracer, "", -1, "key", "v"); }
  const auto s = f.named("send");
  CHECK(attr(s.attributes, "messaging.destination.partition.id") == nullptr);
  CHECK(attr(s.attributes, "messaging.destination.name") == nullptr);
  CHECK(str_attr(s.attributes, "messaging.system") == "streambus");
}

TEST_CASE("messaging: unsampled producers still propagate (sampled flag 0) and the consumer follows the decision") {
  st::config cfg;
  cfg.sampler = "parentbased_always_off";
  fixture f(cfg);
  std::map<std::string, std::string> headers;
  st::span_context produced;
  {
    auto send = st::trace_produce_message(f.tracer, "orders", 0, "k", "v", headers);
    produced = send.context();
    CHECK_FALSE(send.is_recording());
  }
  REQUIRE(headers.count("traceparent") == 1);
  CHECK(headers["traceparent"] == "00-" + trace_hex(produced) + "-" + span_hex(produced) + "-02");
  {
    auto process = st::trace_consume_message(f.tracer, "orders", 0, 1, headers);
    CHECK_FALSE(process.is_recording());
    CHECK(process.context().trace_id() == produced.trace_id());
  }
  CHECK(f.spans().empty());
}

#if defined(STREAMBUS_TEST_CAN_CANCEL)
TEST_CASE("a thread cancelled inside instrumented_operation or trace_with_retry unwinds (forced unwind rethrown)") {
  for (const bool retry : {false, true}) {
    CAPTURE(retry);
    fixture f;
    CHECK(cancel_support::cancelled_inside([&](const std::function<void()>& wait_for_cancel) {
      if (retry)
        st::trace_with_retry(f.tracer, "cancelled.retry", 3, wait_for_cancel);
      else
        st::instrumented_operation(f.tracer, "cancelled.op", wait_for_cancel);
    }));
    f.tracer.force_flush();
    // The spans ended while the stack unwound, and were exported.
    CHECK(f.spans().size() == (retry ? 2u : 1u));
  }
}
#endif
