// Recycling of span records, so steady-state spans do not touch the heap.
//
// Each thread keeps a bounded free list. A record is taken when a sampled
// span starts and given back (cleared, buffers kept) by whoever finishes with
// it; with the synchronous processor that is the thread that ended the span.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "../span_data.hpp"
#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class record_pool {
 public:
  static constexpr std::size_t max_cached = 256;

  ~record_pool() {
    for (span_data* r : free_) delete r;
  }

  span_data* acquire() {
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
  std::vector<span_data*> free_;
};

inline record_pool& thread_record_pool() noexcept {
  thread_local record_pool pool;
  return pool;
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
