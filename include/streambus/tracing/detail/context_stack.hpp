// Each thread's stack of current spans, and how a span current on one thread
// but ended on another is taken off it.
//
// A span is current on the thread that started it until it ends. Ended on
// another thread (a misuse we survive, and report), its entry must still go:
// otherwise every later span on the origin thread would join that dead
// span's trace. A sampled span's record says so itself (stack_ref, claimed
// by whichever thread lets go first). An unsampled or pass-through span has
// no record, so the ending thread posts a notice to the origin thread's
// stack, found through a registry of live stacks; the origin thread reads its
// notices when it next looks at its top entry (one relaxed load on the
// common path), removes entries from the middle, or grows the stack, and
// marks the entries they name as ended. Ended entries are dropped when they
// come to the top, and squeezed out of the middle before the stack grows.
//
// An entry is found by its span's id and owner (its tracer, or for a
// disabled tracer's pass-through span, which carries its parent's id, a
// process-wide token), at the depth where it was pushed or, once ended
// entries below it were squeezed out, lower.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <unordered_set>
#include <utility>

#include "../context.hpp"
#include "../ids.hpp"
#include "../span_data.hpp"
#include "../version.hpp"
#include "random.hpp"
#include "record_pool.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class tracer_state;
class context_stack;

// Frees the thread's context_stack at thread exit (defined below).
inline bool register_stack_cleanup() noexcept;
// The registry of live stacks (defined below).
inline void enlist_stack(context_stack& stack) noexcept;
inline void delist_stack(context_stack& stack) noexcept;

/// One entry of a thread's stack of current spans.
inline constexpr std::size_t active_span_fields = sizeof(span_context) + sizeof(void*) + sizeof(void*);
struct active_span {
  active_span(const span_context& c, span_data* r, const tracer_state* o) noexcept : context(c), record(r), owner(o) {}
  // Built from ids in registers: copying a span_context is a call, and its
  // trace id, just written in two halves, is read back in one (which stalls).
  active_span(const trace_id& tid, span_id sid, trace_flags flags, span_data* r, const tracer_state* o) noexcept
      : context(tid, sid, flags), record(r), owner(o) {}

  span_context context;
  span_data* record = nullptr;  // null for unsampled spans
  const tracer_state* owner = nullptr;
  // Unused: 64 bytes make indexing a shift (56, on 64-bit targets, took three instructions).
  unsigned char padding[active_span_fields < 64 ? 64 - active_span_fields : alignof(void*)];
};
static_assert(sizeof(void*) != 8 || sizeof(active_span) == 64, "see padding");

/// A notice that the span with `id` and `owner`, pushed at `depth`, was
/// ended on another thread.
struct ended_elsewhere_notice {
  std::size_t depth = 0;
  span_id id;
  const tracer_state* owner = nullptr;
};

/// The stacks of live threads, by address: a thread ending a span that is
/// current elsewhere posts its notice only to a stack listed here, so never
/// to the storage of a thread that has exited. (A new thread's stack at the
/// same address may get it; the span it names is not there.)
struct stack_registry {
  std::mutex mutex;
  std::unordered_set<const context_stack*> live;
};

// Created on first use with a compare-and-swap, not a guarded static: a
// fork() while another thread sits in a static's initialisation would leave
// the child waiting on its guard for good. Never destroyed: threads may exit
// after static destruction.
STREAMBUS_TRACING_PROCESS_WIDE inline std::atomic<stack_registry*>& stack_registry_slot() noexcept {
  static std::atomic<stack_registry*> slot{nullptr};  // constant-initialized: no guard
  return slot;
}
inline stack_registry* stack_registry_instance() noexcept {
  stack_registry* r = stack_registry_slot().load(std::memory_order_acquire);
  if (r != nullptr) return r;
  auto* fresh = new (std::nothrow) stack_registry;
  if (fresh == nullptr) return nullptr;  // out of memory: ended-elsewhere spans stay on their stacks
  if (stack_registry_slot().compare_exchange_strong(r, fresh, std::memory_order_acq_rel)) return fresh;
  delete fresh;
  return r;
}

