// Recycling of span records, and each thread's lanes to the export threads,
// so steady-state spans neither touch the heap nor a shared queue.
//
// A sampled span takes a record from its thread's free list. When it ends,
// the record goes out on the thread's lane to that tracer's export thread (a
// single-producer ring no other thread writes); after export it comes back
// on the same lane's return ring and the thread resets it into its free list
// (the export thread only reads records, so their cache lines need not move
// back and forth between cores). Records released on their own thread (synchronous export, no
// exporter) go straight back to the free list. Everything is bounded: beyond
// the bounds records are deleted, so memory follows the peak, not the total.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../span_data.hpp"
#include "../version.hpp"
#include "spsc_ring.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

/// One traced thread's path to one export thread and back.
struct span_lane {
  explicit span_lane(std::size_t capacity) : ended(capacity), returned(capacity) {}
  span_lane(const span_lane&) = delete;
  span_lane& operator=(const span_lane&) = delete;
  ~span_lane() {
    // Whatever was never exported or never taken back (a tracer shut down, a
    // thread gone) is freed with the lane.
    span_data* r = nullptr;
    while (ended.try_pop(r)) delete r;
    while (returned.try_pop(r)) delete r;
  }

  spsc_ring<span_data*> ended;     // traced thread -> export thread
  spsc_ring<span_data*> returned;  // export thread -> traced thread, records as exported
  std::atomic<std::uint64_t> dropped{0};  // written by the traced thread only
  std::size_t pushed_at_last_wake = 0;    // traced thread only
  std::atomic<bool> producer_gone{false};  // the traced thread exited
  std::atomic<bool> consumer_gone{false};  // the tracer's export pipeline is gone

  /// Counts a span turned away by a full lane (single writer: no RMW needed).
  void count_drop() noexcept { dropped.store(dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

class record_pool {
 public:
  static constexpr std::size_t max_cached = 256;
  static constexpr std::size_t refill_batch = 64;
  static constexpr std::size_t prefetch_distance = 4;

  record_pool() = default;
  record_pool(const record_pool&) = delete;
  record_pool& operator=(const record_pool&) = delete;
  ~record_pool() {
    for (span_data* r : free_) delete r;
    for (auto& e : lanes_) e.lane->producer_gone.store(true, std::memory_order_release);
  }

  span_data* acquire() {
    if (free_.empty()) refill();
    if (free_.empty()) return new span_data();
    span_data* r = free_.back();
    free_.pop_back();
    // The records ahead were most likely just read by the export thread on
    // the other core: start claiming the two lines a span writes (see
    // span_data) a few spans early, so a start does not wait for them. Four
    // ahead measured best when the two cores are far apart (66 vs 74 ns per
    // span at one ahead; the same 34 ns when they are close).
#if defined(__GNUC__) || defined(__clang__)
    if (free_.size() >= prefetch_distance) {
      const char* ahead = reinterpret_cast<const char*>(free_[free_.size() - prefetch_distance]);
      __builtin_prefetch(ahead, 1);
      __builtin_prefetch(ahead + 64, 1);
    }
#endif
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
    r->clear_optional();  // see free_
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

  /// This thread's lane to the export pipeline `pipeline_id`, or null.
  span_lane* find_lane(std::uint64_t pipeline_id) noexcept {
    if (pipeline_id == last_id_) return last_lane_;
    for (const auto& e : lanes_) {
      if (e.id == pipeline_id) {
        last_id_ = pipeline_id;
        last_lane_ = e.lane.get();
        return last_lane_;
      }
    }
    return nullptr;
  }

  /// Keeps a new lane; forgets lanes of pipelines that are gone. May throw.
  void add_lane(std::uint64_t pipeline_id, std::shared_ptr<span_lane> lane) {
    for (std::size_t i = 0; i < lanes_.size();) {
      if (lanes_[i].lane->consumer_gone.load(std::memory_order_acquire)) {
        take_back(*lanes_[i].lane);
        lanes_[i] = std::move(lanes_.back());
        lanes_.pop_back();
      } else {
        ++i;
      }
    }
    last_id_ = 0;
    last_lane_ = nullptr;
    lanes_.push_back(lane_entry{pipeline_id, std::move(lane)});
  }

 private:
  struct lane_entry {
    std::uint64_t id;
    std::shared_ptr<span_lane> lane;
  };

  void refill() noexcept {
    try {
      free_.reserve(max_cached);
    } catch (...) {
      return;
    }
    for (const auto& e : lanes_) {
      take_back(*e.lane);
      if (!free_.empty()) return;
    }
  }

  // Moves returned records into the free list, reset (capacity reserved: no throw).
  void take_back(span_lane& lane) noexcept {
    span_data* r = nullptr;
    while (free_.size() < free_.capacity() && free_.size() < refill_batch && lane.returned.try_pop(r)) {
      r->clear_optional();  // see free_
      free_.push_back(r);
    }
  }

  // Records ready for a span. Their optional parts are blank; ids, name,
  // kind and times still hold the last span's, which every span start
  // overwrites (not clearing them spares the cache lines the export thread
  // wrote last).
  std::vector<span_data*> free_;
  std::vector<lane_entry> lanes_;
  std::uint64_t last_id_ = 0;  // pipeline ids start at 1
  span_lane* last_lane_ = nullptr;
};

inline record_pool& thread_record_pool() noexcept {
  thread_local record_pool pool;
  return pool;
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
