// The light header's per-span cost (tracing_light.hpp), beside the inline
// API's in the same process: cases 1 and 2 of bench_span through both. The
// light calls go to bench/light/light_impl.cpp, another TU, as they would in a
// program.
//
//   build/bench/bench/bench_light --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include "bench_pipeline.hpp"

#include <streambus/tracing_light.hpp>

namespace {

namespace st = streambus::tracing;
namespace light = streambus::tracing::light;

void record_4_attributes_1_event(light::span& s) {
  s.set_attribute("http.request.method", "GET").set_attribute("url.path", "/api/v1/orders/12345");
  s.set_attribute("http.response.status_code", 200).set_attribute("load", 0.5);
  s.add_event("cache.miss");
}

void case1_inline(benchmark::State& state) {
  auto tracer = bench::make_tracer("always_on");
  bench::warm_up(tracer);
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case1_inline);

void case1_light(benchmark::State& state) {
  auto tracer = bench::make_tracer("always_on");
  bench::warm_up(tracer);
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = light::start(tracer, "op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case1_light);

void case2_inline(benchmark::State& state) {
  auto tracer = bench::make_tracer("always_on");
  bench::warm_up(tracer);
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    bench::record_4_attributes_1_event(span);
  }
}
BENCHMARK(case2_inline);

void case2_light(benchmark::State& state) {
  auto tracer = bench::make_tracer("always_on");
  bench::warm_up(tracer);
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = light::start(tracer, "op");
    record_4_attributes_1_event(span);
  }
}
BENCHMARK(case2_light);

void case4_unsampled_light(benchmark::State& state) {
  auto tracer = bench::make_tracer("traceidratio", 0.0);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = light::start(tracer, "op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case4_unsampled_light);

}  // namespace
