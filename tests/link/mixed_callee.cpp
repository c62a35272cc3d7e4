// The tracing-enabled half of the mixed_disabled_link_fails test: see
// mixed_caller_compiled_out.cpp.
#include <streambus/tracing.hpp>

void traced_work(streambus::tracing::tracer& t) {
  auto span = t.start("work");
  span.set_attribute("k", 1);
}
