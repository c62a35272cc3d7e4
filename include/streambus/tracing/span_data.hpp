// span_data: the record of one span, as exporters read it.
//
// Records are recycled (see detail/record_pool.hpp): every list in here keeps
// its storage when cleared, so a steady workload reuses memory instead of
// allocating per span.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "attributes.hpp"
#include "clock.hpp"
#include "context.hpp"
#include "detail/slot_list.hpp"
#include "ids.hpp"
#include "span_kind.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

struct span_event {
  std::string name;
  std::uint64_t time_unix_nano = 0;
  attribute_list attributes;
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
  void reset() noexcept { state_.store(referenced, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint8_t> state_{referenced};
};

}  // namespace detail

/// Everything recorded about one span.
struct span_data {
  span_context context;  // trace id, span id, flags, tracestate
  span_id parent_span_id;
  bool parent_is_remote = false;
  std::string name;
  span_kind kind = span_kind::internal;
  std::uint64_t start_time_unix_nano = 0;
  std::uint64_t end_time_unix_nano = 0;
  status_code status = status_code::unset;
  std::string status_message;
  attribute_list attributes;
  detail::slot_list<span_event> events;
  detail::slot_list<span_link> links;
  std::uint32_t dropped_events = 0;
  std::uint32_t dropped_links = 0;

  /// Monotonic start, so the end time is start + a monotonic duration.
  std::int64_t start_steady_ns = 0;
  /// Internal: cross-thread end bookkeeping.
  detail::stack_ref stack_ref;

  std::uint64_t duration_ns() const noexcept {
    return end_time_unix_nano > start_time_unix_nano ? end_time_unix_nano - start_time_unix_nano : 0;
  }

  /// Back to a blank record, keeping every buffer for the next span.
  void reset() noexcept {
    context = span_context{};
    parent_span_id = span_id{};
    parent_is_remote = false;
    name.clear();
    kind = span_kind::internal;
    start_time_unix_nano = end_time_unix_nano = 0;
    status = status_code::unset;
    status_message.clear();
    attributes.clear();
    events.clear();
    links.clear();
    dropped_events = dropped_links = 0;
    start_steady_ns = 0;
    stack_ref.reset();
  }
};

STREAMBUS_TRACING_END_NAMESPACE
