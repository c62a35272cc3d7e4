// Synchronous delivery: exporters that want every span as it ends (console,
// in-memory) get it on the ending thread, under a mutex. Fine for tests and
// development; network exporters go through the batch processor instead.
//
// An exporter, or a diagnostic sink it makes report, may call back into the
// tracer on the same thread while that mutex is held: a span it starts and
// ends, stats(), force_flush(), shutdown(). Those must not lock it again (a
// deadlock for good): a span ended there is not exported (counted as
// dropped, reported once), stats are read as they are, a flush or shutdown
// from inside returns false.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../exporter.hpp"
#include "../span_data.hpp"
#include "../stats.hpp"
#include "../version.hpp"
#include "diagnostics.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

// The synchronous deliveries in progress on this thread, innermost first (a
// list: an exporter of one tracer may end spans of another). Outside the class
// template: a member of a template cannot be given process-wide visibility.
struct sync_delivery_frame {
  const void* owner;
  sync_delivery_frame* outer;
};
STREAMBUS_TRACING_PROCESS_WIDE inline sync_delivery_frame*& innermost_sync_delivery() noexcept {
  thread_local sync_delivery_frame* top = nullptr;
  return top;
}

// A class template only so that its cold members (construction, export
// thread, shutdown) are compiled only where used (sync_delivery is basic_sync_delivery<>).
template <class = void>
class basic_sync_delivery {
 public:
  basic_sync_delivery(std::vector<std::shared_ptr<span_exporter>> exporters, const resource& res,
                const instrumentation_scope& scope, std::shared_ptr<diagnostics> diag)
      : exporters_(std::move(exporters)), resource_(res), scope_(scope), diag_(std::move(diag)) {}

  bool empty() const noexcept { return exporters_.empty(); }

  /// Exports one ended span; the caller keeps ownership of the record.
  void deliver(const span_data& record) noexcept {
    if (delivering_here()) {
      dropped_inside_.fetch_add(1, std::memory_order_relaxed);
      if (!told_inside_.exchange(true)) {  // once: the report may itself come back here
        try {
          diag_->report(
              "a span ended on the thread of a synchronous exporter's call (an exporter or diagnostic sink that "
              "creates spans) is not exported: it would wait for that call to finish");
        } catch (...) {
        }
      }
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    const frame here(this);
    if (shut_down_) {  // it was ending while shutdown began: ended, and not exported
      ++ended_;
      failed_ += exporters_.size();
      return;
    }
    const span_data* one[1] = {&record};
    ++ended_;
    for (auto& exporter : exporters_) {
      const span_batch batch(resource_, scope_, one, 1);  // its own rejected tally
      const export_result result = exporter->export_spans(batch);
      const export_tally tally = tally_export(batch, result);
      exported_ += tally.exported;
      failed_ += tally.failed;
      if (result == export_result::failure) {
        ++failures_;
        try {
          diag_->report("exporter '" + std::string(exporter->name()) + "' failed to export a span");
        } catch (...) {
        }
      }
    }
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept {
    if (delivering_here()) return false;  // from inside an export: it cannot wait for itself
    std::lock_guard<std::mutex> lock(mutex_);
    bool ok = true;
    for (auto& exporter : exporters_) ok = exporter->force_flush(timeout) && ok;
    return ok;
  }

  bool shutdown(std::chrono::milliseconds timeout) noexcept {
    if (delivering_here()) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return true;
    shut_down_ = true;
    bool ok = true;
    for (auto& exporter : exporters_) {
      ok = exporter->force_flush(timeout) && ok;
      exporter->shutdown(timeout);
    }
    return ok;
  }

  void add_stats(tracer_stats& s, bool count_ended) noexcept {
    // From inside an export this thread holds the mutex already: the
    // counters cannot change under it.
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    if (!delivering_here()) lock.lock();
    if (count_ended) {  // synchronous exporters only (else the batch pipeline counts the ends)
      const std::uint64_t dropped = dropped_inside_.load(std::memory_order_relaxed);
      s.spans_ended += ended_ + dropped;
      s.spans_dropped += dropped;
    }
    s.spans_exported += exported_;
    s.spans_failed += failed_;
    s.export_failures += failures_;
  }

 private:
  // This delivery, on this thread's list while it exports.
  struct frame : sync_delivery_frame {
    explicit frame(const basic_sync_delivery* d) noexcept : sync_delivery_frame{d, innermost_sync_delivery()} {
      innermost_sync_delivery() = this;
    }
    ~frame() { innermost_sync_delivery() = outer; }
    frame(const frame&) = delete;
    frame& operator=(const frame&) = delete;
  };

  bool delivering_here() const noexcept {
    for (const sync_delivery_frame* f = innermost_sync_delivery(); f != nullptr; f = f->outer)
      if (f->owner == this) return true;
    return false;
  }

  std::mutex mutex_;
  std::vector<std::shared_ptr<span_exporter>> exporters_;
  const resource& resource_;
  const instrumentation_scope& scope_;
  std::shared_ptr<diagnostics> diag_;
  bool shut_down_ = false;
  std::uint64_t ended_ = 0;
  std::uint64_t exported_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t failures_ = 0;
  std::atomic<std::uint64_t> dropped_inside_{0};  // spans ended inside an export on its thread
  std::atomic<bool> told_inside_{false};
};
using sync_delivery = basic_sync_delivery<>;

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