/// Set (under the registry's lock) when this thread's stack has notices to
/// read. A thread_local of its own rather than a member of the stack: so it
/// is read with one instruction, where a member atomic costs an address
/// computation on every start.
STREAMBUS_TRACING_PROCESS_WIDE inline std::atomic<bool>& thread_has_notices() noexcept {
  thread_local std::atomic<bool> flag{false};
  return flag;
}

/// Stands in for the record of a record-less entry whose span ended on
/// another thread, so that such entries are found by the same orphan test as
/// sampled ones. Created like the registry; never freed (it may be looked at
/// during static destruction); null if it could not be allocated, and then
/// such entries stay until an enclosing span ends.
STREAMBUS_TRACING_PROCESS_WIDE inline span_data* ended_elsewhere_marker() noexcept {
  static std::atomic<span_data*> slot{nullptr};
  span_data* m = slot.load(std::memory_order_acquire);
  if (m != nullptr) return m;
  auto* fresh = new (std::nothrow) span_data;
  if (fresh == nullptr) return nullptr;
  fresh->stack_ref.claim(stack_ref::orphaned);
  if (slot.compare_exchange_strong(m, fresh, std::memory_order_acq_rel)) return fresh;
  delete fresh;
  return m;
}

/// The thread's current-span stack: push on start, truncate on end.
///
/// Constant-initialized and trivially destructible, so the thread_local that
/// holds it is reached without a guard check on every start and end (a
/// std::vector member would need one). Its buffers, and any entries left at
/// thread exit, are freed by a stack_cleanup registered on the first push.
class context_stack {
 public:
  constexpr context_stack() noexcept = default;

  std::size_t size() const noexcept { return size_; }
  active_span& back() noexcept { return entries_[size_ - 1]; }
  active_span& operator[](std::size_t i) noexcept { return entries_[i]; }

  /// Makes a span current; false if the stack could not grow (out of memory).
  /// `state`, if not null, is the tracestate of `context`, passed apart
  /// because most spans have none.
  STREAMBUS_TRACING_ALWAYS_INLINE bool push(const span_context& context, const trace_state* state, span_data* record,
                                            const tracer_state* owner) noexcept {
    if (size_ == capacity_ && !grow()) return false;
    active_span* e = new (&entries_[size_]) active_span(context, record, owner);
    if (state != nullptr && !state->empty()) e->context.set_trace_state(*state);
    ++size_;
    return true;
  }
  /// True when the top entry is the innermost live one and a push needs no
  /// growth: no notices to read, no ended entry on top, room left. `size`:
  /// size(), read once by the caller.
  STREAMBUS_TRACING_ALWAYS_INLINE bool is_plain(std::size_t size) const noexcept {
    if (thread_has_notices().load(std::memory_order_relaxed) || size == capacity_) return false;
    return size == 0 || !has_ended(entries_[size - 1]);
  }
  /// push() of a context given by its parts.
  STREAMBUS_TRACING_ALWAYS_INLINE bool push(const trace_id& tid, span_id sid, trace_flags flags, const trace_state* state,
                                            span_data* record, const tracer_state* owner) noexcept {
    if (size_ == capacity_ && !grow()) return false;
    active_span* e = new (&entries_[size_]) active_span(tid, sid, flags, record, owner);
    if (state != nullptr && !state->empty()) e->context.set_trace_state(*state);
    ++size_;
    return true;
  }
  /// That push for an unsampled span without tracestate, when is_plain(size).
  /// `size`: size(), read by the caller.
  STREAMBUS_TRACING_ALWAYS_INLINE void push_unsampled(std::size_t size, const trace_id& tid, span_id sid,
                                                      trace_flags flags, const tracer_state* owner) noexcept {
    new (&entries_[size]) active_span(tid, sid, flags, nullptr, owner);
    size_ = size + 1;
  }
  void pop() noexcept { entries_[--size_].~active_span(); }
  /// pop() when the caller knows the size is depth + 1 (saves reloading it).
  void pop_to(std::size_t depth) noexcept {
    entries_[depth].~active_span();
    size_ = depth;
  }

