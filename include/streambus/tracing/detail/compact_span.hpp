// The compact form in which an ended span travels to the export thread:
// the span's fields copied into the traced thread's byte ring (byte_ring.hpp)
// instead of handing over its record. The record stays on its thread and is
// reused at once (its cache lines never go to the other core and back); the
// export thread rebuilds a span_data from the bytes.
//
// Carried: ids, parent, name, kind, flags, times, status (code and message),
// attributes with scalar or string values, events (with such attributes) and
// the dropped counts. Spans with links, array-valued attributes, a
// tracestate or a name over max_name bytes travel as their record instead
// (span_lane), as does a span too large for its lane's ring.
//
// Payload layout (native byte order: both ends are this process):
//   0 trace id (16)   16 span id (8)   24 parent span id (8)
//   32 start ticks (8)   40 end ticks (8)
//   48 name length (u16), kind, trace flags, status, parent_is_remote,
//      sections (bits: attributes, events, status message), spare
//   56 name bytes, padded to 8
//   then, unaligned, each section present in this order:
//     attributes:     u32 dropped, u32 count, count x attribute
//     events:         u32 dropped, u32 count, count x {u64 time, u32 name length, name, attributes}
//     status message: u32 length, bytes
//   attribute: u8 type, u32 key length, key, value (u8 bool | 8-byte int64 or double |
//              u32 length + bytes for a string)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "../attributes.hpp"
#include "../span_data.hpp"
#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {
namespace compact_span {

constexpr std::size_t fixed_size = 56;
/// Longer names travel with the record (keeps compact records small).
constexpr std::size_t max_name = 200;

constexpr unsigned char has_attributes = 1;
constexpr unsigned char has_events = 2;
constexpr unsigned char has_status_message = 4;

static_assert(sizeof(trace_id) == 16 && std::is_trivially_copyable_v<trace_id>, "trace_id is 16 plain bytes");
static_assert(sizeof(span_id) == 8 && std::is_trivially_copyable_v<span_id>, "span_id is 8 plain bytes");

constexpr std::size_t padded(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

// Bytes an attribute list takes, or 0 when a value cannot be carried.
inline std::size_t attributes_size(const attribute_list& list) noexcept {
  std::size_t size = 8;
  for (const attribute& a : list) {
    size += 5 + a.key.size();
    switch (a.value.type()) {
      case attribute_type::boolean: size += 1; break;
      case attribute_type::int64:
      case attribute_type::float64: size += 8; break;
      case attribute_type::string: size += 4 + a.value.get_if<std::string>()->size(); break;
      default: return 0;  // arrays travel with the record
    }
  }
  return size;
}

/// The payload size for `r`, or 0 when `r` must travel as its record.
inline std::size_t measure(const span_data& r) noexcept {
  const std::size_t size = fixed_size + padded(r.name.size());
  // The usual span records nothing optional: one test for all of it.
  const std::size_t extras = r.attributes.size() | r.attributes.dropped() | r.events.size() | r.dropped_events |
                             r.status_message.size() | r.links.size() | r.dropped_links;
  const bool plain_ok = r.name.size() <= max_name && r.context.trace_state().empty() && r.times_are_ticks;
  if (extras == 0 && plain_ok) return size;
  if (!plain_ok || !r.links.empty() || r.dropped_links != 0) return 0;
  std::size_t total = size;
  if (!r.attributes.empty() || r.attributes.dropped() != 0) {
    const std::size_t a = attributes_size(r.attributes);
    if (a == 0) return 0;
    total += a;
  }
  if (!r.events.empty() || r.dropped_events != 0) {
    total += 8;
    for (const span_event& e : r.events) {
      const std::size_t a = attributes_size(e.attributes);
      if (a == 0) return 0;
      total += 12 + e.name.size() + a;
    }
  }
  if (!r.status_message.empty()) total += 4 + r.status_message.size();
  return total;
}

/// True when measure(r) == `size` says `r` recorded nothing optional but a status code.
inline bool is_plain(const span_data& r, std::size_t size) noexcept { return size == fixed_size + padded(r.name.size()); }

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

// Sequential writes and reads of the unaligned sections.
struct writer {
  unsigned char* at;
  void u8(unsigned char v) noexcept { *at++ = v; }
  void u32(std::size_t v) noexcept {
    const auto x = static_cast<std::uint32_t>(v);
    std::memcpy(at, &x, 4);
    at += 4;
  }
  template <class T>
  void word(const T& v) noexcept {
    static_assert(sizeof(T) == 8, "8-byte values");
    std::memcpy(at, &v, 8);
    at += 8;
  }
  void bytes(std::string_view s) noexcept {
    u32(s.size());
    std::memcpy(at, s.data(), s.size());
    at += s.size();
  }
  void attributes(const attribute_list& list) noexcept {
    u32(list.dropped());
    u32(list.size());
    for (const attribute& a : list) {
      u8(static_cast<unsigned char>(a.value.type()));
      bytes(a.key);
      switch (a.value.type()) {
        case attribute_type::boolean: u8(*a.value.get_if<bool>() ? 1 : 0); break;
        case attribute_type::int64: word(*a.value.get_if<std::int64_t>()); break;
        case attribute_type::float64: word(*a.value.get_if<double>()); break;
        default: bytes(*a.value.get_if<std::string>()); break;  // measure() let only strings through
      }
    }
  }
};

struct reader {
  const unsigned char* at;
  unsigned char u8() noexcept { return *at++; }
  std::uint32_t u32() noexcept {
    std::uint32_t v;
    std::memcpy(&v, at, 4);
    at += 4;
    return v;
  }
  template <class T>
  T word() noexcept {
    T v;
    std::memcpy(&v, at, 8);
    at += 8;
    return v;
  }
  std::string_view bytes() noexcept {
    const std::uint32_t n = u32();
    const std::string_view s(reinterpret_cast<const char*>(at), n);
    at += n;
    return s;
  }
  void attributes(attribute_list& list) {
    list.clear();
    list.add_dropped(u32());
    const std::uint32_t count = u32();
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto type = static_cast<attribute_type>(u8());
      attribute& a = list.append_unique(bytes());
      switch (type) {
        case attribute_type::boolean: a.value = attribute_value(u8() != 0); break;
        case attribute_type::int64: a.value = attribute_value(word<std::int64_t>()); break;
        case attribute_type::float64: a.value = attribute_value(word<double>()); break;
        default: a.value.assign_string(bytes()); break;
      }
    }
  }
};

/// Writes `size` = measure(r) bytes (non-zero).
inline void write(const span_data& r, std::size_t size, unsigned char* out) noexcept {
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
  if (is_plain(r, size)) return;
  unsigned char sections = 0;
  writer w{out + fixed_size + padded(r.name.size())};
  if (!r.attributes.empty() || r.attributes.dropped() != 0) {
    sections |= has_attributes;
    w.attributes(r.attributes);
  }
  if (!r.events.empty() || r.dropped_events != 0) {
    sections |= has_events;
    w.u32(r.dropped_events);
    w.u32(r.events.size());
    for (const span_event& e : r.events) {
      w.word(e.time_unix_nano);
      w.bytes(e.name);
      w.attributes(e.attributes);
    }
  }
  if (!r.status_message.empty()) {
    sections |= has_status_message;
    w.bytes(r.status_message);
  }
  out[54] = sections;
}

/// Rebuilds a record from a payload write() produced, reusing `out`'s
/// buffers. Throws only std::bad_alloc.
inline void read(const unsigned char* in, span_data& out) {
  out.clear_optional();
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
  out.times_are_ticks = true;
  const unsigned char sections = in[54];
  if (sections == 0) return;
  reader rd{in + fixed_size + padded(name_size)};
  if (sections & has_attributes) rd.attributes(out.attributes);
  if (sections & has_events) {
    out.dropped_events = rd.u32();
    const std::uint32_t count = rd.u32();
    for (std::uint32_t i = 0; i < count; ++i) {
      span_event& e = out.events.next_slot();
      e.time_unix_nano = rd.word<std::uint64_t>();
      const std::string_view name = rd.bytes();
      e.name.assign(name.data(), name.size());
      rd.attributes(e.attributes);
    }
  }
  if (sections & has_status_message) {
    const std::string_view message = rd.bytes();
    out.status_message.assign(message.data(), message.size());
  }
}

}  // namespace compact_span
}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
