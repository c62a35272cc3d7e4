// span_data: the record of one span, as exporters read it.
//
// Records are recycled (see detail/record_pool.hpp): every list in here keeps
// its storage when cleared, so a steady workload reuses memory instead of
// allocating per span.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "attributes.hpp"
#include "clock.hpp"
#include "context.hpp"
#include "detail/copy_chars.hpp"
#include "detail/slot_list.hpp"
#include "ids.hpp"
#include "span_kind.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

struct span_event {
  std::string name;
  std::uint64_t time_unix_nano = 0;
  attribute_list attributes;
  /// Internal: the time was given by the caller (add_event(name, time)), as
  /// epoch nanoseconds, rather than read from the span clock.
  bool time_given = false;
};

struct span_link {
  span_context context;
  attribute_list attributes;
};

/// The library (or user code) that produced the spans: OTLP's InstrumentationScope.
struct instrumentation_scope {
  std::string name = "streambus.tracing";
  std::string version = STREAMBUS_TRACING_VERSION_STRING;
};

/// The entity producing telemetry: service.name, telemetry.sdk.*, user attributes.
struct resource {
  attribute_list attributes;
};

namespace detail {

// Who still points at a record from a thread's current-span stack, for spans
// that end on another thread than the one they are current on (see
// span::end). Copies start blank: the flag belongs to one record object.
class stack_ref {
 public:
  static constexpr std::uint8_t referenced = 0;  // on the origin thread's stack (or not pushed at all)
  static constexpr std::uint8_t dropped = 1;     // the origin thread removed its entry
  static constexpr std::uint8_t orphaned = 2;    // ended elsewhere; the origin thread frees it

  stack_ref() noexcept = default;
  stack_ref(const stack_ref&) noexcept {}
  stack_ref& operator=(const stack_ref&) noexcept { return *this; }

  // Both sides race to claim the record; whoever loses learns the other's
  // state. acq_rel: the winner's writes to the record happen-before the
  // loser's reuse or release of it.
  std::uint8_t claim(std::uint8_t desired) noexcept {
    std::uint8_t expected = referenced;
    state_.compare_exchange_strong(expected, desired, std::memory_order_acq_rel);
    return expected;
  }
  bool is_orphaned() const noexcept { return state_.load(std::memory_order_acquire) == orphaned; }
  void reset() noexcept {
    if (state_.load(std::memory_order_relaxed) != referenced) state_.store(referenced, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint8_t> state_{referenced};
};

}  // namespace detail

/// A span's name: a string that keeps its storage when reassigned, with an
/// inline buffer for the usual short names. Assigning is a length check and a
/// memcpy (std::string::assign's general path cost more than the rest of
/// starting a span). Reads like a std::string_view.
class span_name {
 public:
  static constexpr std::size_t inline_capacity = 40;  // the whole span_name is 56 bytes