  /// The innermost live entry, or null. Only ever called on this thread's
  /// own stack (it reads this thread's notice flag).
  STREAMBUS_TRACING_ALWAYS_INLINE const active_span* top() noexcept {
    if (thread_has_notices().load(std::memory_order_relaxed)) return read_notices_then_top();
    if (size_ == 0) return nullptr;
    const active_span& last = back();
    if (last.record != nullptr && last.record->stack_ref.is_orphaned()) return drop_orphans_on_top();
    return &last;
  }

  /// The span (id, owner) pushed at `depth` ends here but is not the top
  /// entry: removes its entry, wherever it is now, and every entry above it
  /// (children never ended on this thread). Nothing if it is gone already
  /// (an enclosing span's end took it).
  STREAMBUS_TRACING_COLD void remove(std::size_t depth, const span_id& id, const tracer_state* owner) noexcept {
    read_notices();
    const std::size_t at = find(depth, id, owner);
    if (at == size_) return;
    while (size_ > at + 1) {
      span_data* r = back().record;
      if (r != nullptr && r->stack_ref.claim(stack_ref::dropped) == stack_ref::orphaned) release_orphan(r);
      pop();
    }
    pop();
  }

  /// Thread exit: frees the buffers and what is still on the stack. The
  /// thread's record pool may already be gone, so orphans are deleted
  /// directly. A span started after this (from a later thread_local or
  /// static destructor) still works; its new buffer is left to the OS, and
  /// the stack is not registered again.
  void release_all() noexcept {
    delist_stack(*this);
    retired_ = true;
    while (size_ > 0) {
      span_data* r = back().record;
      if (r != nullptr && r != ended_elsewhere_marker() && r->stack_ref.claim(stack_ref::dropped) == stack_ref::orphaned)
        delete r;
      pop();
    }
    ::operator delete(entries_);
    entries_ = nullptr;
    capacity_ = 0;
  }

  /// Another thread's: files a notice for this stack's owner. Called under
  /// the registry's lock, while this stack is registered (so alive).
  void post_notice(const ended_elsewhere_notice& notice) noexcept {
    if (notice_count_ == notice_capacity_) {
      const std::size_t capacity = notice_capacity_ == 0 ? 8 : notice_capacity_ * 2;
      auto* fresh = static_cast<ended_elsewhere_notice*>(
          ::operator new(capacity * sizeof(ended_elsewhere_notice), std::nothrow));
      if (fresh == nullptr) return;  // out of memory: that entry stays until an enclosing span ends
      for (std::size_t i = 0; i < notice_count_; ++i) new (&fresh[i]) ended_elsewhere_notice(notices_[i]);
      ::operator delete(notices_);
      notices_ = fresh;
      notice_capacity_ = capacity;
    }
    new (&notices_[notice_count_++]) ended_elsewhere_notice(notice);
    has_notices_->store(true, std::memory_order_relaxed);
  }

  /// Notices not read yet (tests).
  std::size_t unread_notices() noexcept {
    stack_registry* registry = stack_registry_instance();
    if (registry == nullptr) return 0;
    std::lock_guard<std::mutex> lock(registry->mutex);
    return notice_count_;
  }

  /// Registry bookkeeping, under its lock (or in a fork()ed child, alone).
  bool enlisted() const noexcept { return enlisted_; }
  void set_enlisted(bool on) noexcept {
    enlisted_ = on;
    has_notices_ = &thread_has_notices();  // enlisted on its own thread
  }
  /// Frees the notices' buffer (delisting), or drops it unread (a fork()ed
  /// child that could not keep this stack registered).
  void free_notices() noexcept {
    ::operator delete(notices_);
    forget_notices();
  }
  void forget_notices() noexcept {
    notices_ = nullptr;
    notice_count_ = notice_capacity_ = 0;
    thread_has_notices().store(false, std::memory_order_relaxed);
  }

