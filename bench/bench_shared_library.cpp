// What a span costs when the instrumented code lives in a shared library,
// beside the same function in the executable, one process: thread-local state
// is reached through __tls_get_addr from -fPIC code (the default TLS dialect),
// or through TLS descriptors (-mtls-dialect=gnu2, g++ on x86-64 only). Each
// case calls one non-inlined function per span, which starts and ends it.
//
//   build/bench/bench/bench_shared_library --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include "bench_pipeline.hpp"

extern "C" void spans_in_library_default_tls(streambus::tracing::tracer& tracer);
#if defined(BENCH_HAS_TLSDESC_LIBRARY)
extern "C" void spans_in_library_tlsdesc(streambus::tracing::tracer& tracer);
#endif

namespace {

namespace st = streambus::tracing;

[[gnu::noinline]] void spans_in_executable(st::tracer& tracer) {
  auto span = tracer.start("op");
  benchmark::DoNotOptimize(span);
}

void run(benchmark::State& state, const char* sampler, double ratio, void (*one_span)(st::tracer&)) {
  bench::pipeline p(sampler, ratio);
  bench::warm_up(p);
  st::tracer& tracer = p.tracer;
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) one_span(tracer);
}

void case1_executable(benchmark::State& s) { run(s, "always_on", -1, spans_in_executable); }
void case1_library(benchmark::State& s) { run(s, "always_on", -1, spans_in_library_default_tls); }
void case4_executable(benchmark::State& s) { run(s, "traceidratio", 0.0, spans_in_executable); }
void case4_library(benchmark::State& s) { run(s, "traceidratio", 0.0, spans_in_library_default_tls); }
BENCHMARK(case1_executable);
BENCHMARK(case1_library);
BENCHMARK(case4_executable);
BENCHMARK(case4_library);
#if defined(BENCH_HAS_TLSDESC_LIBRARY)
void case1_library_tlsdesc(benchmark::State& s) { run(s, "always_on", -1, spans_in_library_tlsdesc); }
void case4_library_tlsdesc(benchmark::State& s) { run(s, "traceidratio", 0.0, spans_in_library_tlsdesc); }
BENCHMARK(case1_library_tlsdesc);
BENCHMARK(case4_library_tlsdesc);
#endif

}  // namespace
