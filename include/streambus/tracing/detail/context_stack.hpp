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
// common path) or before growing the stack, and marks those entries ended.
// Entries marked ended, or whose record is orphaned, are dropped when they
// come to the top.
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
struct active_span {
  span_context context;
  span_data* record = nullptr;  // null for unsampled spans
  tracer_state* owner = nullptr;
};

/// A notice that the span at `depth` with `id` and `owner` (its entry's) was
/// ended on another thread.
struct ended_elsewhere_notice {
  std::size_t depth = 0;
  span_id id;
  const tracer_state* owner = nullptr;
};

/// The stacks of live threads, by address: a thread ending a span that is
/// current elsewhere posts its notice only to a stack listed here, so never
/// to the storage of a thread that has exited. (A new thread's stack at the
/// same address may get it: the notice names depth, span id and owner, and
/// matches nothing there.)
struct stack_registry {
  std::mutex mutex;
  std::unordered_set<const context_stack*> live;
};

// Never destroyed: threads may exit after static destruction. A fork()ed
// child gets a fresh one (see enlist_stack), as the parent's lock may have
// been held by a thread the child does not have.
inline stack_registry*& stack_registry_instance() noexcept {
  static stack_registry* registry = new (std::nothrow) stack_registry;
  return registry;
}

/// Set (under the registry's lock) when this thread's stack has notices to
/// read. A thread_local of its own rather than a member of the stack: so it
/// is read with one instruction, where a member atomic costs an address
/// computation on every start.
inline std::atomic<bool>& thread_has_notices() noexcept {
  thread_local std::atomic<bool> flag{false};
  return flag;
}

/// Stands in for the record of a record-less entry whose span ended on
/// another thread, so that such entries are found by the same orphan test as
/// sampled ones. Never freed (it may be looked at during static destruction);
/// null if it could not be allocated, and then such entries stay.
inline span_data* ended_elsewhere_marker() noexcept {
  static span_data* const marker = [] {
    auto* r = new (std::nothrow) span_data;
    if (r != nullptr) r->stack_ref.claim(stack_ref::orphaned);
    return r;
  }();
  return marker;
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
                                            tracer_state* owner) noexcept {
    if (size_ == capacity_ && !grow()) return false;
    active_span* e = new (&entries_[size_]) active_span{context, record, owner};
    if (state != nullptr && !state->empty()) e->context.set_trace_state(*state);
    ++size_;
    return true;
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

  /// Removes entries from index `depth` on if the entry there is the span
  /// `id` (the span being ended here, which finishes its own record): this
  /// also drops children that were never ended on this thread.
  STREAMBUS_TRACING_COLD void truncate_to(std::size_t depth, const span_id& id) noexcept {
    if (depth >= size_ || entries_[depth].context.span_id() != id) return;
    while (size_ > depth + 1) {
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

  /// This thread's, under the registry's lock: marks the entries the
  /// notices name (if still there: an enclosing span's end may have removed
  /// them, and another span taken the place).
  void apply_notices() noexcept {
    span_data* const marker = ended_elsewhere_marker();
    for (std::size_t i = 0; i < notice_count_; ++i) {
      const ended_elsewhere_notice& n = notices_[i];
      if (n.depth >= size_ || marker == nullptr) continue;
      active_span& e = entries_[n.depth];
      if (e.record == nullptr && e.owner == n.owner && e.context.span_id() == n.id) e.record = marker;
    }
    notice_count_ = 0;
    thread_has_notices().store(false, std::memory_order_relaxed);
  }

  /// Registry bookkeeping (under its lock, or in a fork()ed child alone).
  bool enlisted() const noexcept { return enlisted_; }
  void set_enlisted(bool on) noexcept {
    enlisted_ = on;
    has_notices_ = &thread_has_notices();  // enlisted on its own thread
  }
  /// The notices' buffer, freed at delisting. In a fork()ed child it is
  /// dropped unread: another thread of the parent may have been writing it.
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
  // Marks what the notices name, then pops what has ended from the top.
  STREAMBUS_TRACING_COLD const active_span* read_notices_then_top() noexcept {
    if (thread_has_notices().load(std::memory_order_relaxed)) {
      if (stack_registry* registry = stack_registry_instance()) {
        std::lock_guard<std::mutex> lock(registry->mutex);
        apply_notices();
      }
    }
    if (size_ == 0) return nullptr;
    return back().record != nullptr && back().record->stack_ref.is_orphaned() ? drop_orphans_on_top() : &back();
  }

  // Pops entries whose spans were ended on another thread.
  STREAMBUS_TRACING_COLD const active_span* drop_orphans_on_top() noexcept {
    while (size_ > 0 && back().record != nullptr && back().record->stack_ref.is_orphaned()) {
      release_orphan(back().record);
      pop();
    }
    return size_ == 0 ? nullptr : &back();
  }

  // An orphaned record is this thread's to free; the marker is nobody's.
  static void release_orphan(span_data* r) noexcept {
    if (r != ended_elsewhere_marker()) thread_record_pool().release(r);
  }

  // Makes room for one more entry: first by dropping ended spans from the
  // top (a thread that starts spans only under explicit parents, and has
  // them ended elsewhere, never looks at its top), else by doubling the
  // buffer (16 entries at first). False if out of memory.
  STREAMBUS_TRACING_NOINLINE bool grow() noexcept {
    if (entries_ == nullptr) {
      if (!register_stack_cleanup()) return false;
      if (!retired_) enlist_stack(*this);
    } else {
      read_notices_then_top();
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
  ended_elsewhere_notice* notices_ = nullptr;
  std::size_t notice_count_ = 0;
  std::size_t notice_capacity_ = 0;
};

inline context_stack& thread_context_stack() noexcept {
  thread_local context_stack stack;
  return stack;
}

// Frees the thread's context_stack at thread exit (see there).
struct stack_cleanup {
  ~stack_cleanup() { thread_context_stack().release_all(); }
};

inline bool register_stack_cleanup() noexcept {
  try {
    thread_local stack_cleanup cleanup;  // registers the exit hook on first use
    (void)cleanup;
    return true;
  } catch (...) {
    return false;
  }
}

#if defined(STREAMBUS_TRACING_HAS_PTHREAD_ATFORK)
// In a fork()ed child: a new registry holding only this thread's stack; the
// parent's, and this stack's unread notices, are left as they were.
inline void restart_stack_registry_in_child() noexcept {
  stack_registry*& registry = stack_registry_instance();
  registry = new (std::nothrow) stack_registry;
  context_stack& mine = thread_context_stack();
  mine.forget_notices();
  const bool was_enlisted = mine.enlisted();
  mine.set_enlisted(false);
  if (registry == nullptr || !was_enlisted) return;
  try {
    registry->live.insert(&mine);
    mine.set_enlisted(true);
  } catch (...) {
  }
}
#endif

inline void enlist_stack(context_stack& stack) noexcept {
#if defined(STREAMBUS_TRACING_HAS_PTHREAD_ATFORK)
  static const bool fork_handler = [] {
    ::pthread_atfork(nullptr, nullptr, restart_stack_registry_in_child);
    return true;
  }();
  (void)fork_handler;
#endif
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

/// Tells `origin`'s thread that its entry (depth, id, owner) has ended, if
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