  span_name() noexcept = default;
  span_name(std::string_view s) { assign(s); }  // NOLINT: implicit, like the std::string it replaces
  span_name(const char* s) { assign(s); }       // NOLINT
  span_name(const std::string& s) { assign(s); }  // NOLINT
  span_name(const span_name& other) { assign(other.view()); }
  span_name& operator=(const span_name& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  span_name& operator=(std::string_view s) {
    assign(s);
    return *this;
  }
  span_name& operator=(const char* s) { return *this = std::string_view(s); }
  span_name& operator=(const std::string& s) { return *this = std::string_view(s); }

  /// Copies s, growing only when it does not fit (may throw std::bad_alloc).
  STREAMBUS_TRACING_ALWAYS_INLINE void assign(std::string_view s) {
    const std::size_t n = s.size();
    if (n > capacity_) grow(n);
    detail::copy_chars(buffer(), s.data(), n);
    size_ = static_cast<std::uint32_t>(n);
  }
  void assign(const char* s, std::size_t n) { assign(std::string_view(s, n)); }
  void clear() noexcept { size_ = 0; }

  const char* data() const noexcept { return heap_ ? heap_.get() : inline_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t length() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::string_view view() const noexcept { return {data(), size_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: reads as a string_view
  std::string str() const { return std::string(view()); }
  const char* begin() const noexcept { return data(); }
  const char* end() const noexcept { return data() + size_; }

  friend bool operator==(const span_name& a, const span_name& b) noexcept { return a.view() == b.view(); }
  friend bool operator!=(const span_name& a, const span_name& b) noexcept { return a.view() != b.view(); }
  friend bool operator==(const span_name& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator!=(const span_name& a, std::string_view b) noexcept { return a.view() != b; }
  friend bool operator==(std::string_view a, const span_name& b) noexcept { return a == b.view(); }
  friend bool operator!=(std::string_view a, const span_name& b) noexcept { return a != b.view(); }
  friend bool operator==(const span_name& a, const char* b) noexcept { return a.view() == std::string_view(b); }
  friend bool operator!=(const span_name& a, const char* b) noexcept { return a.view() != std::string_view(b); }
  friend bool operator==(const span_name& a, const std::string& b) noexcept { return a.view() == b; }
  friend bool operator!=(const span_name& a, const std::string& b) noexcept { return a.view() != b; }
  friend bool operator==(const std::string& a, const span_name& b) noexcept { return b.view() == a; }
  friend bool operator!=(const std::string& a, const span_name& b) noexcept { return b.view() != a; }
  friend bool operator==(const char* a, const span_name& b) noexcept { return b.view() == std::string_view(a); }
  friend bool operator!=(const char* a, const span_name& b) noexcept { return b.view() != std::string_view(a); }
  friend bool operator<(const span_name& a, const span_name& b) noexcept { return a.view() < b.view(); }

 private:
  char* buffer() noexcept { return heap_ ? heap_.get() : inline_; }

  void grow(std::size_t n) {
    if (n > UINT32_MAX) throw std::length_error("span name too long");
    std::unique_ptr<char[]> bigger(new char[n]);
    heap_ = std::move(bigger);  // old contents are about to be overwritten
    capacity_ = static_cast<std::uint32_t>(n);
  }

  std::unique_ptr<char[]> heap_;  // null while the name fits inline_
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = inline_capacity;
  char inline_[inline_capacity];
};

/// Everything recorded about one span.
///
/// Layout, for the two threads a record passes between: the fields every span
/// writes at start and end fill the first two cache lines (which the record
/// pool prefetches); the fields only spans with attributes, events, links or
/// a status touch start on the third line. The export thread writes nothing
/// there, so a recycled record's cold lines stay valid in the traced thread's
/// cache.
struct alignas(64) span_data {
  span_context context;  // trace id, span id, flags, tracestate
  span_id parent_span_id;
  span_name name;
  std::uint64_t start_time_unix_nano = 0;
  std::uint64_t end_time_unix_nano = 0;
  span_kind kind = span_kind::internal;
  bool parent_is_remote = false;
  /// Internal: 0 when every time is in epoch nanoseconds; else `ticks`: the
  /// times still hold raw span-clock readings (detail::span_clock_ticks),
  /// which the pipeline converts (detail::settle_times) before any exporter
  /// sees the span, except a start or end the caller gave (`start_given`,
  /// `end_given`: already epoch nanoseconds). One byte, so that starting a
  /// span writes it once and the common case is one test.
  std::uint8_t time_form = 0;
  static constexpr std::uint8_t ticks = 1;
  static constexpr std::uint8_t start_given = 2;
  static constexpr std::uint8_t end_given = 4;

  alignas(64) status_code status = status_code::unset;
  /// Internal: cross-thread end bookkeeping.
  detail::stack_ref stack_ref;
  std::uint32_t dropped_events = 0;
  std::uint32_t dropped_links = 0;
  std::string status_message;
  attribute_list attributes;
  detail::slot_list<span_event> events;
  detail::slot_list<span_link> links;

  std::uint64_t duration_ns() const noexcept {
    return end_time_unix_nano > start_time_unix_nano ? end_time_unix_nano - start_time_unix_nano : 0;
  }

  /// Blanks what only some spans record, keeping every buffer; starting a
  /// span overwrites the rest (ids, name, kind, times). Writes only what
  /// differs from blank: reading a line this core still holds is cheap,
  /// writing one the other core shares is not.
  void clear_optional() noexcept {
    if (status != status_code::unset) status = status_code::unset;
    stack_ref.reset();
    if (dropped_events != 0) dropped_events = 0;
    if (dropped_links != 0) dropped_links = 0;
    if (!status_message.empty()) status_message.clear();
    if (!attributes.empty() || attributes.dropped() != 0) attributes.clear();
    if (!events.empty()) events.clear();
    if (!links.empty()) links.clear();
  }
};

namespace detail {

/// Epoch nanoseconds of a raw span-clock reading, with the mapping of now.
inline std::uint64_t ticks_to_unix_nano(std::uint64_t ticks) noexcept {
  return span_clock_ns_to_unix_nano(span_clock_ticks_to_ns(ticks));
}

/// settle_times for a span with a start or end its caller gave: those are
/// kept, the measured ones are mapped as they are, the end is not before the
/// start and the measured events lie between the two.
inline void settle_given_times(span_data& r) noexcept {
  const std::uint64_t start = (r.time_form & span_data::start_given) != 0 ? r.start_time_unix_nano
                                                                          : ticks_to_unix_nano(r.start_time_unix_nano);
  std::uint64_t end = (r.time_form & span_data::end_given) != 0 ? r.end_time_unix_nano
                                                                : ticks_to_unix_nano(r.end_time_unix_nano);
  if (end < start) end = start;
  r.start_time_unix_nano = start;
  r.end_time_unix_nano = end;
  for (span_event& e : r.events) {
    if (e.time_given) continue;
    const std::uint64_t t = ticks_to_unix_nano(e.time_unix_nano);
    e.time_unix_nano = t < start ? start : t > end ? end : t;
  }
  r.time_form = 0;
}

/// Converts a record's raw clock readings (start, end and its events') to
/// epoch nanoseconds, once, all with one mapping: the duration is the measured
/// one and never negative, and every event lies within its span. (Events
/// converted when recorded, with the mapping of that moment, once fell
/// microseconds outside the span, or 1000 s after it when the system clock
/// was stepped back meanwhile.) Times the caller gave are kept as given.
inline void settle_times(span_data& r) noexcept {
  if (r.time_form == 0) return;
  if (r.time_form != span_data::ticks) {
    settle_given_times(r);
    return;
  }
  const std::int64_t start_ns = span_clock_ticks_to_ns(r.start_time_unix_nano);
  std::int64_t end_ns = span_clock_ticks_to_ns(r.end_time_unix_nano);
  if (end_ns < start_ns) end_ns = start_ns;
  const std::uint64_t start_unix = span_clock_ns_to_unix_nano(start_ns);
  r.start_time_unix_nano = start_unix;
  r.end_time_unix_nano = start_unix + static_cast<std::uint64_t>(end_ns - start_ns);
  for (span_event& e : r.events) {
    if (e.time_given) continue;
    std::int64_t ns = span_clock_ticks_to_ns(e.time_unix_nano);
    ns = ns < start_ns ? start_ns : ns > end_ns ? end_ns : ns;
    e.time_unix_nano = start_unix + static_cast<std::uint64_t>(ns - start_ns);
  }
  r.time_form = 0;
}

/// What the pipeline does to a record before any exporter sees it: its times
/// settled, and its attribute keys (the span's, its events' and links')
/// repaired where ill-formed, which may merge keys (attribute_list::repair_keys).
inline void settle_for_export(span_data& r) noexcept {
  settle_times(r);
  if ((r.attributes.size() | r.events.size() | r.links.size()) == 0) return;  // plain spans: one test
  try {
    r.attributes.repair_keys();
    for (span_event& e : r.events) e.attributes.repair_keys();
    for (span_link& l : r.links) l.attributes.repair_keys();
  } catch (...) {  // out of memory: the keys stay as they were (the encoders still repair their bytes)
  }
}

}  // namespace detail

STREAMBUS_TRACING_END_NAMESPACE
