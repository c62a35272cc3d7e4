// The full header compiled with -fno-rtti, and the light header in a file
// compiled with -fno-exceptions -fno-rtti (light_no_exceptions.cpp): both work,
// and error.type / exception.type still name the types where the library can
// know them without RTTI.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "../support/fake_expected.hpp"
#include "../support/memory_tracer.hpp"
#include "../support/string_attribute.hpp"
#include "no_rtti_types.hpp"

namespace st = streambus::tracing;

void light_spans_without_exceptions(st::tracer& t);

namespace {

static_assert(!STREAMBUS_TRACING_HAS_RTTI, "this file must be compiled with -fno-rtti");

const st::span_data& named(const std::vector<st::span_data>& spans, std::string_view name) {
  for (const auto& s : spans)
    if (std::string_view(s.name) == name) return s;
  FAIL("no span named " << name);
  return spans.front();
}

const st::span_event* exception_event(const st::span_data& s) {
  for (const auto& e : s.events)
    if (e.name == "exception") return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("without RTTI, record_error(e) names std::exception") {
  memory_tracer m;
  {
    auto span = m.tracer.start("op");
    span.record_error(no_rtti_test::my_error("disk on fire"));
  }
  const auto spans = m.spans();
  const auto& s = named(spans, "op");
  CHECK(s.status == st::status_code::error);
  const auto* ev = exception_event(s);
  REQUIRE(ev != nullptr);
  CHECK(str_attr(ev->attributes, "exception.type") == "std::exception");
  CHECK(str_attr(ev->attributes, "exception.message") == "disk on fire");
}

TEST_CASE("without RTTI, instrumented_operation names the exception it handles") {
  memory_tracer m;
  CHECK_THROWS_AS(st::instrumented_operation(m.tracer, "throws", []() -> int { throw no_rtti_test::my_error("boom"); }),
                  no_rtti_test::my_error);
  const auto spans = m.spans();
  const auto& s = named(spans, "throws");
  CHECK(s.status == st::status_code::error);
  CHECK(str_attr(s.attributes, "error.type") == "no_rtti_test::my_error");
  const auto* ev = exception_event(s);
  REQUIRE(ev != nullptr);
  CHECK(str_attr(ev->attributes, "exception.type") == "no_rtti_test::my_error");
  CHECK(str_attr(ev->attributes, "exception.message") == "boom");
}

TEST_CASE("without RTTI, an expected-like error of a custom type is named from the compiler") {
  memory_tracer m;
  const auto r = st::instrumented_operation(m.tracer, "returns-error", [] {
    return fake_expected<int, no_rtti_test::bad_thing>::failure(no_rtti_test::bad_thing{});
  });
  CHECK_FALSE(r.has_value());
  const auto spans = m.spans();
  const auto& s = named(spans, "returns-error");
  CHECK(s.status == st::status_code::error);
  CHECK(str_attr(s.attributes, "error.type") == "no_rtti_test::bad_thing");
}

TEST_CASE("the light API from a file compiled with -fno-exceptions -fno-rtti") {
  memory_tracer m;
  light_spans_without_exceptions(m.tracer);
  const auto spans = m.spans();
  const auto& outer = named(spans, "light-outer");
  CHECK(outer.status == st::status_code::error);
  CHECK(outer.status_message == "card declined");
  const auto& op = named(spans, "light-op");
  CHECK(op.parent_span_id == outer.context.span_id());
  CHECK(op.status == st::status_code::error);
  CHECK(str_attr(op.attributes, "error.type") == "no_rtti_test::bad_thing");
  const auto& failing = named(spans, "light-exception");
  const auto* ev = exception_event(failing);
  REQUIRE(ev != nullptr);
  CHECK(str_attr(ev->attributes, "exception.type") == "std::exception");
  CHECK(str_attr(ev->attributes, "exception.message") == "from a file without RTTI");
  const auto& refused = named(spans, "light-error-code");
  CHECK(refused.status == st::status_code::error);
  REQUIRE(exception_event(refused) != nullptr);
  CHECK(str_attr(exception_event(refused)->attributes, "exception.type")->rfind("std::error_code:generic:", 0) == 0);
  int attempts = 0;
  for (const auto& s : spans) attempts += std::string_view(s.name) == "light-retry" ? 1 : 0;
  CHECK(attempts >= 1);
}
