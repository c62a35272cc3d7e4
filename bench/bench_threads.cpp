// Case 7 of the Performance issue: 1, 2 and 4 threads creating sampled spans
// concurrently into one tracer (one export pipeline, a discarding exporter).
//
// Reported per run: items_per_second = total spans/s of all threads,
// "spans/s/thread" = the same per thread, "dropped" = fraction of the timed
// loop's spans that the full queue turned away, "proc_allocs/span" = heap
// allocations per span of the whole process (export thread included).
// The argument is the queue size: 2048 (the OpenTelemetry default, the issue's
// target) and a large one, to tell "the queue is too small for a burst" from
// "the export thread cannot keep up"; 0 means no export pipeline at all (the
// span path's own scaling).
//
// On a 2-vCPU machine, 2 producer threads and the export thread share two
// cores; 4 producers oversubscribe them. Read the figures with that in mind.
#include "bench_pipeline.hpp"

#include <atomic>
#include <cstdint>
#include <thread>

namespace {

namespace st = streambus::tracing;

// What the threads of one run share. Thread 0 creates and destroys the tracer;
// the others wait for it, every thread warms its own record pool, and the
// timed loops start only when all are warm (so the counters see steady state).
struct run_state {
  std::atomic<st::tracer*> tracer{nullptr};
  std::atomic<int> warmed{0};
  std::atomic<bool> go{false};
  st::tracer_stats before;
  std::uint64_t allocs_before = 0;
};
run_state g_run;

void spin_until(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

// queue > 0: the batch pipeline with a queue of that size and a discarding
// exporter. queue == 0: no exporter at all, so every record goes straight back
// to its thread's pool: the producer path alone, without the export thread
// competing for the two cores.
st::tracer* make_case7_tracer(std::int64_t queue) {
  if (queue == 0) {
    st::config cfg;
    cfg.exporter = "none";
    cfg.read_environment = false;
    cfg.sampler = "always_on";
    return new st::tracer(st::tracer::create(cfg));
  }
  st::batch_options batch;
  batch.max_queue_size = static_cast<std::size_t>(queue);
  return new st::tracer(bench::make_tracer("always_on", -1, batch));
}

// One run of `threads` threads into one tracer with a queue of `queue`;
// `span_loop(state, tracer)` is the timed loop.
template <class SpanLoop>
void run_case7(benchmark::State& state, std::int64_t queue, SpanLoop&& span_loop) {
  const bool leader = state.thread_index() == 0;
  if (leader) g_run.tracer.store(make_case7_tracer(queue), std::memory_order_release);
  st::tracer* tracer = nullptr;
  while ((tracer = g_run.tracer.load(std::memory_order_acquire)) == nullptr) std::this_thread::yield();

  // Warm this thread's pool without overflowing the queue.
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 256; ++i) {
      auto s = tracer->start("warm-up");
      benchmark::DoNotOptimize(s);
    }
    std::this_thread::yield();
  }
  g_run.warmed.fetch_add(1, std::memory_order_acq_rel);
  if (leader) {
    while (g_run.warmed.load(std::memory_order_acquire) < state.threads()) std::this_thread::yield();
    tracer->force_flush();
    g_run.before = tracer->stats();
    g_run.allocs_before = bench::g_alloc_calls.load();
    g_run.go.store(true, std::memory_order_release);
  } else {
    spin_until(g_run.go);
  }

  span_loop(state, *tracer);
  // (The loop ends with a barrier: every thread's spans have ended here.)

  state.SetItemsProcessed(state.iterations());
  state.counters["spans/s/thread"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kAvgThreads);
  if (leader) {
    const st::tracer_stats after = tracer->stats();
    const std::uint64_t allocs_after = bench::g_alloc_calls.load();
    const auto ended = after.spans_ended - g_run.before.spans_ended;
    const auto dropped = after.spans_dropped - g_run.before.spans_dropped;
    state.counters["dropped"] = ended ? static_cast<double>(dropped) / static_cast<double>(ended) : 0.0;
    state.counters["proc_allocs/span"] =
        ended ? static_cast<double>(allocs_after - g_run.allocs_before) / static_cast<double>(ended) : 0.0;
    tracer->force_flush();
    delete tracer;
    g_run.tracer.store(nullptr, std::memory_order_relaxed);
    g_run.warmed.store(0, std::memory_order_relaxed);
    g_run.go.store(false, std::memory_order_release);
  }
}
void case7_threads(benchmark::State& state) {
  run_case7(state, state.range(0), [](benchmark::State& st_, st::tracer& tracer) {
    for (auto _ : st_) {
      auto span = tracer.start("op");
      benchmark::DoNotOptimize(span);
    }
  });
}
BENCHMARK(case7_threads)
    ->ArgName("queue")
    ->Arg(2048)
    ->Arg(65536)
    ->Arg(0)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

// Case 7 where the exporter keeps up (the condition): each span wraps
// a fixed amount of CPU work, as a span wraps a request or a message in a
// service, at the default queue size. `steps` links of a dependent
// multiply-add chain (about a nanosecond each); `traced` 0 runs the same work
// with no span, for the tracing's share of the time and the scaling the work
// itself reaches on this machine.
std::uint64_t work(std::uint64_t x, std::int64_t steps) {
  for (std::int64_t i = 0; i < steps; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

void case7_threads_with_work(benchmark::State& state) {
  const std::int64_t steps = state.range(0);
  const bool traced = state.range(1) != 0;
  run_case7(state, 2048, [steps, traced](benchmark::State& st_, st::tracer& tracer) {
    std::uint64_t x = 1;
    for (auto _ : st_) {
      if (traced) {
        auto span = tracer.start("op");
        benchmark::DoNotOptimize(span);
        x = work(x, steps);
      } else {
        x = work(x, steps);
      }
      benchmark::DoNotOptimize(x);
    }
  });
}
BENCHMARK(case7_threads_with_work)
    ->ArgNames({"steps", "traced"})
    ->ArgsProduct({{400, 1600}, {1, 0}})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
