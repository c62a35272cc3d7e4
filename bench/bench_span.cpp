// Per-span overhead on the caller's thread: cases 1-5, 8 and 10 (CPU) of the
// Performance issue. Every case reports ns per span (the Time column) and,
// through the counting operator new of bench_common.hpp, heap allocations and
// bytes per span in steady state on the calling thread ("allocs/span",
// "alloc_B/span") and in the whole process ("proc_allocs/span"). Cases that
// run the export pipeline also report the fraction of spans the full queue
// dropped ("dropped").
//
//   tools/run bench                       (everything, as published)
//   build/bench/bench/bench_span --benchmark_filter=case1
#include "bench_pipeline.hpp"

#include <cstdint>
#include <map>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace {

namespace st = streambus::tracing;

// --- case 1: sampled span start + end, no attributes -------------------------
void case1_sampled_span(benchmark::State& state) {
  bench::pipeline p("always_on");
  bench::warm_up(p);
  st::tracer& tracer = p.tracer;
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case1_sampled_span);

// --- case 2: + 4 attributes (2 strings, int64, double) and 1 event -------------
void case2_sampled_span_4_attributes_1_event(benchmark::State& state) {
  bench::pipeline p("always_on");
  bench::warm_up(p);
  st::tracer& tracer = p.tracer;
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    bench::record_4_attributes_1_event(span);
  }
}
BENCHMARK(case2_sampled_span_4_attributes_1_event);

// --- case 3: a child span under an active (current) parent ---------------------
void case3_child_span(benchmark::State& state) {
  bench::pipeline p("always_on");
  bench::warm_up(p);
  st::tracer& tracer = p.tracer;
  auto parent = tracer.start("parent");
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("child");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case3_child_span);

// --- case 4: unsampled spans -----------------------------------------------------
void case4_unsampled_ratio_0(benchmark::State& state) {
  auto tracer = bench::make_tracer("traceidratio", 0.0);
  bench::warm_up(tracer, 1000);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case4_unsampled_ratio_0);

// parentbased_always_on under a current, unsampled remote parent: the usual
// shape of a request that arrived with sampled=0.
void case4_unsampled_parent_based(benchmark::State& state) {
  auto tracer = bench::make_tracer("parentbased_always_on");
  bench::warm_up(tracer, 1000);
  std::map<std::string, std::string> headers{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}};
  auto parent = tracer.start("remote-parent-unsampled", tracer.extract(headers));
  if (parent.is_recording()) state.SkipWithError("the unsampled parent is recording");
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case4_unsampled_parent_based);

// --- case 5: tracer disabled at run time (config.enabled = false) ----------------
void case5_runtime_disabled(benchmark::State& state) {
  st::config cfg;
  cfg.enabled = false;
  cfg.read_environment = false;
  auto tracer = st::tracer::create(cfg);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(case5_runtime_disabled);

// --- case 8: W3C trace context inject + extract round trip ------------------------
// Through the tracer, with its default propagators (tracecontext, baggage), as
// instrumented code calls it; the carrier is reused, as a client's header map
// is (a fresh map per request: case8_w3c_inject_extract_fresh_carrier).
void case8_w3c_inject_extract_tracer(benchmark::State& state) {
  auto tracer = bench::make_tracer("always_on");
  auto span = tracer.start("parent");
  std::map<std::string, std::string> headers;
  tracer.inject(headers);  // the map's nodes exist from here on
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    tracer.inject(headers);
    auto ctx = tracer.extract(headers);
    benchmark::DoNotOptimize(ctx);
  }
  if (!tracer.extract(headers).valid()) state.SkipWithError("round trip lost the context");
}
BENCHMARK(case8_w3c_inject_extract_tracer);

// The W3C functions alone (traceparent + tracestate, no baggage propagator).
void case8_w3c_inject_extract_functions(benchmark::State& state) {
  auto tracer = bench::make_tracer("always_on");
  auto span = tracer.start("parent");
  const st::span_context ctx = span.context();
  std::map<std::string, std::string> headers;
  st::inject(ctx, headers);
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    st::inject(ctx, headers);
    auto got = st::extract(headers);
    benchmark::DoNotOptimize(got);
  }
  if (st::extract(headers) != st::span_context(ctx.trace_id(), ctx.span_id(), ctx.flags(), true))
    state.SkipWithError("round trip changed the context");
}
BENCHMARK(case8_w3c_inject_extract_functions);

// The tracer's round trip into a fresh header map per request, as a client
// that builds a new request each time: the map's node and the traceparent
// string (55 bytes, past the small-string buffer) are allocated per round
// trip. They are the carrier's, not the tracer's; the rows above reuse one
// map, whose values are overwritten in place (no allocation).
void case8_w3c_inject_extract_fresh_carrier(benchmark::State& state) {
  auto tracer = bench::make_tracer("always_on");
  auto span = tracer.start("parent");
  bench::alloc_counter allocs(state);
  for (auto _ : state) {
    std::map<std::string, std::string> headers;
    tracer.inject(headers);
    auto ctx = tracer.extract(headers);
    benchmark::DoNotOptimize(ctx);
  }
}
BENCHMARK(case8_w3c_inject_extract_fresh_carrier);

