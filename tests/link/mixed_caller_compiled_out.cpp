// Compiled with STREAMBUS_TRACING_DISABLED and linked with mixed_callee.cpp,
// compiled without it. Such a program must not link: the compiled-out API
// lives in its own inline namespace (v0_1_0_compiled_out), so the call below names
// a function nobody defines. Before, it linked and then crashed, as the callee
// read a tracer that the caller had built as an empty object.
// CMake's test `mixed_disabled_link_fails` builds this pair and expects the
// linker to name v0_1_0_compiled_out::tracer.
#include <streambus/tracing.hpp>

void traced_work(streambus::tracing::tracer& t);

int main() {
  auto tracer = streambus::tracing::tracer::create();
  traced_work(tracer);
}
