// Recycling of span records, and each thread's lanes to the export threads,
// so steady-state spans neither touch the heap nor a shared queue.
//
// A sampled span takes a record from its thread's free list. When it ends,
// it goes out on the thread's lane to that tracer's export thread (a
// single-producer ring no other thread writes): as compact bytes when it
// recorded nothing optional (compact_span.hpp; the record is reused at once,
// still in this core's cache), otherwise as the record itself, which comes
// back after export on the lane's return ring for the thread to reset into
// its free list (the export thread only reads records). Records released on
// their own thread (synchronous export, no exporter) go straight back to the
// free list. Everything is bounded: beyond the bounds records are deleted,
// so memory follows the peak, not the total.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "../span_data.hpp"
#include "../version.hpp"
#include "byte_ring.hpp"
#include "compact_span.hpp"
#include "prefetch.hpp"
#include "random.hpp"
#include "spsc_ring.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

/// The wake-up an export thread waits on. Shared by its pipeline and the
/// pipeline's lanes: a thread that exits after its tracer is gone still has
/// something to notify.
struct pipeline_signal {
  std::mutex mutex;
  std::condition_variable wake;
  std::atomic<bool> wake_pending{false};
  std::atomic<std::uint64_t> lanes_closed{0};  // by threads that exited
  // A fork()ed child's threads must not notify: the parent's export thread
  // (absent there) may have held the mutex at the fork.
  const std::uint32_t fork_generation = [] {
    register_fork_handler();
    return detail::fork_generation().load();
  }();
  bool in_forked_child() const noexcept { return fork_generation != detail::fork_generation().load(); }

  /// Wakes the export thread, once per wait however many ask.
  void notify() noexcept {
    if (!wake_pending.exchange(true, std::memory_order_acq_rel)) {
      // Under the mutex, so the wake-up cannot fall between the worker's check and its wait.
      std::lock_guard<std::mutex> lock(mutex);
      wake.notify_one();
    }
  }
};

/// One traced thread's path to one export thread and back.
struct span_lane {
  /// What a record in `ended` holds.
  static constexpr std::uint32_t compact_tag = 1;  // a compact_span payload
  static constexpr std::uint32_t record_tag = 2;   // a span_data* (owned)
  /// Bytes of `ended` per span it may hold: a compact span with a name of up
  /// to 64 bytes takes at most 128 (8 frame + 56 fixed + name, 8-aligned).
  static constexpr std::size_t bytes_per_span = 128;
  /// Small queues still take the largest compact span (byte_ring::max_payload).
  static constexpr std::size_t min_ring_bytes = 4096;
  static_assert(min_ring_bytes / 4 - byte_ring::frame_size >= compact_span::fixed_size + compact_span::max_name + 7,
                "the smallest lane takes the largest compact span");

  /// `capacity`: spans (at most batch_options::max_queue_size_limit).
  /// The return ring takes twice that: every record away from its thread is
  /// in the lane (at most `capacity`) or in the batch being exported (at most
  /// the batch size, which config keeps within the queue size), so all of
  /// them fit when they come back. A ring of `capacity` overflowed whenever
  /// the export thread had fallen behind, and each record it then deleted
  /// was rebuilt later by its thread (8 allocations each): case 2 of bench/
  /// averaged 0.0017 allocations per span.
  explicit span_lane(std::size_t capacity)
      : ended(std::max(capacity * bytes_per_span, min_ring_bytes), capacity),
        returned(2 * capacity),
        span_capacity(capacity) {}
  span_lane(const span_lane&) = delete;
  span_lane& operator=(const span_lane&) = delete;
  ~span_lane() {
    // Whatever was never exported or never taken back (a tracer shut down, a
    // thread gone) is freed with the lane.
    std::uint32_t tag = 0;
    ended.refresh();
    while (const unsigned char* p = ended.front(tag)) {
      if (tag == record_tag) delete read_record(p);
      ended.pop();
    }
    span_data* r = nullptr;
    while (returned.try_pop(r)) delete r;
  }

  /// How push() queued a span.
  enum class queued { no, as_record, as_bytes };

  /// Producer: queues an ended span: as bytes when it recorded nothing
  /// optional (the caller keeps the record), else as the record (which then
  /// belongs to the lane). `no` when the lane is full (the caller keeps it).
  queued push(span_data* r) noexcept {
    if (const std::size_t size = compact_span::measure(*r); size != 0)
      return ended.try_push(size, compact_tag, [r](unsigned char* at) noexcept { compact_span::write(*r, at); })
                 ? queued::as_bytes
                 : queued::no;
    return ended.try_push(sizeof r, record_tag, [r](unsigned char* at) noexcept { std::memcpy(at, &r, sizeof r); })
               ? queued::as_record
               : queued::no;
  }

  static span_data* read_record(const unsigned char* p) noexcept {
    span_data* r = nullptr;
    std::memcpy(&r, p, sizeof r);
    return r;
  }

  byte_ring ended;                 // traced thread -> export thread: compact spans and records
  spsc_ring<span_data*> returned;  // export thread -> traced thread, records as exported
  std::atomic<std::uint64_t> dropped{0};  // written by the traced thread only
  std::size_t pushed_at_last_wake = 0;    // traced thread only
  std::atomic<bool> producer_gone{false};  // the traced thread exited
  std::atomic<bool> consumer_gone{false};  // the tracer's export pipeline is gone
  std::shared_ptr<pipeline_signal> signal;  // told when the traced thread exits
  const std::size_t span_capacity;         // spans, as constructed

  /// The traced thread is done with the lane: the export thread frees it
  /// once drained. Told now, not at its next schedule, or threads that come
  /// and go would pile lanes up.
  void close() noexcept {
    producer_gone.store(true, std::memory_order_release);
    if (pipeline_signal* s = signal.get(); s != nullptr && !s->in_forked_child()) {
      s->lanes_closed.fetch_add(1, std::memory_order_release);
      s->notify();
    }
  }

