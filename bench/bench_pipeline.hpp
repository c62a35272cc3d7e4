// Tracer set-up shared by the benches that run the real export pipeline.
#pragma once

#include <streambus/tracing.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "bench_common.hpp"

namespace bench {

namespace st = streambus::tracing;

/// Accepts every batch and throws it away: measures the pipeline, not a
/// network. As cheap as an exporter can be, so the export thread keeps up
/// wherever the machine lets it. warm_up() can hold it (otherwise it
/// costs one atomic load per batch).
class discarding_exporter final : public st::span_exporter {
 public:
  st::export_result export_spans(const st::span_batch& batch) noexcept override {
    benchmark::DoNotOptimize(batch.size());
    if (held_.load(std::memory_order_acquire)) wait_while_held();
    return st::export_result::success;
  }
  std::string_view name() const noexcept override { return "discard"; }
  void shutdown(std::chrono::milliseconds) noexcept override { release(); }

  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    inside_ = false;
    held_.store(true, std::memory_order_release);
  }
  void release() noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_.store(false, std::memory_order_release);
    }
    changed_.notify_all();
  }
  /// True once an export is being held (false after `timeout`).
  bool wait_inside(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return inside_; });
  }

 private:
  void wait_while_held() noexcept {
    std::unique_lock<std::mutex> lock(mutex_);
    inside_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_.load(std::memory_order_acquire); });
  }

  std::atomic<bool> held_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  bool inside_ = false;
};

/// Holds every batch until released: spans pile up in the queue (case 10).
class blocking_exporter final : public st::span_exporter {
 public:
  st::export_result export_spans(const st::span_batch&) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    released_cv_.wait(lock, [&] { return released_; });
    return st::export_result::success;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    released_cv_.notify_all();
  }
  void shutdown(std::chrono::milliseconds) noexcept override { release(); }
  std::string_view name() const noexcept override { return "blocked"; }

 private:
  std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false;
};

/// A tracer with the batch pipeline and `exporter` (a discarding one by
/// default). `sampler` is an OTEL_TRACES_SAMPLER name; ratio < 0 keeps the
/// sampler's default argument.
inline st::tracer make_tracer(const char* sampler, double ratio = -1,
                              std::optional<st::batch_options> batch = std::nullopt,
                              std::shared_ptr<st::span_exporter> exporter = nullptr) {
  st::config cfg;
  cfg.exporter = "none";
  cfg.exporters = {exporter ? std::move(exporter) : std::make_shared<discarding_exporter>()};
  cfg.read_environment = false;
  cfg.sampler = sampler;
  if (ratio >= 0) cfg.sampling_rate = ratio;
  cfg.batch = batch;
  cfg.on_diagnostic = [](std::string_view) {};  // "queue full" lines would go to stderr
  return st::tracer::create(cfg);
}

/// The attributes and event of case 2, as an instrumented HTTP handler would set
/// them (on a tracing::span, or a light::span in bench_light).
template <class Span>
void record_4_attributes_1_event(Span& s) {
  s.set_attribute("http.request.method", "GET").set_attribute("url.path", "/api/v1/orders/12345");
  s.set_attribute("http.response.status_code", 200).set_attribute("load", 0.5);
  s.add_event("cache.miss");
}

/// Fills the record pools and the recycler with records whose buffers have
/// grown to case 2's size.
inline void warm_up(st::tracer& tracer, int spans = 20000) {
  for (int i = 0; i < spans; ++i) {
    auto s = tracer.start("warm-up");
    record_4_attributes_1_event(s);
  }
  tracer.force_flush();
}

/// A tracer over a discarding exporter that warm_up() can hold.
struct pipeline {
  explicit pipeline(const char* sampler, double ratio = -1, std::optional<st::batch_options> batch = std::nullopt)
      : exporter(std::make_shared<discarding_exporter>()), tracer(make_tracer(sampler, ratio, batch, exporter)) {}
  std::shared_ptr<discarding_exporter> exporter;
  st::tracer tracer;
};

/// As above, then the steady state of a thread whose export thread falls
/// behind: its records grow until a full lane and the batch being exported
/// are away at once (queue size + batch size + 1), and then stop growing.
/// One held export makes that happen before the timed loop rather than in it
/// (without it, case 2 counted 0.0017 allocations per span, then 0.0004
/// with a warm-up that merely waited for drops: each run's fresh tracer grew
/// its records inside the timed loop).
inline void warm_up(pipeline& p, int spans = 20000) {
  warm_up(p.tracer, spans);
  const st::tracer_stats before = p.tracer.stats();
  p.exporter->hold();
  bool held = false;
  for (int made = 0; made < 1000000; made += 256) {
    for (int i = 0; i < 256; ++i) {
      auto s = p.tracer.start("warm-up");
      record_4_attributes_1_event(s);
    }
    const st::tracer_stats now = p.tracer.stats();
    if (now.spans_ended == before.spans_ended) break;  // nothing sampled: no lane fills
    // Once a full batch has woken the export thread, it holds that batch...
    held = held || p.exporter->wait_inside(std::chrono::milliseconds(1));
    if (held && now.spans_dropped != before.spans_dropped) break;  // ...and the lane is full
  }
  p.exporter->release();
  p.tracer.force_flush();
}

/// Counts what the pipeline did with the spans of the timed loop: report()
/// adds "dropped" (the fraction the full queue turned away).
class pipeline_counter {
 public:
  pipeline_counter(benchmark::State& state, const st::tracer& tracer)
      : state_(state), tracer_(tracer), before_(tracer.stats()) {}
  ~pipeline_counter() {
    const st::tracer_stats after = tracer_.stats();
    const auto ended = after.spans_ended - before_.spans_ended;
    const auto dropped = after.spans_dropped - before_.spans_dropped;
    state_.counters["dropped"] = ended ? static_cast<double>(dropped) / static_cast<double>(ended) : 0.0;
  }
  pipeline_counter(const pipeline_counter&) = delete;
  pipeline_counter& operator=(const pipeline_counter&) = delete;

 private:
  benchmark::State& state_;
  const st::tracer& tracer_;
  st::tracer_stats before_;
};

}  // namespace bench
