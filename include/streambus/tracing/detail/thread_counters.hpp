// A tracer's counts of sampled spans started and ended, which the hot path
// bumps without a shared atomic read-modify-write: each thread owns one slot
// (plain load + store, no lock prefix, no cache-line ping-pong) and readers
// sum the slots. Slots of exited threads are folded into totals and reused,
// so thread churn does not grow memory. A span may still end after its
// thread's exit hooks ran (a thread_local or static span): that count goes
// straight into the totals, under the lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class thread_counters : public std::enable_shared_from_this<thread_counters> {
 public:
  struct slot {
    std::atomic<std::uint64_t> started{0};
    std::atomic<std::uint64_t> ended{0};
    void count_start() noexcept { started.store(started.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
    // Release: whoever reads this count also sees that the span's thread is
    // done with the tracer (see tracer_state::spans_open).
    void count_end() noexcept { ended.store(ended.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  };

  thread_counters() : id_(next_id()) {}

  void count_start() noexcept {
    const cache& c = thread_cache();
    if (c.owner_id == id_)
      c.slot_->count_start();
    else
      count_unbound(true);
  }
  void count_end() noexcept {
    const cache& c = thread_cache();
    if (c.owner_id == id_)
      c.slot_->count_end();
    else
      count_unbound(false);
  }

  std::uint64_t started() const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    std::uint64_t sum = retired_started_;
    for (const auto& s : live_) sum += s->started.load(std::memory_order_relaxed);
    return sum;
  }
  std::uint64_t ended() const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    std::uint64_t sum = retired_ended_;
    for (const auto& s : live_) sum += s->ended.load(std::memory_order_acquire);
    return sum;
  }

  // Held across fork() (tracer.hpp's atfork handlers), so that a child never
  // inherits it locked by a thread that it does not have.
  void lock_for_fork() noexcept { mutex_.lock(); }
  void unlock_after_fork() noexcept { mutex_.unlock(); }

 private:
  // One cached (counter, slot) pair per thread: tracers are usually one per
  // process. The id, unlike an address, is never reused by a later counter.
  // Trivially destructible, so it stays readable during thread exit; the
  // slot is given back by cache_cleanup, which then marks the thread gone.
  struct cache {
    std::uint64_t owner_id = 0;
    slot* slot_ = nullptr;
    bool thread_gone = false;
  };
  struct cache_cleanup {
    std::shared_ptr<thread_counters> owner;  // keeps the slot alive until thread exit
    ~cache_cleanup() {
      cache& c = thread_cache();
      if (owner) owner->retire(c.slot_);
      c.owner_id = 0;
      c.slot_ = nullptr;
      c.thread_gone = true;
    }
  };

  STREAMBUS_TRACING_PROCESS_WIDE static std::uint64_t next_id() noexcept {
    static std::atomic<std::uint64_t> n{0};
    return n.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  STREAMBUS_TRACING_PROCESS_WIDE static cache& thread_cache() noexcept {
    thread_local cache c;
    return c;
  }

  // This thread has no slot of this counter yet (or no longer has any slot).
  STREAMBUS_TRACING_COLD void count_unbound(bool start) noexcept {
    cache& c = thread_cache();
    if (!c.thread_gone) {
      if (slot* s = bind(c)) {
        start ? s->count_start() : s->count_end();
        return;
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);  // past the thread's exit hooks, or out of memory
    ++(start ? retired_started_ : retired_ended_);
  }

  STREAMBUS_TRACING_COLD STREAMBUS_TRACING_PROCESS_WIDE slot* bind(cache& c) noexcept {
    try {
      thread_local cache_cleanup cleanup;  // registers the exit hook on first use
      std::shared_ptr<thread_counters> self = shared_from_this();
      slot* s = nullptr;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        // Room first: a slot made by new below and then not recorded would leak.
        if (live_.size() == live_.capacity()) live_.reserve(live_.empty() ? 8 : 2 * live_.size());
        if (!free_.empty()) {
          s = free_.back().release();
          free_.pop_back();
        } else {
          s = new slot();
        }
        s->started.store(0, std::memory_order_relaxed);
        s->ended.store(0, std::memory_order_relaxed);
        live_.emplace_back(s);
      }
      if (cleanup.owner) cleanup.owner->retire(c.slot_);
      cleanup.owner = std::move(self);
      c.owner_id = id_;
      c.slot_ = s;
      return s;
    } catch (...) {
      return nullptr;
    }
  }

  void retire(slot* s) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = live_.begin(); it != live_.end(); ++it) {
      if (it->get() == s) {
        retired_started_ += s->started.load(std::memory_order_relaxed);
        retired_ended_ += s->ended.load(std::memory_order_acquire);
        free_.push_back(std::move(*it));
        live_.erase(it);
        return;
      }
    }
  }

  const std::uint64_t id_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<slot>> live_;
  std::vector<std::unique_ptr<slot>> free_;
  std::uint64_t retired_started_ = 0;
  std::uint64_t retired_ended_ = 0;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
