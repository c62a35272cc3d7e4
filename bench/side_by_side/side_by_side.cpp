// Two versions of the library in one process, measured side by side: the
// working tree (<streambus/tracing.hpp>) and an earlier commit's single
// header with its namespace and macros renamed (before.hpp, made by
// tools/bench_side_by_side.sh). Google Benchmark's random interleaving runs
// the cases of both in a shuffled order, so a change of machine mode (see
// bench/README.md, "Two modes on this VM") hits both alike. Each case names
// the bench_span case it repeats.
#include "before.hpp"

#include <streambus/tracing.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <string_view>
#include <utility>

namespace {

namespace before = streambus_before::tracing;
namespace now = streambus::tracing;

template <class NS>
class discarding_exporter final : public NS::span_exporter {
 public:
  typename NS::export_result export_spans(const typename NS::span_batch& batch) noexcept override {
    benchmark::DoNotOptimize(batch.size());
    return NS::export_result::success;
  }
  std::string_view name() const noexcept override { return "discard"; }
};

// The same set-up as bench_pipeline.hpp's make_tracer: batch pipeline,
// default queue, a discarding exporter, every span sampled.
template <class NS>
struct version {
  static typename NS::tracer& tracer() {
    static typename NS::tracer t = [] {
      typename NS::config cfg;
      cfg.exporter = "none";
      cfg.exporters = {std::make_shared<discarding_exporter<NS>>()};
      cfg.read_environment = false;
      cfg.sampler = "always_on";
      cfg.batch = typename NS::batch_options{};
      cfg.on_diagnostic = [](std::string_view) {};
      auto created = NS::tracer::create(cfg);
      for (int i = 0; i < 20000; ++i) created.start("warm-up");
      return created;
    }();
    return t;
  }
};

struct before_ns {
  using span_exporter = before::span_exporter;
  using export_result = before::export_result;
  using span_batch = before::span_batch;
  using config = before::config;
  using batch_options = before::batch_options;
  using tracer = before::tracer;
};
struct now_ns {
  using span_exporter = now::span_exporter;
  using export_result = now::export_result;
  using span_batch = now::span_batch;
  using config = now::config;
  using batch_options = now::batch_options;
  using tracer = now::tracer;
};

// Reports the fraction of the loop's spans the full queue turned away: a
// version that drops more does less work per span, so read times with it.
template <class Tracer>
class drop_counter {
 public:
  drop_counter(benchmark::State& state, Tracer& t) : state_(state), t_(t), before_(t.stats()) {}
  ~drop_counter() {
    const auto after = t_.stats();
    const double ended = static_cast<double>(after.spans_ended - before_.spans_ended);
    state_.counters["dropped"] = ended > 0 ? static_cast<double>(after.spans_dropped - before_.spans_dropped) / ended : 0;
  }

 private:
  benchmark::State& state_;
  Tracer& t_;
  decltype(std::declval<Tracer&>().stats()) before_;
};

// Case 4 (ratio 0: nothing sampled) and case 5 (disabled at run time).
template <class NS>
typename NS::tracer make_unsampled_tracer(bool enabled) {
  typename NS::config cfg;
  cfg.enabled = enabled;
  cfg.exporter = "none";
  cfg.read_environment = false;
  cfg.sampling_rate = 0.0;
  cfg.on_diagnostic = [](std::string_view) {};
  return NS::tracer::create(cfg);
}

template <class NS>
void case4_unsampled_span(benchmark::State& state) {
  static auto t = make_unsampled_tracer<NS>(true);
  for (auto _ : state) {
    auto s = t.start("operation");
    benchmark::DoNotOptimize(s);
  }
}

template <class NS>
void case5_disabled_tracer(benchmark::State& state) {
  static auto t = make_unsampled_tracer<NS>(false);
  for (auto _ : state) {
    auto s = t.start("operation");
    benchmark::DoNotOptimize(s);
  }
}

template <class NS>
void case1_sampled_span(benchmark::State& state) {
  auto& t = version<NS>::tracer();
  drop_counter<typename NS::tracer> drops(state, t);
  for (auto _ : state) {
    auto s = t.start("operation");
    benchmark::DoNotOptimize(s);
  }
}

template <class NS>
void case2_attributes_event(benchmark::State& state) {
  auto& t = version<NS>::tracer();
  for (auto _ : state) {
    auto s = t.start("operation");
    s.set_attribute("http.request.method", "GET").set_attribute("url.path", "/api/v1/orders/12345");
    s.set_attribute("http.response.status_code", 200).set_attribute("load", 0.5);
    s.add_event("cache.miss");
  }
}

template <class NS>
void case3_child_span(benchmark::State& state) {
  auto& t = version<NS>::tracer();
  auto parent = t.start("parent");
  drop_counter<typename NS::tracer> drops(state, t);
  for (auto _ : state) {
    auto s = t.start("operation");
    benchmark::DoNotOptimize(s);
  }
}

BENCHMARK_TEMPLATE(case1_sampled_span, before_ns);
BENCHMARK_TEMPLATE(case1_sampled_span, now_ns);
BENCHMARK_TEMPLATE(case2_attributes_event, before_ns);
BENCHMARK_TEMPLATE(case2_attributes_event, now_ns);
BENCHMARK_TEMPLATE(case3_child_span, before_ns);
BENCHMARK_TEMPLATE(case3_child_span, now_ns);
BENCHMARK_TEMPLATE(case4_unsampled_span, before_ns);
BENCHMARK_TEMPLATE(case4_unsampled_span, now_ns);
BENCHMARK_TEMPLATE(case5_disabled_tracer, before_ns);
BENCHMARK_TEMPLATE(case5_disabled_tracer, now_ns);
// Case 10's CPU column: whole-process CPU (the export thread included).
BENCHMARK_TEMPLATE(case1_sampled_span, before_ns)->Name("case10_process_cpu<before_ns>")->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK_TEMPLATE(case1_sampled_span, now_ns)->Name("case10_process_cpu<now_ns>")->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
