// The instrumented function of bench_shared_library, compiled into a shared
// library (-fPIC, hidden visibility) once per TLS dialect: BENCH_LIBRARY_NAME
// names the exported function after the build.
#include <streambus/tracing.hpp>

extern "C" __attribute__((visibility("default"))) void BENCH_LIBRARY_NAME(streambus::tracing::tracer& tracer) {
  auto span = tracer.start("op");
  asm volatile("" : : "r"(&span) : "memory");  // benchmark::DoNotOptimize, without the library
}