 private:
  // An entry whose span has ended: its record orphaned, or the marker.
  static bool has_ended(const active_span& e) noexcept {
    return e.record != nullptr && e.record->stack_ref.is_orphaned();
  }

  // The index of the entry of span (id, owner), pushed at `depth`: there, or
  // lower if ended entries below were squeezed out since; size_ if gone.
  // Only a stack that was squeezed is searched (its entries may have moved).
  std::size_t find(std::size_t depth, const span_id& id, const tracer_state* owner) noexcept {
    if (size_ == 0) squeezed_ = false;  // nothing left that moved
    if (!squeezed_) {
      const bool there = depth < size_ && entries_[depth].owner == owner && entries_[depth].context.span_id() == id;
      return there ? depth : size_;
    }
    for (std::size_t i = depth < size_ ? depth + 1 : size_; i > 0; --i) {
      const active_span& e = entries_[i - 1];
      if (e.owner == owner && e.context.span_id() == id) return i - 1;
    }
    return size_;
  }

  // Marks the entries the notices name (if still there) as ended.
  void apply_notices() noexcept {
    span_data* const marker = ended_elsewhere_marker();
    for (std::size_t i = 0; marker != nullptr && i < notice_count_; ++i) {
      const ended_elsewhere_notice& n = notices_[i];
      const std::size_t at = find(n.depth, n.id, n.owner);
      if (at != size_ && entries_[at].record == nullptr) entries_[at].record = marker;
    }
    notice_count_ = 0;
    if (notice_capacity_ > 64) free_notices();  // after a burst: back to nothing
    thread_has_notices().store(false, std::memory_order_relaxed);
  }

  void read_notices() noexcept {
    if (!thread_has_notices().load(std::memory_order_relaxed)) return;
    if (stack_registry* registry = stack_registry_instance()) {
      std::lock_guard<std::mutex> lock(registry->mutex);
      apply_notices();
    }
  }

  // Reads the notices, then pops what has ended from the top.
  STREAMBUS_TRACING_COLD const active_span* read_notices_then_top() noexcept {
    read_notices();
    return drop_orphans_on_top();
  }

  // Pops entries whose spans were ended on another thread.
  STREAMBUS_TRACING_COLD const active_span* drop_orphans_on_top() noexcept {
    while (size_ > 0 && has_ended(back())) {
      release_orphan(back().record);
      pop();
    }
    return size_ == 0 ? nullptr : &back();
  }

  // An orphaned record is this thread's to free; the marker is nobody's.
  static void release_orphan(span_data* r) noexcept {
    if (r != ended_elsewhere_marker()) thread_record_pool().release(r);
  }

  // Removes the entries of spans that have ended, wherever they are, keeping
  // the order of the rest. Their spans find them lower down (find()).
  void squeeze_out_ended() noexcept {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      if (has_ended(entries_[i])) {
        release_orphan(entries_[i].record);
        entries_[i].record = nullptr;
        continue;
      }
      if (kept != i) {
        entries_[kept] = std::move(entries_[i]);
        squeezed_ = true;
      }
      ++kept;
    }
    while (size_ > kept) pop();
  }

  // Makes room for one more entry: first by removing the entries of spans
  // that have ended (a thread that hands its spans to others may never look
  // at its top), else by doubling the buffer (16 entries at first). False if
  // out of memory.
  STREAMBUS_TRACING_NOINLINE bool grow() noexcept {
    if (entries_ == nullptr) {
      if (!register_stack_cleanup()) return false;
      if (!retired_) enlist_stack(*this);
    } else {
      read_notices();
      squeeze_out_ended();
      if (size_ < capacity_) return true;
    }
    const std::size_t capacity = capacity_ == 0 ? 16 : capacity_ * 2;
    auto* fresh = static_cast<active_span*>(::operator new(capacity * sizeof(active_span), std::nothrow));
    if (fresh == nullptr) return false;
    for (std::size_t i = 0; i < size_; ++i) {
      new (&fresh[i]) active_span(std::move(entries_[i]));
      entries_[i].~active_span();
    }
    ::operator delete(entries_);
    entries_ = fresh;
    capacity_ = capacity;
    return true;
  }

  active_span* entries_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  // Notices from other threads (see the top of this file), written under the
  // registry's lock while the stack is enlisted; has_notices_ points at its
  // thread's thread_has_notices(), read without the lock on every top().
  std::atomic<bool>* has_notices_ = nullptr;
  bool enlisted_ = false;
  bool retired_ = false;  // its thread has exited
  bool squeezed_ = false;  // entries were moved down since the stack was last empty
  ended_elsewhere_notice* notices_ = nullptr;
  std::size_t notice_count_ = 0;
  std::size_t notice_capacity_ = 0;
};

