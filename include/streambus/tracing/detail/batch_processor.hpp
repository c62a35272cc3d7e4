// The asynchronous export pipeline: ended spans go into their thread's
// lock-free bounded lane (record_pool.hpp); one background thread takes them
// out in batches and hands them to the exporters. The traced threads never
// wait for an exporter.
//
// - Export when the lanes together hold a full batch (a producer whose lane
//   gains a batch, or a thread's exit, wakes the thread; exited threads'
//   lanes are freed once drained); every schedule_delay and on flush, what is
//   queued at that moment; on shutdown, everything.
// - A full queue drops the span and counts it: memory stays bounded.
// - force_flush/shutdown take deadlines. A thread stuck in an exporter near
//   the deadline is told to abort (exporter shutdown) and, failing that, left
//   to finish on its own: its state is shared, so nothing dangles.
// - Several exporters: each has a thread of its own and a queue of copies
//   of the batches (max_queue_size spans, at least two batches). The export
//   thread waits for room in every queue, as a single exporter paces it, so
//   the traced threads' queues absorb bursts as usual; but an exporter whose
//   queue stays full for a second (a collector that never answers) is left
//   behind: it loses batches (counted as failed, said once a second) until
//   its queue drains, and no longer holds back the others. A single
//   exporter is called on the export thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
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
#include "background_thread.hpp"
#include "../version.hpp"
#include "compact_span.hpp"
#include "diagnostics.hpp"
#include "record_pool.hpp"
#include "spsc_ring.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

// Names a pipeline for the threads' lane lookup. Never reused, unlike an
// address: a new tracer cannot inherit a dead one's lanes.
STREAMBUS_TRACING_PROCESS_WIDE inline std::uint64_t next_pipeline_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// A class template only so that its cold members (construction, export
// thread, shutdown) are compiled only where used (batch_processor is basic_batch_processor<>).
template <class = void>
class basic_batch_processor {
 public:
  basic_batch_processor(std::vector<std::shared_ptr<span_exporter>> exporters, const resource& res,
                  const instrumentation_scope& scope, std::shared_ptr<diagnostics> diag, const batch_options& options,
                  std::shared_ptr<std::atomic<std::uint64_t>> retries)
      : core_(std::make_shared<core>(std::move(exporters), res, scope, std::move(diag), options, std::move(retries))) {
    // The threads own a reference: if shutdown has to give up on one, it can
    // still finish safely after the tracer is gone.
    core& c = *core_;
    if (c.exporters.size() > 1) {
      try {
        for (auto& e : c.exporters) {
          // The same object listed twice: one thread, two calls per batch
          // (export_spans is called from one thread at a time).
          bool listed = false;
          for (auto& t : c.exporter_threads)
            if (t->exporter == e) listed = (++t->calls_per_batch, true);
          if (listed) continue;
          c.exporter_threads.push_back(std::make_unique<exporter_thread>(e, c.exporter_queue_batches()));
          exporter_thread* t = c.exporter_threads.back().get();
          t->thread = start_background_thread([keep = core_, t] { keep->deliver(*t); });
        }
      } catch (...) {
        c.stop_and_join_exporter_threads();
        throw;
      }
    }
    try {
      worker_ = start_background_thread([keep = core_] { keep->run(); });
    } catch (...) {
      c.stop_and_join_exporter_threads();
      throw;
    }
  }

  basic_batch_processor(const basic_batch_processor&) = delete;
  basic_batch_processor& operator=(const basic_batch_processor&) = delete;
  ~basic_batch_processor() { shutdown(std::chrono::seconds(5)); }

  /// Hot path: one write into this thread's own lane. Takes ownership of the record.
  void on_end(span_data* record) noexcept {
    core& c = *core_;
    record_pool& pool = thread_record_pool();
    span_lane* lane = pool.find_lane(c.id);
    if (lane == nullptr) {
      if (pool.retired()) {  // the thread is past its teardown
        c.deliver_alone(record);
        return;
      }
      lane = c.open_lane(pool);
    }
    // Once the span is queued it counts as ended, and another thread may
    // destroy the tracer, and this core with it: nothing of the core is read
    // after the push (the lane and its signal are this thread's).
    const std::size_t batch_size = c.batch_size;
    const span_lane::queued how = lane != nullptr ? lane->push(record) : span_lane::queued::no;
    switch (how) {
      case span_lane::queued::no:
        if (lane != nullptr)
          lane->count_drop();
        else
          c.unlaned_drops.fetch_add(1, std::memory_order_relaxed);
        pool.release(record);
        return;
      // Its bytes are in the lane: the record stays on this core for the next span.
      case span_lane::queued::as_bytes: pool.recycle_plain(record); break;
      case span_lane::queued::as_record: break;
    }
    const std::size_t pushed = lane->ended.pushed();
    if (pushed - lane->pushed_at_last_wake >= batch_size) {  // once per batch
      lane->pushed_at_last_wake = pushed;
      lane->signal->notify();
    }
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    return core_->flush(deadline);
  }

