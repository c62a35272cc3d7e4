// Compiled with -fno-exceptions -fno-rtti: an instrumented file of a project
// built without them, using the light header (the full header needs
// exceptions). Its calls go to the implementation in light_impl_with_exceptions.cpp.
#include <streambus/tracing_light.hpp>

#include <string>
#include <system_error>

#include "../support/fake_expected.hpp"
#include "no_rtti_types.hpp"

namespace light = streambus::tracing::light;

void light_spans_without_exceptions(streambus::tracing::tracer& t) {
  auto outer = light::start(t, "light-outer");
  outer.set_attribute("items", 3);
  outer.add_event("validated");
  outer.record_error("card declined");
  const auto r = light::instrumented_operation(t, "light-op", [] {
    return fake_expected<int, no_rtti_test::bad_thing>::failure(no_rtti_test::bad_thing{});
  });
  static_cast<void>(r);
  {
    // An exception class of this file: its vtable has no type information,
    // and record_error(e) runs in the implementation file, which has RTTI.
    auto failing = light::start(t, "light-exception");
    failing.record_error(no_rtti_test::my_error("from a file without RTTI"));
  }
  {
    auto refused = light::start(t, "light-error-code");
    refused.record_error(std::make_error_code(std::errc::connection_refused));
  }
  int attempts = 0;
  light::trace_with_retry(t, "light-retry", 3, [&](int) { return ++attempts >= 2; });
}
