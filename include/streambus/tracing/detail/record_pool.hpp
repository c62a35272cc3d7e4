// Recycling of span records, so steady-state spans do not touch the heap.
//
// A sampled span takes a record from its thread's free list and the export
// side gives it back (cleared, buffers kept). Records released on the thread
// that uses them (synchronous export) stay in that thread's list; records
// released by the export thread go to a shared lock-free recycling queue that
// producer threads refill from in small batches. Both are bounded: beyond
// them records are deleted, so memory follows the peak, not the total.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "../span_data.hpp"
#include "../version.hpp"
#include "bounded_queue.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

/// Records given back by export threads, waiting for a producer to reuse them.
class record_recycler {
 public:
  static constexpr std::size_t capacity = 8192;

  record_recycler() : queue_(capacity) {}
  ~record_recycler() {
    span_data* r = nullptr;
    while (queue_.try_pop(r)) delete r;
  }

  /// Takes ownership; the record is reset here, off the producers' hot path.
  void give(span_data* r) noexcept {
    r->reset();
    if (!queue_.try_push(r)) delete r;
  }
  span_data* take() noexcept {
    span_data* r = nullptr;
    return queue_.try_pop(r) ? r : nullptr;
  }

 private:
  bounded_queue<span_data*> queue_;
};

inline record_recycler& shared_recycler() {
  static record_recycler recycler;
  return recycler;
}

class record_pool {
 public:
  static constexpr std::size_t max_cached = 256;
  static constexpr std::size_t refill_batch = 32;

  ~record_pool() {
    for (span_data* r : free_) delete r;
  }

  span_data* acquire() {
    if (free_.empty()) refill();
    if (free_.empty()) return new span_data();
    span_data* r = free_.back();
    free_.pop_back();
    return r;
  }

  /// Like acquire(), but null instead of throwing when memory is exhausted.
  span_data* acquire_or_null() noexcept {
    try {
      return acquire();
    } catch (...) {
      return nullptr;
    }
  }

  void release(span_data* r) noexcept {
    if (r == nullptr) return;
    r->reset();
    if (free_.size() >= max_cached) {
      delete r;
      return;
    }
    try {
      free_.push_back(r);
    } catch (...) {
      delete r;
    }
  }

  std::size_t cached() const noexcept { return free_.size(); }

 private:
  void refill() noexcept {
    try {
      free_.reserve(max_cached);
    } catch (...) {
      return;
    }
    auto& recycler = shared_recycler();
    for (std::size_t i = 0; i < refill_batch; ++i) {
      span_data* r = recycler.take();
      if (r == nullptr) break;
      free_.push_back(r);  // capacity reserved above: cannot throw
    }
  }

  std::vector<span_data*> free_;
};

inline record_pool& thread_record_pool() noexcept {
  thread_local record_pool pool;
  return pool;
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
