// A bounded single-producer single-consumer ring of small trivially copyable
// values (span record pointers). Each traced thread owns one per tracer, so
// ending a span is a store into memory no other producer touches.
//
// The layout follows the fast loggers (quill, fastrace): power-of-two
// capacity with a mask; the producer's and the consumer's indices on separate
// cache lines; each side keeps a private copy of the other's index and
// re-reads the shared one only when the copy says full (or empty), so in
// steady state neither side reads a line the other is writing.
//
// Memory ordering: the producer writes the slot, then publishes head with a
// release store (paired with the consumer's acquire load); the consumer reads
// the slot, then frees it with a release store of tail (paired with the
// producer's acquire load), so a slot is never overwritten before it is read.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <type_traits>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

// Fixed, not std::hardware_destructive_interference_size (which varies with
// compiler flags and warns in headers): 128 covers adjacent-line prefetch.
inline constexpr std::size_t cache_line_pad = 128;

template <class T>
class spsc_ring {
  static_assert(std::is_trivially_copyable_v<T>, "spsc_ring holds plain values (e.g. pointers)");

 public:
  /// Capacity is rounded up to a power of two (at least 2).
  explicit spsc_ring(std::size_t min_capacity) {
    std::size_t cap = 2;
    while (cap < min_capacity) cap <<= 1;
    mask_ = cap - 1;
    // Not value-initialised (make_unique would zero every page): a slot is
    // read only after it was written, so a large ring costs address space
    // until used.
    slots_.reset(new T[cap]);
  }
  spsc_ring(const spsc_ring&) = delete;
  spsc_ring& operator=(const spsc_ring&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // --- producer thread only ------------------------------------------------
  /// False when full. Never blocks, never allocates.
  bool try_push(T value) noexcept {
    const std::size_t head = producer_.head.load(std::memory_order_relaxed);
    if (head - producer_.tail_seen > mask_) {
      producer_.tail_seen = consumer_.tail.load(std::memory_order_acquire);
      if (head - producer_.tail_seen > mask_) return false;
    }
    slots_[head & mask_] = value;
    producer_.head.store(head + 1, std::memory_order_release);
    return true;
  }
  /// Values pushed so far (exact on the producer; a recent value elsewhere).
  std::size_t pushed() const noexcept { return producer_.head.load(std::memory_order_relaxed); }

  // --- consumer thread only ------------------------------------------------
  /// False when empty.
  bool try_pop(T& out) noexcept {
    const std::size_t tail = consumer_.tail.load(std::memory_order_relaxed);
    if (tail == consumer_.head_seen) {
      consumer_.head_seen = producer_.head.load(std::memory_order_acquire);
      if (tail == consumer_.head_seen) return false;
    }
    out = slots_[tail & mask_];
    consumer_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  /// Values waiting (approximate while the producer is running).
  std::size_t size_approx() const noexcept {
    const std::size_t head = producer_.head.load(std::memory_order_acquire);
    const std::size_t tail = consumer_.tail.load(std::memory_order_acquire);
    return head >= tail ? head - tail : 0;
  }

 private:
  struct alignas(cache_line_pad) producer_side {
    std::atomic<std::size_t> head{0};
    std::size_t tail_seen = 0;  // the producer's copy of consumer_.tail
  };
  struct alignas(cache_line_pad) consumer_side {
    std::atomic<std::size_t> tail{0};
    std::size_t head_seen = 0;  // the consumer's copy of producer_.head
  };

  std::unique_ptr<T[]> slots_;
  std::size_t mask_ = 0;
  producer_side producer_;
  consumer_side consumer_;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
