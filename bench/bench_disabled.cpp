// Case 6 of the Performance issue: tracing compiled out with
// STREAMBUS_TRACING_DISABLED, measured beside an empty loop. Its own
// executable, because the macro changes what the whole translation unit sees.
//
// The two loops should be the same machine code: the compiled-out calls are
// empty inline functions and the optimiser removes them (check with
// `objdump -d --no-show-raw-insn bench_disabled | grep -A20 case6`).
#define STREAMBUS_TRACING_DISABLED 1
#include "bench_common.hpp"

#include <streambus/tracing.hpp>

namespace {

namespace st = streambus::tracing;

void case6_empty_loop(benchmark::State& state) {
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
  }
}
BENCHMARK(case6_empty_loop);

// What an instrumented function does: start a span, record case 2's
// attributes and event, end it.
void case6_compiled_out(benchmark::State& state) {
  auto tracer = st::tracer::create();
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    span.set_attribute("http.request.method", "GET").set_attribute("url.path", "/api/v1/orders/12345");
    span.set_attribute("http.response.status_code", 200).set_attribute("load", 0.5);
    span.add_event("cache.miss");
  }
  if (tracer.is_enabled()) state.SkipWithError("STREAMBUS_TRACING_DISABLED did not compile tracing out");
}
BENCHMARK(case6_compiled_out);

}  // namespace

BENCHMARK_MAIN();
