// Case 10 (memory) of the Performance issue: the memory an ended but not yet
// exported span holds. 1 M sampled spans are ended into a queue large enough
// for all of them while the exporter is blocked (and the export thread is
// never woken: batch size = queue size, schedule delay 1 h), then:
//   "heap_B/span" = growth of live heap bytes / spans, counted exactly by the
//                   operator new of bench_common.hpp (malloc_usable_size, so
//                   malloc's rounding is included, its 8-byte header is not);
//   "rss_B/span"  = growth of the resident set (/proc/self/statm) / spans.
// The thread's lane (a 128 MiB byte ring for 2^20 spans and a return ring of
// 2^20 8-byte slots, allocated but not yet touched) is opened by a warm-up
// span before the first reading: the allocation is a fixed cost, not a
// per-span one; the ring's pages count in rss_B/span as spans fill them. Record caches left by earlier repetitions are emptied first
// and malloc_trim(0) gives freed pages back, so every repetition starts cold.
#include "bench_pipeline.hpp"

#include <chrono>
#include <cstdint>
#include <malloc.h>

namespace {

namespace st = streambus::tracing;

constexpr std::size_t queue_slots = std::size_t{1} << 20;

// Frees the records cached by this thread's pool, so the spans measured
// below allocate fresh ones.
void empty_record_caches() {
  auto& pool = st::detail::thread_record_pool();
  while (pool.cached() > 0) delete pool.acquire();
}

void case10_memory_held(benchmark::State& state) {
  const bool attributes = state.range(0) != 0;
  const auto spans = static_cast<std::size_t>(state.range(1));
  for (auto _ : state) {
    auto exporter = std::make_shared<bench::blocking_exporter>();
    st::batch_options batch;
    batch.max_queue_size = queue_slots;
    batch.max_export_batch_size = queue_slots;
    batch.schedule_delay = std::chrono::hours(1);
    auto tracer = bench::make_tracer("always_on", -1, batch, exporter);
    tracer.start("warm-up");  // opens this thread's lane (its rings are a fixed cost, like the queue was)
    empty_record_caches();
    ::malloc_trim(0);
    const std::int64_t heap0 = bench::g_live_bytes.load();
    const std::int64_t rss0 = bench::rss_bytes();
    for (std::size_t i = 0; i < spans; ++i) {
      auto s = tracer.start("op");
      if (attributes) bench::record_4_attributes_1_event(s);
    }
    const std::int64_t heap1 = bench::g_live_bytes.load();
    const std::int64_t rss1 = bench::rss_bytes();
    const st::tracer_stats stats = tracer.stats();
    if (stats.spans_queued != spans + 1 || stats.spans_exported != 0)
      state.SkipWithError("spans were dropped or exported: the measurement is void");
    state.counters["heap_B/span"] = static_cast<double>(heap1 - heap0) / static_cast<double>(spans);
    state.counters["rss_B/span"] = static_cast<double>(rss1 - rss0) / static_cast<double>(spans);
    state.counters["sizeof(span_data)"] = sizeof(st::span_data);
    exporter->release();
    tracer.shutdown();
  }
}
BENCHMARK(case10_memory_held)
    ->ArgNames({"attrs_event", "spans"})
    ->Args({0, 1'000'000})
    ->Args({1, 1'000'000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
