// A bounded lock-free queue of small trivially copyable values (span record
// pointers), after Dmitry Vyukov's bounded MPMC queue: every cell carries a
// sequence number that says whose turn it is, so producers and the consumer
// never wait for each other and never allocate. Used as MPSC for ended spans
// and as MPMC for recycled records.
//
// Memory ordering, in one place:
// - a producer claims a position with a relaxed CAS on enqueue_pos_ (the
//   position is only a ticket; no data is published through it);
// - it then writes the value and publishes the cell with a release store of
//   seq = pos + 1, which pairs with the consumer's acquire load of seq;
// - the consumer frees the cell with a release store of seq = pos + capacity,
//   which pairs with the next lap's producer acquire load of seq, so the
//   producer cannot overwrite a value before it was read.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

// Fixed, not std::hardware_destructive_interference_size (which varies with
// compiler flags and warns in headers): 128 covers adjacent-line prefetch.
inline constexpr std::size_t cache_line_pad = 128;

template <class T>
class bounded_queue {
  static_assert(std::is_trivially_copyable_v<T>, "bounded_queue holds plain values (e.g. pointers)");

 public:
  /// Capacity is rounded up to a power of two (at least 2).
  explicit bounded_queue(std::size_t min_capacity) {
    std::size_t cap = 2;
    while (cap < min_capacity) cap <<= 1;
    mask_ = cap - 1;
    cells_ = std::make_unique<cell[]>(cap);
    for (std::size_t i = 0; i < cap; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  bounded_queue(const bounded_queue&) = delete;
  bounded_queue& operator=(const bounded_queue&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  /// False when full. Never blocks, never allocates.
  bool try_push(T value) noexcept {
    std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = value;
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the cell of the previous lap is not consumed yet: full
      } else {
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  /// False when empty.
  bool try_pop(T& out) noexcept {
    std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (diff == 0) {
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          out = c.value;
          c.seq.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // not yet published: empty
      } else {
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  /// Successful pushes so far (a ticket counter, exact once producers are quiet).
  std::size_t pushed() const noexcept { return enqueue_pos_.load(std::memory_order_relaxed); }
  /// Approximate number of queued values.
  std::size_t size_approx() const noexcept {
    const std::size_t in = enqueue_pos_.load(std::memory_order_relaxed);
    const std::size_t out = dequeue_pos_.load(std::memory_order_relaxed);
    return in >= out ? in - out : 0;
  }

 private:
  struct cell {
    std::atomic<std::size_t> seq{0};
    T value{};
  };

  std::unique_ptr<cell[]> cells_;
  std::size_t mask_ = 0;
  // Producers and the consumer write different counters: keep them on
  // different cache lines so they do not slow each other down.
  alignas(cache_line_pad) std::atomic<std::size_t> enqueue_pos_{0};
  alignas(cache_line_pad) std::atomic<std::size_t> dequeue_pos_{0};
};

static_assert(alignof(bounded_queue<void*>) == cache_line_pad, "the counters must start cache lines");
static_assert(sizeof(bounded_queue<void*>) % cache_line_pad == 0, "nothing may share the consumer's line");

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