STREAMBUS_TRACING_PROCESS_WIDE inline context_stack& thread_context_stack() noexcept {
  thread_local context_stack stack;
  return stack;
}

// Frees the thread's context_stack at thread exit (see there).
struct stack_cleanup {
  ~stack_cleanup() { thread_context_stack().release_all(); }
};

STREAMBUS_TRACING_PROCESS_WIDE inline bool register_stack_cleanup() noexcept {
  try {
    thread_local stack_cleanup cleanup;  // registers the exit hook on first use
    (void)cleanup;
    return true;
  } catch (...) {
    return false;
  }
}

#if defined(STREAMBUS_TRACING_HAS_PTHREAD_ATFORK)
// fork(): the registry's lock is held across it, so the child inherits the
// registry whole, with this thread's unread notices; the child then forgets
// the other threads' stacks. The lock is a leaf (nothing else is locked
// under it), and these handlers are registered at start-up, before any
// tracer's, so their prepare step runs after the tracers' (pthread_atfork
// runs prepare handlers in reverse order): whoever holds a tracer's lock and
// wants this one gets it first.
inline bool register_stack_registry_fork_handlers() noexcept {
  keep_library_loaded(this_library);  // the handlers' code (an inline variable's initializer: no blocking guard)
  ::pthread_atfork(
      [] {
        if (stack_registry* registry = stack_registry_instance()) registry->mutex.lock();
      },
      [] {
        if (stack_registry* registry = stack_registry_slot().load(std::memory_order_acquire)) registry->mutex.unlock();
      },
      [] {
        stack_registry* registry = stack_registry_slot().load(std::memory_order_acquire);
        if (registry == nullptr) return;
        context_stack& mine = thread_context_stack();
        try {
          registry->live.clear();
          if (mine.enlisted()) registry->live.insert(&mine);
        } catch (...) {
          mine.set_enlisted(false);
          mine.forget_notices();
        }
        registry->mutex.unlock();
      });
  return true;
}
STREAMBUS_TRACING_PROCESS_WIDE inline const bool stack_registry_fork_handlers_registered = register_stack_registry_fork_handlers();
#endif

inline void enlist_stack(context_stack& stack) noexcept {
  stack_registry* registry = stack_registry_instance();
  if (registry == nullptr) return;  // out of memory: ended-elsewhere spans stay on this stack
  std::lock_guard<std::mutex> lock(registry->mutex);
  try {
    registry->live.insert(&stack);
    stack.set_enlisted(true);
  } catch (...) {
  }
}

inline void delist_stack(context_stack& stack) noexcept {
  stack_registry* registry = stack_registry_instance();
  if (registry == nullptr || !stack.enlisted()) return;
  std::lock_guard<std::mutex> lock(registry->mutex);
  registry->live.erase(&stack);
  stack.set_enlisted(false);
  stack.free_notices();
}

/// Tells `origin`'s thread that its span (depth, id, owner) has ended, if
/// that thread is still alive. Off the hot path: a mutex and a hash lookup.
inline void post_ended_elsewhere(const context_stack* origin, const ended_elsewhere_notice& notice) noexcept {
  stack_registry* registry = stack_registry_instance();
  if (registry == nullptr) return;
  std::lock_guard<std::mutex> lock(registry->mutex);
  const auto it = registry->live.find(origin);
  if (it != registry->live.end()) const_cast<context_stack*>(*it)->post_notice(notice);
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
