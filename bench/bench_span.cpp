// Per-span overhead on the caller's thread (first cut of the Performance
// issue's suite). Each case reports ns per span and, through the counting
// operator new below, heap allocations per span in steady state.
//
//   cmake -B build/bench -DCMAKE_BUILD_TYPE=Release -DSTREAMBUS_TRACING_BUILD_BENCH=ON
//   cmake --build build/bench --target bench_span && build/bench/bench/bench_span
#include <benchmark/benchmark.h>
#include <streambus/tracing.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <string>

namespace st = streambus::tracing;

// --- allocation counting ------------------------------------------------------
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

// Reports allocations per iteration, measured after a warm-up.
class alloc_counter {
 public:
  explicit alloc_counter(benchmark::State& state) : state_(state), start_(g_allocations.load()) {}
  ~alloc_counter() {
    const auto n = g_allocations.load() - start_;
    state_.counters["allocs/span"] =
        benchmark::Counter(static_cast<double>(n), benchmark::Counter::kAvgIterations);
  }

 private:
  benchmark::State& state_;
  std::uint64_t start_;
};

// Accepts every batch and throws it away: measures the pipeline, not a network.
class discarding_exporter final : public st::span_exporter {
 public:
  st::export_result export_spans(const st::span_batch& batch) noexcept override {
    benchmark::DoNotOptimize(batch.size());
    return st::export_result::success;
  }
  std::string_view name() const noexcept override { return "discard"; }
};

st::tracer make_tracer(const char* sampler, double ratio = -1) {
  st::config cfg;
  cfg.exporter = "none";
  cfg.exporters = {std::make_shared<discarding_exporter>()};  // behind the batch pipeline
  cfg.read_environment = false;
  cfg.sampler = sampler;
  if (ratio >= 0) cfg.sampling_rate = ratio;
  return st::tracer::create(cfg);
}

void warm_up(st::tracer& tracer) {
  for (int i = 0; i < 1000; ++i) {
    auto s = tracer.start("warm-up");
    s.set_attribute("http.request.method", "GET").set_attribute("url.path", "/api/v1/orders/12345");
    s.set_attribute("http.response.status_code", 200).set_attribute("load", 0.5);
    s.add_event("cache.miss");
  }
}

void sampled_span(benchmark::State& state) {
  auto tracer = make_tracer("always_on");
  warm_up(tracer);
  alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(sampled_span);

void sampled_span_4_attributes_1_event(benchmark::State& state) {
  auto tracer = make_tracer("always_on");
  warm_up(tracer);
  alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    span.set_attribute("http.request.method", "GET").set_attribute("url.path", "/api/v1/orders/12345");
    span.set_attribute("http.response.status_code", 200).set_attribute("load", 0.5);
    span.add_event("cache.miss");
  }
}
BENCHMARK(sampled_span_4_attributes_1_event);

void child_span(benchmark::State& state) {
  auto tracer = make_tracer("always_on");
  warm_up(tracer);
  auto parent = tracer.start("parent");
  alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("child");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(child_span);

void unsampled_ratio_0(benchmark::State& state) {
  auto tracer = make_tracer("traceidratio", 0.0);
  alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(unsampled_ratio_0);

void unsampled_parent(benchmark::State& state) {
  auto tracer = make_tracer("parentbased_always_on");
  std::map<std::string, std::string> headers{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}};
  auto parent = tracer.start("remote-parent-unsampled", tracer.extract(headers));
  alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(unsampled_parent);

void runtime_disabled(benchmark::State& state) {
  st::config cfg;
  cfg.enabled = false;
  cfg.read_environment = false;
  auto tracer = st::tracer::create(cfg);
  alloc_counter allocs(state);
  for (auto _ : state) {
    auto span = tracer.start("op");
    benchmark::DoNotOptimize(span);
  }
}
BENCHMARK(runtime_disabled);

// Throughput with several threads ending spans into one pipeline.
void concurrent_spans(benchmark::State& state) {
  static st::tracer* tracer = nullptr;
  if (state.thread_index() == 0) tracer = new st::tracer(make_tracer("always_on"));
  // (google-benchmark synchronises threads before the timed loop)
  for (auto _ : state) {
    auto span = tracer->start("op");
    benchmark::DoNotOptimize(span);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    tracer->force_flush();
    const auto stats = tracer->stats();
    state.counters["dropped_fraction"] =
        stats.spans_ended ? static_cast<double>(stats.spans_dropped) / static_cast<double>(stats.spans_ended) : 0.0;
    delete tracer;
  }
}
BENCHMARK(concurrent_spans)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

void empty_loop(benchmark::State& state) {
  for (auto _ : state) {
    int x = 0;
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(empty_loop);

void w3c_inject_extract(benchmark::State& state) {
  auto tracer = make_tracer("always_on");
  auto span = tracer.start("parent");
  std::map<std::string, std::string> headers;
  tracer.inject(headers);  // the map's nodes exist from here on
  alloc_counter allocs(state);
  for (auto _ : state) {
    tracer.inject(headers);
    auto ctx = tracer.extract(headers);
    benchmark::DoNotOptimize(ctx);
  }
}
BENCHMARK(w3c_inject_extract);

}  // namespace

BENCHMARK_MAIN();