// --- case 10 (CPU): whole-process CPU per span, export thread included ------------
// The CPU column is process CPU time (MeasureProcessCPUTime) over the timed
// loop; "proc_cpu_ns/span" also charges the export work still queued when the
// loop ends (a force_flush inside the measured interval). A dropped span costs
// the export thread nothing, so read these with "dropped": the queue:65536
// runs are the ones where (nearly) every span goes through the exporter.
void case10_process_cpu(benchmark::State& state, const char* sampler, double ratio, bool attributes) {
  st::batch_options batch;
  batch.max_queue_size = static_cast<std::size_t>(state.range(0));
  auto tracer = bench::make_tracer(sampler, ratio, batch);
  bench::warm_up(tracer);  // not the held warm-up: the queue:65536 runs measure an exporter that keeps up
  bench::pipeline_counter pipe(state, tracer);
  bench::alloc_counter allocs(state);
  const std::int64_t cpu0 = bench::process_cpu_ns();
  for (auto _ : state) {
    auto span = tracer.start("op");
    if (attributes) bench::record_4_attributes_1_event(span);
    benchmark::DoNotOptimize(span);
  }
  tracer.force_flush();
  const std::int64_t cpu1 = bench::process_cpu_ns();
  state.counters["proc_cpu_ns/span"] =
      static_cast<double>(cpu1 - cpu0) / static_cast<double>(state.iterations() ? state.iterations() : 1);
}
BENCHMARK_CAPTURE(case10_process_cpu, sampled, "always_on", -1.0, false)
    ->ArgName("queue")
    ->Arg(2048)
    ->Arg(65536)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK_CAPTURE(case10_process_cpu, sampled_4_attributes_1_event, "always_on", -1.0, true)
    ->ArgName("queue")
    ->Arg(2048)
    ->Arg(65536)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
// The seed's claim was "< 5 % CPU at 10 % sampling"; this is the per-span cost
// behind such a figure.
BENCHMARK_CAPTURE(case10_process_cpu, ratio_10pct_4_attributes_1_event, "parentbased_traceidratio", 0.1, true)
    ->ArgName("queue")
    ->Arg(2048)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// --- references ---------------------------------------------------------------------
// The physical floor the issue names: two TSC reads and one 64-byte record
// stored into a thread-local ring.
void reference_floor_2_rdtsc_64B_record(benchmark::State& state) {
#if defined(__x86_64__) || defined(__i386__)
  struct alignas(64) record {
    std::uint64_t words[8];
  };
  static thread_local record ring[1024];
  std::uint64_t i = 0;
  for (auto _ : state) {
    record& r = ring[i++ & 1023];
    const std::uint64_t start = __rdtsc();
    r.words[0] = start;
    r.words[1] = i;
    r.words[2] = 0x4bf92f3577b34da6ULL;
    r.words[3] = 0xa3ce929d0e0e4736ULL;
    r.words[4] = 0x00f067aa0ba902b7ULL;
    r.words[5] = 0;
    r.words[6] = reinterpret_cast<std::uintptr_t>("op");
    r.words[7] = __rdtsc();
    benchmark::ClobberMemory();
  }
#else
  state.SkipWithError("no rdtsc on this architecture");
#endif
}
BENCHMARK(reference_floor_2_rdtsc_64B_record);

// What an unsampled span cannot avoid in this design, written out by hand:
// three 64-bit ids from a thread-local wyrand state, a 64-byte entry pushed
// onto a thread-local current-span stack and popped again, the span handed
// out through memory (DoNotOptimize, as in case 4). No tracer, sampler,
// checks or tracestate: case 4 minus this is what the library adds.
void reference_case4_floor_ids_and_stack(benchmark::State& state) {
  struct alignas(64) entry {
    std::uint64_t words[8];
  };
  struct handle {
    std::uint64_t trace_high, trace_low, span_id, depth;
  };
  static thread_local entry stack[64];
  static thread_local std::uint64_t depth = 0;
  static thread_local std::uint64_t rng = 0x9e3779b97f4a7c15ULL;
  const auto draw = [](std::uint64_t& s) {
    s += 0xa0761d6478bd642fULL;
    __extension__ using u128 = unsigned __int128;
    const u128 m = static_cast<u128>(s) * (s ^ 0xe7037ed1a0b428dbULL);
    return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
  };
  for (auto _ : state) {
    std::uint64_t s = rng;
    handle h{draw(s), draw(s), draw(s), depth};
    rng = s;
    entry& e = stack[h.depth & 63];
    e.words[0] = h.trace_high;
    e.words[1] = h.trace_low;
    e.words[2] = h.span_id;
    e.words[3] = 1;  // flags
    e.words[4] = 0;  // tracestate
    e.words[5] = 0;  // record
    e.words[6] = reinterpret_cast<std::uintptr_t>(&state);  // owner
    depth = h.depth + 1;
    benchmark::DoNotOptimize(h);
    if (depth == h.depth + 1 && stack[h.depth & 63].words[2] == h.span_id) depth = h.depth;  // end: pop
  }
}
BENCHMARK(reference_case4_floor_ids_and_stack);

}  // namespace

BENCHMARK_MAIN();
