// The asynchronous export pipeline: ended spans go into a lock-free bounded
// queue; one background thread takes them out in batches and hands them to
// the exporters. The traced threads never wait for an exporter.
//
// - Export when a batch is full (the producer that crosses the threshold wakes
//   the thread), every schedule_delay otherwise, and on flush/shutdown.
// - A full queue drops the span and counts it: memory stays bounded.
// - force_flush/shutdown take deadlines. A thread stuck in an exporter past
//   the deadline is told to abort (exporter shutdown) and, failing that, left
//   to finish on its own: its state is shared, so nothing dangles.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../clock.hpp"
#include "../config.hpp"
#include "../exporter.hpp"
#include "../span_data.hpp"
#include "../stats.hpp"
#include "../version.hpp"
#include "bounded_queue.hpp"
#include "diagnostics.hpp"
#include "record_pool.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class batch_processor {
 public:
  batch_processor(std::vector<std::shared_ptr<span_exporter>> exporters, const resource& res,
                  const instrumentation_scope& scope, std::shared_ptr<diagnostics> diag, const batch_options& options,
                  std::shared_ptr<std::atomic<std::uint64_t>> retries)
      : core_(std::make_shared<core>(std::move(exporters), res, scope, std::move(diag), options, std::move(retries))) {
    // The thread owns a reference: if shutdown has to give up on it, it can
    // still finish safely after the tracer is gone.
    worker_ = std::thread([c = core_] { c->run(); });
  }

  batch_processor(const batch_processor&) = delete;
  batch_processor& operator=(const batch_processor&) = delete;
  ~batch_processor() { shutdown(std::chrono::seconds(5)); }

  /// Hot path: one lock-free push. Takes ownership of the record.
  void on_end(span_data* record) noexcept {
    core& c = *core_;
    if (!c.queue.try_push(record)) {
      c.dropped.fetch_add(1, std::memory_order_relaxed);
      thread_record_pool().release(record);
      return;
    }
    if (c.queue.size_approx() >= c.batch_size && !c.wake_pending.exchange(true, std::memory_order_acq_rel)) {
      // Once per batch: under the mutex, so the wake-up cannot fall between
      // the worker's check and its wait.
      std::lock_guard<std::mutex> lock(c.mutex);
      c.wake.notify_one();
    }
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    return core_->flush(deadline);
  }

  bool shutdown(std::chrono::milliseconds timeout) noexcept {
    if (!worker_.joinable()) return true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    core& c = *core_;
    const bool flushed = c.flush(deadline);
    {
      std::lock_guard<std::mutex> lock(c.mutex);
      c.stop = true;
      c.wake.notify_one();
    }
    bool finished = c.wait_finished(deadline);
    if (!finished) {
      // Stuck in an exporter: ask it to abort its I/O, then give it a moment.
      for (auto& e : c.exporters) e->shutdown(std::chrono::milliseconds(0));
      finished = c.wait_finished(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    }
    if (finished) {
      worker_.join();
      for (auto& e : c.exporters) e->shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::max(deadline - std::chrono::steady_clock::now(),
                                               std::chrono::steady_clock::duration::zero())));
    } else {
      c.diag->report("export thread did not stop before the shutdown deadline; left to finish on its own");
      worker_.detach();
    }
    return flushed && finished;
  }

  void add_stats(tracer_stats& s) const noexcept {
    const core& c = *core_;
    const std::uint64_t queued = c.queue.pushed();
    const std::uint64_t dropped = c.dropped.load(std::memory_order_relaxed);
    s.spans_ended += queued + dropped;
    s.spans_queued += queued;
    s.spans_dropped += dropped;
    s.spans_exported += c.exported.load(std::memory_order_relaxed);
    s.spans_failed += c.failed.load(std::memory_order_relaxed);
    s.export_failures += c.failures.load(std::memory_order_relaxed);
  }

 private:
  struct core {
    core(std::vector<std::shared_ptr<span_exporter>> ex, const resource& res, const instrumentation_scope& sc,
         std::shared_ptr<diagnostics> d, const batch_options& options, std::shared_ptr<std::atomic<std::uint64_t>> r)
        : exporters(std::move(ex)),
          resource_copy(res),
          scope_copy(sc),
          diag(std::move(d)),
          retries(std::move(r)),
          queue(std::max<std::size_t>(options.max_queue_size, 2)),
          batch_size(std::max<std::size_t>(1, std::min(options.max_export_batch_size, options.max_queue_size))),
          schedule_delay(options.schedule_delay) {}

    ~core() {
      span_data* r = nullptr;
      while (queue.try_pop(r)) delete r;
    }

    void run() noexcept {
      std::vector<span_data*> batch;
      try {
        batch.reserve(batch_size);
      } catch (...) {
      }
      std::unique_lock<std::mutex> lock(mutex);
      for (;;) {
        // A zero schedule delay must not spin: poll at most every millisecond.
        const auto delay = std::max(schedule_delay, std::chrono::milliseconds(1));
        wake.wait_for(lock, delay, [&] {
          wake_pending.store(false, std::memory_order_release);
          return stop || flush_requested > flush_done || queue.size_approx() >= batch_size;
        });
        const std::uint64_t flush_target = flush_requested;
        const bool stopping = stop;
        lock.unlock();
        clock_resync();  // refine the span clock off the hot path
        drain(batch);  // everything queued so far, in batches
        report_drops();
        lock.lock();
        if (flush_target > flush_done) {
          flush_done = flush_target;
          flushed.notify_all();
        }
        if (stopping) break;
      }
      finished = true;
      flushed.notify_all();
    }

    void drain(std::vector<span_data*>& batch) noexcept {
      for (;;) {
        batch.clear();
        span_data* r = nullptr;
        while (batch.size() < batch_size && queue.try_pop(r)) batch.push_back(r);
        if (batch.empty()) return;
        export_batch(batch);
        for (span_data* done : batch) shared_recycler().give(done);
      }
    }

    void export_batch(const std::vector<span_data*>& batch) noexcept {
      const span_batch view(resource_copy, scope_copy, batch.data(), batch.size());
      for (auto& exporter : exporters) {
        if (exporter->export_spans(view) == export_result::success) {
          exported.fetch_add(batch.size(), std::memory_order_relaxed);
        } else {
          failed.fetch_add(batch.size(), std::memory_order_relaxed);
          failures.fetch_add(1, std::memory_order_relaxed);
          diag->report("exporter '" + std::string(exporter->name()) + "' failed to export " +
                       std::to_string(batch.size()) + " span(s)");
        }
      }
    }

    bool flush(std::chrono::steady_clock::time_point deadline) noexcept {
      std::unique_lock<std::mutex> lock(mutex);
      if (finished) return queue.size_approx() == 0;
      const std::uint64_t target = ++flush_requested;
      wake.notify_one();
      const bool done = flushed.wait_until(lock, deadline, [&] { return flush_done >= target || finished; });
      lock.unlock();
      bool ok = done;
      if (done) {
        for (auto& e : exporters) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero()));
          ok = e->force_flush(left) && ok;
        }
      }
      return ok;
    }

    bool wait_finished(std::chrono::steady_clock::time_point deadline) noexcept {
      std::unique_lock<std::mutex> lock(mutex);
      return flushed.wait_until(lock, deadline, [&] { return finished; });
    }

    // Drops are counted on the hot path and reported here, off it.
    void report_drops() noexcept {
      const std::uint64_t now_dropped = dropped.load(std::memory_order_relaxed);
      if (now_dropped == reported_drops) return;
      try {
        diag->report("export queue full: " + std::to_string(now_dropped - reported_drops) +
                     " span(s) dropped (see tracer::stats(); raise OTEL_BSP_MAX_QUEUE_SIZE or lower the span rate)");
      } catch (...) {
      }
      reported_drops = now_dropped;
    }

    std::vector<std::shared_ptr<span_exporter>> exporters;
    resource resource_copy;
    instrumentation_scope scope_copy;
    std::shared_ptr<diagnostics> diag;
    std::shared_ptr<std::atomic<std::uint64_t>> retries;

    bounded_queue<span_data*> queue;
    const std::size_t batch_size;
    const std::chrono::milliseconds schedule_delay;

    std::mutex mutex;
    std::condition_variable wake;     // the worker waits here
    std::condition_variable flushed;  // flush/shutdown callers wait here
    std::atomic<bool> wake_pending{false};
    std::uint64_t reported_drops = 0;  // worker thread only
    bool stop = false;
    bool finished = false;
    std::uint64_t flush_requested = 0;
    std::uint64_t flush_done = 0;

    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> exported{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> failures{0};
  };

  std::shared_ptr<core> core_;
  std::thread worker_;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