  /// Counts a span turned away by a full lane (single writer: no RMW needed).
  void count_drop() noexcept { dropped.store(dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

class record_pool {
 public:
  static constexpr std::size_t max_cached = 256;
  static constexpr std::size_t refill_batch = 64;
  static constexpr std::size_t prefetch_distance = 4;

  record_pool() = default;
  /// The pool of threads whose own pool is gone (see thread_record_pool):
  /// shared, so it keeps nothing: records come from new and go to delete.
  struct retired_tag {};
  explicit record_pool(retired_tag) noexcept : retired_(true) {}
  record_pool(const record_pool&) = delete;
  record_pool& operator=(const record_pool&) = delete;
  ~record_pool() {
    delete hot_;
    for (span_data* r : free_) delete r;
    for (auto& e : lanes_) e.lane->close();
  }

  STREAMBUS_TRACING_ALWAYS_INLINE span_data* acquire() {  // hot: GCC once left it out of line (+6 a span)
    if (span_data* r = hot_) {
      hot_ = nullptr;
      return r;
    }
    if (free_.empty() && !refill()) return new span_data();
    span_data* r = free_.back();
    free_.pop_back();
    // Records that went to the export thread (spans with attributes and the
    // like) were just read on the other core: start claiming the two lines a
    // span writes (see span_data) a few spans early, so a start does not wait
    // for them. Four ahead measured best when the two cores are far apart (66
    // vs 74 ns per span at one ahead; the same 34 ns when they are close).
    if (free_.size() >= prefetch_distance) {
      const char* ahead = reinterpret_cast<const char*>(free_[free_.size() - prefetch_distance]);
      prefetch_for_write(ahead);
      prefetch_for_write(ahead + 64);
    }
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
    if (free_.size() >= max_cached || retired_) {
      delete r;
      return;
    }
    try {
      free_.push_back(r);
    } catch (...) {
      delete r;
    }
  }

  /// Takes back a record whose span went out as compact bytes (it recorded
  /// nothing optional but a status code): the next span gets it, still in
  /// this core's cache, with no list to go through.
  void recycle_plain(span_data* r) noexcept {
    if (r->status != status_code::unset) r->status = status_code::unset;
    r->stack_ref.reset();
    if (hot_ == nullptr) {
      hot_ = r;
      return;
    }
    release(r);
  }

  std::size_t cached() const noexcept { return free_.size() + (hot_ != nullptr ? 1 : 0); }
  /// The shared pool of threads past their teardown: it has no lanes (a span
  /// ended there goes out through a lane of its own, see batch_processor).
  bool retired() const noexcept { return retired_; }

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

  // Takes records back from the lanes; false if none came (or retired:
  // the shared pool keeps none). Out of line: the rare case of acquire().
  STREAMBUS_TRACING_NOINLINE bool refill() noexcept {
    if (retired_) return false;
    try {
      free_.reserve(max_cached);
    } catch (...) {
      return false;
    }
    for (const auto& e : lanes_) {
      take_back(*e.lane);
      if (!free_.empty()) return true;
    }
    return false;
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
  span_data* hot_ = nullptr;  // see recycle_plain
  std::vector<lane_entry> lanes_;
  std::uint64_t last_id_ = 0;  // pipeline ids start at 1
  span_lane* last_lane_ = nullptr;
  const bool retired_ = false;
};

// The pool of every thread whose own pool was freed at its exit (a span can
// still end after that, in a thread_local or, on the main thread, whose
// thread_locals go first, a static destructor), and of a thread whose own
// pool could not be allocated. Never destroyed. Built in static storage, not
// on the heap: the first thread to need it may be out of memory.
STREAMBUS_TRACING_PROCESS_WIDE inline record_pool& retired_record_pool() noexcept {
  alignas(record_pool) static unsigned char storage[sizeof(record_pool)];
  static record_pool* const pool = ::new (static_cast<void*>(storage)) record_pool(record_pool::retired_tag{});
  return *pool;
}

// Trivially destructible, so it stays readable during thread exit (a
// thread_local record_pool would be destroyed, and a span ended later would
// write into freed memory): the pool itself is on the heap, freed by
// record_pool_cleanup, which points the slot at the retired pool.
struct record_pool_slot {
  record_pool* pool = nullptr;
};

STREAMBUS_TRACING_PROCESS_WIDE inline record_pool_slot& thread_record_pool_slot() noexcept {
  thread_local record_pool_slot slot;
  return slot;
}

struct record_pool_cleanup {
  ~record_pool_cleanup() {
    record_pool_slot& slot = thread_record_pool_slot();
    delete slot.pool;  // the thread's own (the shared pool is never stored before this)
    slot.pool = &retired_record_pool();
  }
};

STREAMBUS_TRACING_COLD STREAMBUS_TRACING_PROCESS_WIDE inline record_pool& make_thread_record_pool() noexcept {
  record_pool_slot& slot = thread_record_pool_slot();
  try {
    thread_local record_pool_cleanup cleanup;  // registers the exit hook on first use
    static_cast<void>(cleanup);
    slot.pool = new record_pool();
  } catch (...) {
    // Out of memory: the pool that keeps nothing, for this call only; the
    // slot stays empty, so the next call tries again (a thread kept on the
    // shared pool would hand every later span to the pipeline alone).
    return retired_record_pool();
  }
  return *slot.pool;
}

inline record_pool& thread_record_pool() noexcept {
  record_pool* pool = thread_record_pool_slot().pool;
  return pool != nullptr ? *pool : make_thread_record_pool();
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
