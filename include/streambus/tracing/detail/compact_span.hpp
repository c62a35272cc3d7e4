// The compact form in which an ended span travels to the export thread when
// it recorded nothing beyond what every span has (ids, parent, name, kind,
// flags, times, a status code): 56 fixed bytes and the name, copied into the
// traced thread's byte ring (byte_ring.hpp) instead of handing over its
// record. The record stays on its thread and is reused at once (its cache
// lines never go to the other core and back); the export thread rebuilds a
// span_data from the bytes. Spans with attributes, events, links, a status
// message, a tracestate or a name over max_name bytes travel as their record
// (span_lane), so a queue of max_queue_size spans keeps its meaning whatever
// the spans carry. (Carrying attributes and events too was measured: 13 ns
// more per span of case 2, see bench/README.md.)
//
// Payload layout (native byte order: both ends are this process):
//   0 trace id (16)   16 span id (8)   24 parent span id (8)
//   32 start ticks (8)   40 end ticks (8)
//   48 name length (u16), kind, trace flags, status, parent_is_remote, 2 spare
//   56 name bytes, padded to 8
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "../span_data.hpp"
#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {
namespace compact_span {

constexpr std::size_t fixed_size = 56;
/// Longer names travel with the record (keeps compact records small).
constexpr std::size_t max_name = 200;

static_assert(sizeof(trace_id) == 16 && std::is_trivially_copyable_v<trace_id>, "trace_id is 16 plain bytes");
static_assert(sizeof(span_id) == 8 && std::is_trivially_copyable_v<span_id>, "span_id is 8 plain bytes");

constexpr std::size_t padded(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

/// The payload size for `r`, or 0 when `r` must travel as its record.
inline std::size_t measure(const span_data& r) noexcept {
  // One test for everything optional: this runs for every span.
  const std::size_t extras = r.attributes.size() | r.attributes.dropped() | r.events.size() | r.dropped_events |
                             r.status_message.size() | r.links.size() | r.dropped_links;
  if (extras != 0 || r.name.size() > max_name || !r.context.trace_state().empty() ||
      r.time_form != span_data::ticks)
    return 0;
  return fixed_size + padded(r.name.size());
}

/// Copies a name into a record padded to 8 bytes: an inline name in whole
/// words (the padding is the record's own; a libc memcpy call for a few
/// bytes costs more than the words), a longer one with memcpy.
inline void copy_name(const span_name& name, unsigned char* out) noexcept {
  const std::size_t n = name.size();
  if (n > span_name::inline_capacity) {
    std::memcpy(out, name.data(), n);
    return;
  }
  static_assert(span_name::inline_capacity % 8 == 0, "the inline buffer is whole words");
  const char* in = name.data();
  for (std::size_t i = 0; i < n; i += 8) std::memcpy(out + i, in + i, 8);
}

/// Writes measure(r) bytes (which must be non-zero).
inline void write(const span_data& r, unsigned char* out) noexcept {
  std::memcpy(out, &r.context.trace_id(), 16);
  std::memcpy(out + 16, &r.context.span_id(), 8);
  std::memcpy(out + 24, &r.parent_span_id, 8);
  std::memcpy(out + 32, &r.start_time_unix_nano, 8);
  std::memcpy(out + 40, &r.end_time_unix_nano, 8);
  const auto name_size = static_cast<std::uint16_t>(r.name.size());
  std::memcpy(out + 48, &name_size, 2);
  out[50] = static_cast<unsigned char>(r.kind);
  out[51] = r.context.flags().bits();
  out[52] = static_cast<unsigned char>(r.status);
  out[53] = r.parent_is_remote ? 1 : 0;
  out[54] = 0;
  out[55] = 0;
  copy_name(r.name, out + fixed_size);
}

/// Rebuilds a record from a payload write() produced. `out` must have blank
/// optional fields (span_data::clear_optional). Throws only std::bad_alloc.
inline void read(const unsigned char* in, span_data& out) {
  trace_id tid;
  span_id sid;
  std::memcpy(&tid, in, 16);
  std::memcpy(&sid, in + 16, 8);
  std::memcpy(&out.parent_span_id, in + 24, 8);
  std::memcpy(&out.start_time_unix_nano, in + 32, 8);
  std::memcpy(&out.end_time_unix_nano, in + 40, 8);
  std::uint16_t name_size = 0;
  std::memcpy(&name_size, in + 48, 2);
  out.name.assign(std::string_view(reinterpret_cast<const char*>(in + fixed_size), name_size));
  out.kind = static_cast<span_kind>(in[50]);
  out.context = span_context(tid, sid, trace_flags(in[51]));
  out.status = static_cast<status_code>(in[52]);
  out.parent_is_remote = in[53] != 0;
  out.time_form = span_data::ticks;
}

}  // namespace compact_span
}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
