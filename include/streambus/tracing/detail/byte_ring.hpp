// A bounded single-producer single-consumer ring of variable-size records
// (quill's per-thread queues): each traced thread writes its ended spans here
// as compact bytes for the export thread, so a span's record never has to
// travel to the other core and back; only these bytes go, once, one way.
//
// Framing: every record starts with an 8-byte frame {u32 size, u32 tag},
// `size` counting the frame and the payload rounded up to 8 bytes. A record
// never wraps: when it does not fit before the end of the buffer, the
// producer writes a frame of size 0 ("continue at the start") and skips the
// rest. Two bounds, both checked on push: the bytes in the buffer and the
// number of records (max_queue_size's meaning: spans per thread).
//
// Indices and memory ordering as in spsc_ring.hpp: monotonic byte positions,
// each side's on its own cache line; the producer re-reads the consumer's
// only when its private copy says full, the consumer the producer's only on
// refresh(). The producer writes a record,
// then publishes head with a release store; the consumer reads the record,
// then frees it with a release store of tail.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

#include "../version.hpp"
#include "prefetch.hpp"
#include "spsc_ring.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class byte_ring {
 public:
  static constexpr std::size_t frame_size = 8;
  /// How far ahead of the write position lines are claimed, in bytes.
  static constexpr std::size_t prefetch_distance = 512;

  /// `min_bytes` is rounded up to a power of two (at least 256); at most
  /// `max_records` records are held at once (at least 1).
  byte_ring(std::size_t min_bytes, std::size_t max_records) : max_records_(max_records < 1 ? 1 : max_records) {
    if (min_bytes > (std::numeric_limits<std::size_t>::max() >> 2)) throw std::length_error("byte_ring too large");
    std::size_t cap = 256;
    while (cap < min_bytes) cap <<= 1;
    mask_ = cap - 1;
    max_payload_ = cap / 4 - frame_size;
    buffer_ = std::unique_ptr<unsigned char[]>(new unsigned char[cap]);
  }
  byte_ring(const byte_ring&) = delete;
  byte_ring& operator=(const byte_ring&) = delete;

  std::size_t capacity_bytes() const noexcept { return mask_ + 1; }
  /// The largest payload a push can take (a quarter of the buffer).
  std::size_t max_payload() const noexcept { return max_payload_; }

  // --- producer thread only ------------------------------------------------
  /// Writes one record of `payload` bytes (at most max_payload()) through
  /// `write(unsigned char* at)`, which must not throw, and publishes it.
  /// False when the ring is full (by bytes or by records). Never blocks,
  /// never allocates.
  template <class Write>
  bool try_push(std::size_t payload, std::uint32_t tag, Write&& write) noexcept {
    if (payload > max_payload_) return false;
    const std::size_t size = frame_size + round_up(payload);
    std::size_t head = producer_.head.load(std::memory_order_relaxed);
    const std::size_t pushed = producer_.pushed.load(std::memory_order_relaxed);
    const std::size_t to_end = capacity_bytes() - (head & mask_);
    const std::size_t skip = to_end < size ? to_end : 0;
    if (!has_room(head, skip + size, pushed)) return false;
    if (skip != 0) {
      write_frame(head, 0, 0);
      head += skip;
    }
    write_frame(head, static_cast<std::uint32_t>(size), tag);
    write(buffer_.get() + (head & mask_) + frame_size);
    // The lines ahead were last read by the consumer on the other core:
    // claim them for writing a few records early (two lines per push, so a
    // record longer than a line cannot step over one).
    prefetch_for_write(buffer_.get() + ((head + prefetch_distance) & mask_));
    prefetch_for_write(buffer_.get() + ((head + prefetch_distance + 64) & mask_));
    producer_.pushed.store(pushed + 1, std::memory_order_relaxed);
    producer_.head.store(head + size, std::memory_order_release);
    return true;
  }
  /// Records pushed so far (exact on the producer; a recent value elsewhere).
  std::size_t pushed() const noexcept { return producer_.pushed.load(std::memory_order_relaxed); }

  // --- consumer thread only ------------------------------------------------
  /// Makes the records published so far visible to front(). The consumer
  /// calls it once per pass, not whenever it catches up: a consumer that
  /// chases the producer reads each line while the producer is still
  /// writing the next record into it, and the line bounces between the two
  /// cores for every record (with the worker's full-batch rule in
  /// batch_processor, this took a 93-108 ns per span state away).
  void refresh() noexcept { consumer_.head_seen = producer_.head.load(std::memory_order_acquire); }

  /// The oldest record (published before the last refresh()): its payload
  /// (8-byte aligned) and its tag, or null. It stays valid until pop().
  const unsigned char* front(std::uint32_t& tag) noexcept {
    std::size_t tail = consumer_.tail.load(std::memory_order_relaxed);
    for (;;) {
      if (tail == consumer_.head_seen) return nullptr;
      std::uint32_t size = 0;
      read_frame(tail, size, tag);
      if (size != 0) {
        consumer_.front_size = size;
        if (tail != consumer_.tail.load(std::memory_order_relaxed))
          consumer_.tail.store(tail, std::memory_order_release);  // past a wrap marker
        return buffer_.get() + (tail & mask_) + frame_size;
      }
      tail += capacity_bytes() - (tail & mask_);  // wrap marker: continue at the start
    }
  }
  /// Frees the record front() returned.
  void pop() noexcept {
    const std::size_t tail = consumer_.tail.load(std::memory_order_relaxed);
    consumer_.popped.store(consumer_.popped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    consumer_.tail.store(tail + consumer_.front_size, std::memory_order_release);
  }

  /// Remembers the records published so far, for a consumer that must take
  /// what was queued at one moment and not chase the producer after it (a
  /// flush). Records published later are still taken by front() as usual.
  void set_mark() noexcept { consumer_.mark = producer_.pushed.load(std::memory_order_acquire); }
  /// Whether every record published before the last set_mark() was popped.
  bool past_mark() const noexcept { return consumer_.popped.load(std::memory_order_relaxed) >= consumer_.mark; }

  /// Records waiting (approximate while the producer is running).
  std::size_t size_approx() const noexcept {
    const std::size_t pushed = producer_.pushed.load(std::memory_order_acquire);
    const std::size_t popped = consumer_.popped.load(std::memory_order_acquire);
    return pushed >= popped ? pushed - popped : 0;
  }

 private:
  static constexpr std::size_t round_up(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

  // `records`: the records pushed so far.
  bool has_room(std::size_t head, std::size_t bytes, std::size_t records) noexcept {
    if (head + bytes - producer_.tail_seen > capacity_bytes() || records - producer_.popped_seen >= max_records_) {
      // Each bound is checked against its own counter: a stale copy of
      // either only makes its check stricter, never lets a push overwrite.
      producer_.popped_seen = consumer_.popped.load(std::memory_order_acquire);
      producer_.tail_seen = consumer_.tail.load(std::memory_order_acquire);
      if (head + bytes - producer_.tail_seen > capacity_bytes()) return false;
      if (records - producer_.popped_seen >= max_records_) return false;
    }
    return true;
  }

  void write_frame(std::size_t at, std::uint32_t size, std::uint32_t tag) noexcept {
    unsigned char* p = buffer_.get() + (at & mask_);
    std::memcpy(p, &size, 4);
    std::memcpy(p + 4, &tag, 4);
  }
  void read_frame(std::size_t at, std::uint32_t& size, std::uint32_t& tag) const noexcept {
    const unsigned char* p = buffer_.get() + (at & mask_);
    std::memcpy(&size, p, 4);
    std::memcpy(&tag, p + 4, 4);
  }

  struct alignas(cache_line_pad) producer_side {
    std::atomic<std::size_t> head{0};     // bytes published
    std::atomic<std::size_t> pushed{0};   // records published (written by the producer only)
    std::size_t tail_seen = 0;            // the producer's copies of the consumer's indices
    std::size_t popped_seen = 0;
  };
  struct alignas(cache_line_pad) consumer_side {
    std::atomic<std::size_t> tail{0};     // bytes freed
    std::atomic<std::size_t> popped{0};   // records freed (written by the consumer only)
    std::size_t head_seen = 0;            // the producer's head at the last refresh()
    std::uint32_t front_size = 0;         // size of the record front() returned
    std::size_t mark = 0;                 // records published at the last set_mark()
  };

  std::unique_ptr<unsigned char[]> buffer_;
  std::size_t mask_ = 0;
  std::size_t max_payload_ = 0;
  std::size_t max_records_;
  producer_side producer_;
  consumer_side consumer_;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
