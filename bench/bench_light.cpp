// The light header's per-span cost (tracing_light.hpp), beside the inline
// API's in the same process: cases 1 and 2 of bench_span through both, and
// case 4 (unsampled) through the light API. The light calls go to
// bench/light/light_impl.cpp, another TU, as they would in a program.
//
//   build/bench/bench/bench_light --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include "bench_pipeline.hpp"

#include <streambus/tracing_light.hpp>

namespace {

namespace st = streambus::tracing;
namespace light = streambus::tracing::light;

// The timed loop of every case: start a span with `start`, record what
// `record` records, end it.
template <class Start, class Record>
void run(benchmark::State& state, const char* sampler, double ratio, Start start, Record record) {
  bench::pipeline p(sampler, ratio);
  bench::warm_up(p);
  st::tracer& tracer = p.tracer;
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = start(tracer);
    record(span);
    benchmark::DoNotOptimize(span);
  }
}

const auto inline_start = [](st::tracer& t) { return t.start("op"); };
const auto light_start = [](st::tracer& t) { return light::start(t, "op"); };
const auto nothing = [](auto&) {};
const auto four_attributes_one_event = [](auto& s) { bench::record_4_attributes_1_event(s); };

void case1_inline(benchmark::State& state) { run(state, "always_on", -1, inline_start, nothing); }
void case1_light(benchmark::State& state) { run(state, "always_on", -1, light_start, nothing); }
void case2_inline(benchmark::State& state) { run(state, "always_on", -1, inline_start, four_attributes_one_event); }
void case2_light(benchmark::State& state) { run(state, "always_on", -1, light_start, four_attributes_one_event); }
void case4_unsampled_light(benchmark::State& state) { run(state, "traceidratio", 0.0, light_start, nothing); }
BENCHMARK(case1_inline);
BENCHMARK(case1_light);
BENCHMARK(case2_inline);
BENCHMARK(case2_light);
BENCHMARK(case4_unsampled_light);

}  // namespace
