// The plugin of tests/shared, loaded with dlopen(RTLD_NOW | RTLD_LOCAL).
#include <streambus/tracing.hpp>

#include "shared_api.hpp"

extern "C" void shared_test_plugin_start_and_end(streambus::tracing::tracer* tracer,
                                                 streambus::tracing::span_context* out) {
  auto span = tracer->start("plugin-c");
  *out = span.context();
}