  bool shutdown(std::chrono::milliseconds timeout) noexcept {
    if (!worker_.joinable()) return true;
    timeout = std::max(timeout, std::chrono::milliseconds(0));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // The last fifth of the time (at most 200 ms) is kept for an exporter
    // stuck in I/O: it is asked to abort, then given that moment.
    const auto grace =
        std::min<std::chrono::steady_clock::duration>(std::chrono::steady_clock::duration(timeout) / 5,
                                                      std::chrono::milliseconds(200));
    core& c = *core_;
    const bool flushed = c.flush(deadline - grace);
    {
      std::lock_guard<std::mutex> lock(c.mutex);
      c.stop = true;
      c.wake.notify_one();
    }
    // The exporters' threads stop once the export thread has handed them its
    // last batch (it stops them as it finishes).
    const auto all_finished = [&](std::chrono::steady_clock::time_point by) {
      return c.wait_finished(by) && c.wait_exporter_threads(by);
    };
    bool finished = all_finished(deadline - grace);
    bool aborted = false;
    if (!finished) {
      // No export may start after an exporter's shutdown (OpenTelemetry):
      // a worker still at it counts the rest as failed instead.
      c.exporters_shut_down.store(true, std::memory_order_release);
      c.for_each_exporter_once([](span_exporter& e) { e.shutdown(std::chrono::milliseconds(0)); });
      aborted = true;
      finished = all_finished(deadline);
    }
    bool worker_finished = finished;
    if (!finished) {
      std::lock_guard<std::mutex> lock(c.mutex);
      worker_finished = c.finished;
    }
    if (worker_finished) {
      worker_.join();
    } else {
      try {
        c.diag->report("export thread did not stop before the shutdown deadline; left to finish on its own, with " +
                       std::to_string(c.unsettled()) + " span(s) not yet exported or failed (stats() counts them "
                       "as they settle)");
      } catch (...) {
      }
      worker_.detach();
    }
    for (auto& t : c.exporter_threads) {
      if (t->has_finished()) {
        t->thread.join();
      } else {
        try {
          c.diag->report("the thread of exporter '" + std::string(t->exporter->name()) +
                         "' did not stop before the shutdown deadline; left to finish on its own");
        } catch (...) {
        }
        t->thread.detach();
      }
    }
    if (finished && !aborted)  // an exporter is shut down once
      c.for_each_exporter_once([&](span_exporter& e) {
        e.shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero())));
      });
    if (finished) {
      // Nothing drains the lanes any more. A span that was ending while
      // shutdown began can still land in its lane after the last drain: it
      // is never exported, so it counts as failed (add_stats), and makes
      // this shutdown's answer false.
      c.settled_for_good.store(true, std::memory_order_release);
      if (c.unsettled() != 0) return false;
    }
    return flushed && finished;
  }

  /// Spans handed to on_end so far: queued or dropped.
  std::uint64_t spans_ended() const noexcept {
    const typename core::lane_totals t = core_->totals();
    return t.pushed + t.dropped;
  }

  void add_stats(tracer_stats& s) const noexcept {
    const core& c = *core_;
    // First: once settled for good, the export counts below are final.
    const bool settled_for_good = c.settled_for_good.load(std::memory_order_acquire);
    const std::uint64_t exported = c.exported.load(std::memory_order_relaxed);
    const std::uint64_t failed = c.failed.load(std::memory_order_relaxed);
    const typename core::lane_totals t = c.totals();
    s.spans_ended += t.pushed + t.dropped;
    s.spans_queued += t.pushed;
    s.spans_dropped += t.dropped;
    s.spans_exported += exported;
    s.spans_failed += failed + (settled_for_good ? core::unsettled(t.pushed, c.exporters.size(), exported, failed) : 0);
    s.export_failures += c.failures.load(std::memory_order_relaxed);
  }

 private:
  // One of several exporters, on a thread of its own (see the top of the file).
  struct exporter_thread {
    exporter_thread(std::shared_ptr<span_exporter> e, std::size_t batches) : exporter(std::move(e)), queue(batches) {}

    bool has_finished() {
      std::lock_guard<std::mutex> lock(mutex);
      return finished;
    }

    const std::shared_ptr<span_exporter> exporter;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable changed;  // a batch queued or exported, room in the queue, stop, finished
    struct queued_batch {
      std::vector<span_data> spans;  // a copy; records and their buffers are reused
      std::size_t count = 0;         // the first `count` are the batch
    };
    std::vector<queued_batch> queue;  // a ring: `waiting` batches from `head`
    std::size_t head = 0;
    std::size_t waiting = 0;
    std::uint64_t handed = 0;         // batches queued so far ...
    std::uint64_t done = 0;           // ... and exported (or failed) so far
    bool behind = false;              // stayed full too long: not waited for until it drains
    unsigned calls_per_batch = 1;     // the exporter's object listed that many times
    std::uint64_t lost = 0;           // worker thread only: spans lost to a full queue ...
    std::uint64_t lost_reported = 0;  // ... and said so far
    bool stop = false;
    bool finished = false;
  };

  struct core {
    core(std::vector<std::shared_ptr<span_exporter>> ex, const resource& res, const instrumentation_scope& sc,
         std::shared_ptr<diagnostics> d, const batch_options& options, std::shared_ptr<std::atomic<std::uint64_t>> r)
        : exporters(std::move(ex)),
          resource_copy(res),
          scope_copy(sc),
          diag(std::move(d)),
          retries(std::move(r)),
          lane_capacity(std::max<std::size_t>(options.max_queue_size, 2)),
          batch_size(std::max<std::size_t>(1, std::min(options.max_export_batch_size, options.max_queue_size))),
          schedule_delay(options.schedule_delay) {}

    ~core() {
      // Threads still holding a lane forget it on their next new lane, or at exit.
      for (auto& lane : lanes) lane->consumer_gone.store(true, std::memory_order_release);
    }

    /// A span ended on a thread past its teardown (its pool retired, see
    /// thread_record_pool): a small lane of its own, closed at once, which
    /// the worker drains and frees like any lane of an exited thread.
    STREAMBUS_TRACING_COLD void deliver_alone(span_data* record) noexcept {
      std::shared_ptr<span_lane> lane;
      try {
        lane = new_lane(2);
      } catch (...) {
        unlaned_drops.fetch_add(1, std::memory_order_relaxed);
        delete record;
        return;
      }
      // As the record, never as bytes, and not through push(): a second
      // caller would get push() and its ring write out of on_end's hot path.
      const auto write = [record](unsigned char* at) noexcept { std::memcpy(at, &record, sizeof record); };
      if (!lane->ended.try_push(sizeof record, span_lane::record_tag, write)) {
        lane->count_drop();
        delete record;
      }
      lane->close();
    }

    /// A lane that the worker drains from now on. May throw.
    std::shared_ptr<span_lane> new_lane(std::size_t capacity) {
      auto lane = std::make_shared<span_lane>(capacity);
      lane->signal = signal;
      std::lock_guard<std::mutex> lock(lanes_mutex);
      lanes.push_back(lane);
      return lane;
    }

    /// Lanes of exited threads that may keep a backlog of their own while the
    /// exporter catches up; past that, new threads take them over.
    static constexpr std::size_t closed_lanes_with_backlog = 8;

    /// A lane whose thread exited, for a new thread to take over (null: open a
    /// new one). An empty one is reused whenever there is one (threads that
    /// come and go then allocate no lane each). One still holding spans is
    /// taken over only when closed_lanes_with_backlog of them wait already:
    /// a short-lived thread's burst is absorbed by its own lane, as a
    /// long-lived thread's, yet the spans held stay bounded by max_queue_size
    /// per thread alive at once, plus that many lanes. Without the bound,
    /// threads per request or per job piled up lanes without limit while an
    /// exporter could not keep up (a collector down, or slow) and dropped
    /// nothing: a soak reached 514 MB after 60 s. The emptiest is taken: the
    /// fewer spans queued ahead of the newcomer's, the fewer it drops. Only
    /// lanes of the normal size (not deliver_alone's).
    std::shared_ptr<span_lane> adopt_closed_lane() noexcept {
      std::lock_guard<std::mutex> lock(lanes_mutex);
      std::shared_ptr<span_lane>* best = nullptr;
      std::size_t best_size = 0, with_backlog = 0;
      for (auto& lane : lanes) {
        if (lane->span_capacity != lane_capacity || !lane->producer_gone.load(std::memory_order_acquire)) continue;
        const std::size_t size = lane->ended.size_approx();
        if (size != 0) ++with_backlog;
        if (best == nullptr || size < best_size) {
          best = &lane;
          best_size = size;
        }
      }
      if (best == nullptr || (best_size != 0 && with_backlog < closed_lanes_with_backlog)) return nullptr;
      // Under lanes_mutex, so the worker cannot retire it meanwhile
      // (snapshot_lanes). The acquire above saw everything the exited thread
      // wrote as its producer and consumer; the new thread takes both roles.
      (*best)->producer_gone.store(false, std::memory_order_release);
      return *best;
    }

    /// Registers a lane for the calling thread; null when memory is exhausted.
    span_lane* open_lane(record_pool& pool) noexcept {
      try {
        std::shared_ptr<span_lane> lane = adopt_closed_lane();
        if (lane == nullptr) lane = new_lane(lane_capacity);
        span_lane* raw = lane.get();
        try {
          pool.add_lane(id, std::move(lane));
        } catch (...) {
          // The pipeline keeps the lane; this thread will not use it again.
          raw->producer_gone.store(true, std::memory_order_release);
          return nullptr;
        }
        return raw;
      } catch (...) {
        return nullptr;
      }
    }

    struct lane_totals {
      std::uint64_t pushed = 0;
      std::uint64_t dropped = 0;
      std::uint64_t waiting = 0;
    };
    lane_totals totals() const noexcept {
      lane_totals t;
      t.dropped = unlaned_drops.load(std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(lanes_mutex);
      t.pushed += retired_pushed;
      t.dropped += retired_dropped;
      for (const auto& lane : lanes) {
        t.pushed += lane->ended.pushed();
        t.dropped += lane->dropped.load(std::memory_order_relaxed);
        t.waiting += lane->ended.size_approx();
      }
      return t;
    }

    void run() noexcept {
      std::vector<span_data*> batch;
      try {
        batch.reserve(batch_size);
        batch_lanes.reserve(batch_size);
      } catch (...) {
      }
      // A zero schedule delay must not spin: poll at most every millisecond.
      const auto delay = std::max(schedule_delay, std::chrono::milliseconds(1));
      // A fixed schedule: wake-ups between (full batches, threads exiting)
      // do not postpone it.
      auto next_scheduled = std::chrono::steady_clock::now() + delay;
      std::uint64_t lanes_closed_seen = 0;
      std::unique_lock<std::mutex> lock(mutex);
      for (;;) {
        wake.wait_until(lock, next_scheduled, [&] {
          wake_pending.store(false, std::memory_order_release);
          return stop || flush_requested > flush_done ||
                 signal->lanes_closed.load(std::memory_order_acquire) != lanes_closed_seen ||
                 waiting_at_least(batch_size);
        });
        // Read before the drain: a thread exiting later is seen next time.
        lanes_closed_seen = signal->lanes_closed.load(std::memory_order_acquire);
        const std::uint64_t flush_target = flush_requested;
        const bool stopping = stop;
        const auto now = std::chrono::steady_clock::now();
        const bool scheduled = now >= next_scheduled;
        // Woken by a full batch (or a thread's exit): export full batches
        // only, so the worker does not chase the traced threads through the
        // lines they are writing (a pass also frees the lanes of threads that
        // exited, once drained). On the schedule or a flush: what is queued
        // now, and no more, or spans ending at any rate during a slow export
        // would keep the worker exporting small batches and a flush from ever
        // completing. On stop: everything.
        const drain_mode mode = stopping                                 ? drain_mode::everything
                                : scheduled || flush_target > flush_done ? drain_mode::queued_now
                                                                         : drain_mode::full_batches;
        if (mode != drain_mode::full_batches) next_scheduled = now + delay;
        lock.unlock();
        clock_resync();  // refine the span clock off the hot path
        drain(batch, mode);
        report_drops(stopping);
        lock.lock();
        if (flush_target > flush_done) {
          flush_done = flush_target;
          flushed.notify_all();
        }
        if (stopping) break;
      }
      stop_exporter_threads();  // after the last batch handed to them
      finished = true;
      flushed.notify_all();
    }

    enum class drain_mode {
      full_batches,  // only while a full batch waits
      queued_now,    // what the lanes hold when the drain starts
      everything,    // until the lanes are empty
    };

    // Worker thread: what waits in the lanes, in batches (see drain_mode).
    // Compact spans are rebuilt into the worker's own records (`scratch`) and
    // leave the lane at once; full records go back to their lane after export
    // for their thread to reset and reuse.
    void drain(std::vector<span_data*>& batch, drain_mode mode) noexcept {
      if (mode == drain_mode::queued_now) {
        snapshot_lanes();
        for (const auto& lane : current) lane->ended.set_mark();  // lanes opened later: mark 0, skipped
      }
      for (;;) {
        snapshot_lanes();
        if (mode == drain_mode::full_batches && (waiting_in_current() < batch_size || asked_for_more())) return;
        batch.clear();
        batch_lanes.clear();
        std::size_t rebuilt = 0;
        const std::size_t n = current.size();
        for (std::size_t k = 0; k < n && batch.size() < batch_size; ++k) {
          span_lane* lane = current[(next_lane + k) % n].get();
          lane->ended.refresh();  // once per pass: see byte_ring::refresh
          std::uint32_t tag = 0;
          while (batch.size() < batch_size && (mode != drain_mode::queued_now || !lane->ended.past_mark())) {
            const unsigned char* p = lane->ended.front(tag);
            if (p == nullptr) break;
            span_data* r = nullptr;
            if (tag == span_lane::compact_tag) {
              r = rebuild(p, rebuilt);
              if (r == nullptr) break;  // out of memory: leave the span queued
              ++rebuilt;
              batch_lanes.push_back(nullptr);
            } else {
              r = span_lane::read_record(p);
              batch_lanes.push_back(lane);
            }
            lane->ended.pop();
            settle_for_export(*r);
            batch.push_back(r);
          }
        }
        if (n > 0) next_lane = (next_lane + 1) % n;  // no lane always goes first
        if (batch.empty()) return;
        export_batch(batch);
        report_drops(false);  // also while an overload lasts, not only once it ends
        for (std::size_t i = 0; i < batch.size(); ++i) {
          // Back as it is: the traced thread clears it (span_data::clear_optional).
          span_data* done = batch[i];
          span_lane* lane = batch_lanes[i];
          if (lane == nullptr) continue;  // one of the worker's own records
          if (lane->producer_gone.load(std::memory_order_acquire) || !lane->returned.try_push(done)) delete done;
        }
      }
    }

    // Worker thread: the i-th compact span of a batch, rebuilt into the
    // worker's i-th own record; null when memory is exhausted.
    span_data* rebuild(const unsigned char* payload, std::size_t i) noexcept {
      try {
        if (i == scratch.size()) scratch.push_back(std::make_unique<span_data>());
        span_data* r = scratch[i].get();
        compact_span::read(payload, *r);
        return r;
      } catch (...) {
        return nullptr;
      }
    }

    // Copies the lane list (the worker's own vector, so registration never
    // waits for an export) and retires lanes whose thread exited and that are
    // drained: their counts move to the retired totals.
    void snapshot_lanes() noexcept {
      std::lock_guard<std::mutex> lock(lanes_mutex);
      for (std::size_t i = 0; i < lanes.size();) {
        span_lane& lane = *lanes[i];
        if (lane.producer_gone.load(std::memory_order_acquire) && lane.ended.size_approx() == 0) {
          retired_pushed += lane.ended.pushed();
          retired_dropped += lane.dropped.load(std::memory_order_relaxed);
          lanes[i] = std::move(lanes.back());
          lanes.pop_back();
        } else {
          ++i;
        }
      }
      try {
        current.assign(lanes.begin(), lanes.end());
      } catch (...) {
        current.clear();  // out of memory: export nothing this round rather than fail
      }
    }

    // Worker thread: spans waiting in the lanes of `current`.
    std::size_t waiting_in_current() const noexcept {
      std::size_t n = 0;
      for (const auto& lane : current) n += lane->ended.size_approx();
      return n;
    }

    // Whether the lanes together hold `count` spans (a full batch may be
    // spread over many threads, or over threads that exited).
    bool waiting_at_least(std::size_t count) const noexcept {
      std::lock_guard<std::mutex> lock(lanes_mutex);
      std::size_t n = 0;
      for (const auto& lane : lanes)
        if ((n += lane->ended.size_approx()) >= count) return true;
      return false;
    }

    // Worker thread, between full batches: a flush or stop is waiting, which
    // run() serves (under a steady overload there is always another batch).
    bool asked_for_more() noexcept {
      std::lock_guard<std::mutex> lock(mutex);
      return stop || flush_requested > flush_done;
    }

    void export_batch(const std::vector<span_data*>& batch) noexcept {
      if (exporters_shut_down.load(std::memory_order_acquire)) {  // shutdown gave up on this thread
        failed.fetch_add(batch.size() * exporters.size(), std::memory_order_relaxed);
        return;
      }
      if (exporter_threads.empty()) {
        for (auto& exporter : exporters) export_to(*exporter, batch.data(), batch.size());
        return;
      }
      // Paced by the slowest exporter that keeps up, as one exporter paces
      // the export thread; one that stays full for a second is left behind.
      const auto patience = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      for (auto& t : exporter_threads) hand_over(*t, batch, patience);
    }

    // One exporter, one batch, on the calling thread; counted and said.
    void export_to(span_exporter& exporter, const span_data* const* spans, std::size_t n) noexcept {
      const span_batch view(resource_copy, scope_copy, spans, n);  // its own rejected tally
      const export_result result = exporter.export_spans(view);
      const export_tally tally = tally_export(view, result);
      exported.fetch_add(tally.exported, std::memory_order_relaxed);
      failed.fetch_add(tally.failed, std::memory_order_relaxed);
      if (result == export_result::failure) {
        failures.fetch_add(1, std::memory_order_relaxed);
        diag->report("exporter '" + std::string(exporter.name()) + "' failed to export " + std::to_string(tally.failed) +
                     " of " + std::to_string(n) + " span(s)");
      }
    }

    // Batches an exporter's queue holds: max_queue_size spans, at least two.
    std::size_t exporter_queue_batches() const noexcept {
      return std::min<std::size_t>(std::max<std::size_t>(2, (lane_capacity + batch_size - 1) / batch_size), 1024);
    }

    // Worker thread: a copy of `batch` into an exporter's queue, unless the
    // queue is full (the exporter is behind: this batch is lost to it).
    void hand_over(exporter_thread& t, const std::vector<span_data*>& batch,
                   std::chrono::steady_clock::time_point patience) noexcept {
      const std::size_t n = batch.size();
      std::unique_lock<std::mutex> lock(t.mutex);
      const auto has_room = [&] { return t.waiting < t.queue.size() || t.finished; };
      if (!t.behind && !has_room() && !t.changed.wait_until(lock, patience, has_room)) t.behind = true;
      if (t.waiting < t.queue.size()) {
        auto& slot = t.queue[(t.head + t.waiting) % t.queue.size()];
        try {
          if (slot.spans.size() < n) slot.spans.resize(n);
          for (std::size_t i = 0; i < n; ++i) slot.spans[i] = *batch[i];
          slot.count = n;
          ++t.waiting;
          ++t.handed;
          t.changed.notify_all();
          return;
        } catch (...) {  // out of memory for the copy: lost like a batch that found the queue full
        }
      }
      lock.unlock();
      // Like spans dropped by a full queue: counted, and said by report_drops.
      failed.fetch_add(n * t.calls_per_batch, std::memory_order_relaxed);
      t.lost += n;
    }

    // An exporter's thread: exports what hand_over() leaves, until stopped
    // with nothing waiting.
    void deliver(exporter_thread& t) noexcept {
      std::vector<span_data> taken;  // the batch being exported
      std::vector<const span_data*> spans;
      std::unique_lock<std::mutex> lock(t.mutex);
      for (;;) {
        t.changed.wait(lock, [&] { return t.waiting != 0 || t.stop; });
        if (t.waiting == 0) break;
        auto& slot = t.queue[t.head];
        const std::size_t n = slot.count;
        taken.swap(slot.spans);  // the slot keeps the previous batch's records for reuse
        t.head = (t.head + 1) % t.queue.size();
        --t.waiting;
        if (t.waiting == 0) t.behind = false;  // caught up: paced by it again
        t.changed.notify_all();  // room in the queue
        lock.unlock();
        unsigned exported_here = 0;
        try {
          spans.resize(n);
          for (std::size_t i = 0; i < n; ++i) spans[i] = &taken[i];
          for (; exported_here < t.calls_per_batch && !exporters_shut_down.load(std::memory_order_acquire);
               ++exported_here)
            export_to(*t.exporter, spans.data(), n);
        } catch (...) {
        }
        failed.fetch_add(n * (t.calls_per_batch - exported_here), std::memory_order_relaxed);
        lock.lock();
        ++t.done;
        t.changed.notify_all();
      }
      t.finished = true;
      t.changed.notify_all();
    }

    // Whether every exporter's thread has exported the batches it had been
    // handed at the call, by `deadline` (not "is idle": under a steady load
    // it never is).
    bool wait_exporter_threads_caught_up(std::chrono::steady_clock::time_point deadline) noexcept {
      bool all = true;
      for (auto& t : exporter_threads) {
        std::unique_lock<std::mutex> lock(t->mutex);
        const std::uint64_t target = t->handed;
        all = t->changed.wait_until(lock, deadline, [&] { return t->done >= target; }) && all;
      }
      return all;
    }
    bool exporter_threads_finished() noexcept {
      for (auto& t : exporter_threads)
        if (!t->has_finished()) return false;
      return true;
    }

    void stop_exporter_threads() noexcept {
      for (auto& t : exporter_threads) {
        std::lock_guard<std::mutex> lock(t->mutex);
        t->stop = true;
        t->changed.notify_all();
      }
    }

    // A constructor that failed part-way: no thread may outlive it.
    void stop_and_join_exporter_threads() noexcept {
      stop_exporter_threads();
      for (auto& t : exporter_threads)
        if (t->thread.joinable()) t->thread.join();
    }

    bool wait_exporter_threads(std::chrono::steady_clock::time_point deadline) noexcept {
      bool all = true;
      for (auto& t : exporter_threads) {
        std::unique_lock<std::mutex> lock(t->mutex);
        all = t->changed.wait_until(lock, deadline, [&] { return t->finished; }) && all;
      }
      return all;
    }

    // True when everything queued before the call was exported without a
    // failed export meanwhile, and the exporters flushed, all by `deadline`.
    bool flush(std::chrono::steady_clock::time_point deadline) noexcept {
      std::unique_lock<std::mutex> lock(mutex);
      if (finished) return totals().waiting == 0 && exporter_threads_finished();
      const std::uint64_t failures_before = failures.load(std::memory_order_relaxed);
      const std::uint64_t target = ++flush_requested;
      wake.notify_one();
      bool done = flushed.wait_until(lock, deadline, [&] { return flush_done >= target || finished; });
      lock.unlock();
      done = done && wait_exporter_threads_caught_up(deadline);  // their copies exported too
      bool ok = done;
      if (done) {
        for_each_exporter_once([&](span_exporter& e) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero()));
          ok = e.force_flush(left) && ok;
        });
      }
      // A batch refused while flushing (by the worker's thread, before it
      // set flush_done: ordered by the mutex) makes the flush a failure.
      return ok && failures.load(std::memory_order_relaxed) == failures_before;
    }

    bool wait_finished(std::chrono::steady_clock::time_point deadline) noexcept {
      std::unique_lock<std::mutex> lock(mutex);
      return flushed.wait_until(lock, deadline, [&] { return finished; });
    }

    // Drops are counted on the hot path and reported here, off it, at most
    // once a second (a sink of the user's own is not rate-limited) unless
    // `now` (the last pass). Those of a thread that could not allocate its
    // queue are told apart: raising the queue size would not help there.
    void report_drops(bool now) noexcept {
      const auto at = std::chrono::steady_clock::now();
      if (!now && at < next_drop_report) return;
      bool said = false;
      for (auto& t : exporter_threads) {
        if (t->lost == t->lost_reported) continue;
        said = true;
        try {
          diag->report("exporter '" + std::string(t->exporter->name()) + "' is behind: its queue of batches was full, " +
                       std::to_string(t->lost - t->lost_reported) + " span(s) not delivered to it");
        } catch (...) {
        }
        t->lost_reported = t->lost;
      }
      if (said) next_drop_report = at + std::chrono::seconds(1);
      // Unlaned first: totals(), read after, counts at least as many of them.
      const std::uint64_t now_unlaned = unlaned_drops.load(std::memory_order_relaxed);
      const std::uint64_t now_dropped = totals().dropped;
      if (now_dropped == reported_drops) return;
      const std::uint64_t unlaned = now_unlaned - reported_unlaned;
      const std::uint64_t full = now_dropped - reported_drops - unlaned;
      try {
        if (full > 0)
          diag->report("export queue full: " + std::to_string(full) +
                       " span(s) dropped (see tracer::stats(); raise OTEL_BSP_MAX_QUEUE_SIZE or lower the span rate)");
        if (unlaned > 0)
          diag->report("out of memory: " + std::to_string(unlaned) +
                       " span(s) dropped by threads that could not allocate their export queue");
      } catch (...) {
      }
      reported_drops = now_dropped;
      reported_unlaned = now_unlaned;
      next_drop_report = at + std::chrono::seconds(1);
    }

    std::vector<std::shared_ptr<span_exporter>> exporters;
    std::vector<std::unique_ptr<exporter_thread>> exporter_threads;  // one per exporter when there are several
    resource resource_copy;
    instrumentation_scope scope_copy;
    std::shared_ptr<diagnostics> diag;
    std::shared_ptr<std::atomic<std::uint64_t>> retries;

    // One lane per traced thread. `lanes` is shared (registration, stats);
    // the worker exports from its snapshot `current`.
    const std::uint64_t id = next_pipeline_id();
    const std::size_t lane_capacity;
    mutable std::mutex lanes_mutex;
    std::vector<std::shared_ptr<span_lane>> lanes;
    std::uint64_t retired_pushed = 0;   // lanes retired from `lanes` (guarded by lanes_mutex)
    std::uint64_t retired_dropped = 0;
    std::atomic<std::uint64_t> unlaned_drops{0};  // no lane could be made (out of memory)
    std::vector<std::shared_ptr<span_lane>> current;  // worker only
    std::vector<span_lane*> batch_lanes;              // worker only (null: a rebuilt compact span)
    std::vector<std::unique_ptr<span_data>> scratch;  // worker only: records for compact spans
    std::size_t next_lane = 0;                        // worker only
    const std::size_t batch_size;
    const std::chrono::milliseconds schedule_delay;

    // The worker waits on the signal (shared with the lanes, see open_lane).
    const std::shared_ptr<pipeline_signal> signal = std::make_shared<pipeline_signal>();
    std::mutex& mutex = signal->mutex;
    std::condition_variable& wake = signal->wake;
    std::atomic<bool>& wake_pending = signal->wake_pending;
    std::condition_variable flushed;  // flush/shutdown callers wait here
    std::atomic<bool> exporters_shut_down{false};  // shutdown aborted them: export no more
    std::uint64_t reported_drops = 0;  // worker thread only
    std::uint64_t reported_unlaned = 0;  // worker thread only
    std::chrono::steady_clock::time_point next_drop_report{};  // worker thread only
    bool stop = false;
    bool finished = false;
    std::uint64_t flush_requested = 0;
    std::uint64_t flush_done = 0;

    std::atomic<std::uint64_t> exported{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> failures{0};
    // Set by shutdown once every export thread finished: spans queued but
    // not yet exported or failed never will be.
    std::atomic<bool> settled_for_good{false};

    // Queued spans times the export calls each gets, less those settled
    // (exported or failed): what is still on its way.
    static std::uint64_t unsettled(std::uint64_t pushed, std::size_t calls, std::uint64_t exported,
                                   std::uint64_t failed) noexcept {
      const std::uint64_t due = pushed * calls, settled = exported + failed;
      return due > settled ? due - settled : 0;
    }
    std::uint64_t unsettled() const noexcept {
      const std::uint64_t e = exported.load(std::memory_order_acquire), f = failed.load(std::memory_order_acquire);
      return unsettled(totals().pushed, exporters.size(), e, f);
    }
    // f(exporter) once per exporter object, even one listed twice.
    template <class F>
    void for_each_exporter_once(F&& f) const {
      for (std::size_t i = 0; i < exporters.size(); ++i) {
        bool listed_before = false;
        for (std::size_t j = 0; j < i; ++j) listed_before = listed_before || exporters[j] == exporters[i];
        if (!listed_before) f(*exporters[i]);
      }
    }
  };

  std::shared_ptr<core> core_;
  std::thread worker_;
};
using batch_processor = basic_batch_processor<>;

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
