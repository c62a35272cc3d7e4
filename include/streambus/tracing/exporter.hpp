// Exporters: where finished spans go. An exporter runs off the traced
// threads' hot path and sees batches of spans sharing one resource and scope.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string_view>
#include <vector>

#include "span_data.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

enum class export_result : std::uint8_t { success, failure };

/// A read-only view of spans to export; valid only during export_spans().
class span_batch {
 public:
  span_batch(const streambus::tracing::resource& res, const instrumentation_scope& scope,
             const span_data* const* spans, std::size_t count) noexcept
      : resource_(&res), scope_(&scope), spans_(spans), count_(count) {}

  const streambus::tracing::resource& resource() const noexcept { return *resource_; }
  const instrumentation_scope& scope() const noexcept { return *scope_; }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  const span_data& operator[](std::size_t i) const noexcept { return *spans_[i]; }

  class iterator {
   public:
    explicit iterator(const span_data* const* p) noexcept : p_(p) {}
    const span_data& operator*() const noexcept { return **p_; }
    const span_data* operator->() const noexcept { return *p_; }
    iterator& operator++() noexcept {
      ++p_;
      return *this;
    }
    friend bool operator==(iterator a, iterator b) noexcept { return a.p_ == b.p_; }
    friend bool operator!=(iterator a, iterator b) noexcept { return a.p_ != b.p_; }

   private:
    const span_data* const* p_;
  };
  iterator begin() const noexcept { return iterator(spans_); }
  iterator end() const noexcept { return iterator(spans_ + count_); }

  /// For an exporter that delivers only part of the batch (a split request
  /// that failed half-way, a collector's OTLP partial_success): counts `n`
  /// of its spans as not delivered. The tracer's stats then count these in
  /// spans_failed and the rest in spans_exported, whatever export_spans()
  /// returns. Without a call, a failure counts the whole batch as failed.
  void count_rejected(std::size_t n) const noexcept { rejected_ = n >= count_ - rejected_ ? count_ : rejected_ + n; }
  /// The spans counted as not delivered so far (at most size()).
  std::size_t rejected() const noexcept { return rejected_; }

 private:
  const streambus::tracing::resource* resource_;
  const instrumentation_scope* scope_;
  const span_data* const* spans_;
  std::size_t count_;
  mutable std::size_t rejected_ = 0;  // a view's own tally, written by the exporter it is handed to
};

namespace detail {

/// A caller's timeout, made safe to add to a clock's now() and to convert to
/// nanoseconds: milliseconds::max() ("wait forever") overflowed both (UB,
/// and in practice no wait at all). 100 years is forever enough.
inline std::chrono::milliseconds bounded_timeout(std::chrono::milliseconds timeout) noexcept {
  constexpr std::chrono::milliseconds longest = std::chrono::hours(24 * 365 * 100);
  return timeout > longest ? longest : timeout;
}

/// How one export call splits a batch into delivered and failed spans (see
/// span_batch::count_rejected).
struct export_tally {
  std::size_t exported = 0;
  std::size_t failed = 0;
};
inline export_tally tally_export(const span_batch& batch, export_result result) noexcept {
  const std::size_t failed =
      result == export_result::failure && batch.rejected() == 0 ? batch.size() : batch.rejected();
  return {batch.size() - failed, failed};
}

}  // namespace detail

/// Implement this to send spans somewhere. The tracer calls export_spans()
/// from one thread at a time; it must not throw (report failures by result).
class span_exporter {
 public:
  virtual ~span_exporter() = default;
  virtual export_result export_spans(const span_batch& batch) noexcept = 0;
  virtual bool force_flush(std::chrono::milliseconds /*timeout*/) noexcept { return true; }
  virtual void shutdown(std::chrono::milliseconds /*timeout*/) noexcept {}
  /// Short name for diagnostics, e.g. "otlp".
  virtual std::string_view name() const noexcept = 0;
  /// True: receive each span on the thread that ends it, as it ends (for
  /// debugging and tests). False (the default): receive batches on the
  /// background export thread, which is what network exporters want.
  virtual bool synchronous() const noexcept { return false; }
};

/// Keeps copies of every exported span in memory: for tests, yours and ours.
/// A class template only so that its members (span copies) are compiled
/// where it is used (in_memory_exporter is basic_in_memory_exporter<>).
template <class = void>
class basic_in_memory_exporter final : public span_exporter {
 public:
  /// synchronous = false puts it behind the batch pipeline like a network
  /// exporter (then use tracer::force_flush() or wait_for() before reading).
  explicit basic_in_memory_exporter(bool synchronous = true) noexcept : synchronous_(synchronous) {}

  export_result export_spans(const span_batch& batch) noexcept override {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      resource_ = batch.resource();
      for (const span_data& span : batch) spans_.push_back(span);
      changed_.notify_all();
      return export_result::success;
    } catch (...) {
      return export_result::failure;
    }
  }
  std::string_view name() const noexcept override { return "memory"; }
  bool synchronous() const noexcept override { return synchronous_; }

  /// A snapshot of the spans exported so far, in end order.
  std::vector<span_data> spans() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_;
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_.size();
  }
  /// The resource of the most recent batch.
  resource last_resource() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return resource_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    spans_.clear();
  }
  /// Waits until at least n spans arrived; false on timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, detail::bounded_timeout(timeout), [&] { return spans_.size() >= n; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<span_data> spans_;
  resource resource_;
  bool synchronous_;
};
using in_memory_exporter = basic_in_memory_exporter<>;

STREAMBUS_TRACING_END_NAMESPACE
