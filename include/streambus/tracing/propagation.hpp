// W3C Trace Context (Level 1 and Level 2) propagation: the traceparent and
// tracestate headers, and the carrier adapters that read and write them.
//
//   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//                ^^ version (2 lowercase hex; ff forbidden)
//                   ^ trace-id (32 lowercase hex, not all zero)
//                                                    ^ parent-id (16, not all zero)
//                                                                     ^ trace-flags
//
// A carrier is anything holding header-like key/value pairs. std::map,
// std::multimap (so cpp-httplib's httplib::Headers), std::unordered_map and
// std::unordered_multimap of std::string work out of the box. Adapt your own
// type by specializing carrier_traits:
//
//   struct my_headers { std::vector<std::pair<std::string, std::string>> items; };
//
//   namespace streambus::tracing {
//   template <>
//   struct carrier_traits<my_headers> {
//     // Calls f(std::string_view value) for every value whose key matches
//     // `key` case-insensitively, in carrier order.
//     template <class F>
//     static void for_each(const my_headers& h, std::string_view key, F&& f) {
//       for (const auto& [k, v] : h.items)
//         if (header_name_equals(k, key)) f(std::string_view(v));
//     }
//     // Replaces every entry whose key matches case-insensitively.
//     static void set(my_headers& h, std::string_view key, std::string_view value) {
//       auto& v = h.items;
//       v.erase(std::remove_if(v.begin(), v.end(),
//                              [&](const auto& kv) { return header_name_equals(kv.first, key); }),
//               v.end());
//       v.emplace_back(std::string(key), std::string(value));
//     }
//   };
//   }  // namespace streambus::tracing
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "context.hpp"
#include "header_name.hpp"
#include "ids.hpp"
#include "trace_state.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// Header names, lowercase as the spec says to send them (they are matched
/// case-insensitively on receipt).
inline constexpr std::string_view traceparent_header = "traceparent";
inline constexpr std::string_view tracestate_header = "tracestate";

/// Length of a version-00 traceparent value.
inline constexpr std::size_t traceparent_size = 55;

/// Parses a traceparent value into a remote span_context (empty tracestate).
/// Returns false, leaving `out` unchanged, when the value must be ignored.
///
/// Leading and trailing OWS (spaces and tabs) are removed first: HTTP strips
/// them from field values (RFC 7230 section 3.2.4), not every carrier does,
/// and the official W3C test suite (test_traceparent_ows_handling) requires
/// " 00-...-01", "\t00-...-01", "00-...-01 " and "\t 00-...-01 \t" to parse.
///
/// Version 00 must be exactly 55 characters. A higher version (not ff) is
/// parsed as the spec's "Versioning of traceparent" says: at least 55
/// characters, the first four fields as in version 00, and if longer, a '-'
/// right after the flags; what follows is not examined. Flag bits other than
/// sampled (0x01) and random (0x02, Level 2) are accepted and dropped, so they
/// are never forwarded ("vendors MUST set those to zero").
inline bool parse_traceparent(std::string_view value, span_context& out) noexcept {
  // Trimmed only when an end is OWS (rare): the general trim was a call.
  if (!value.empty() && (detail::tc_is_ows(value.front()) || detail::tc_is_ows(value.back())))
    value = detail::tc_trim_ows(value);
  if (value.size() < traceparent_size) return false;
  const auto hex = [&value](std::size_t i) { return detail::hex_decode.value[static_cast<unsigned char>(value[i])]; };
  const int version_hi = hex(0);
  const int version_lo = hex(1);
  if ((version_hi | version_lo) > 0x0f) return false;  // not lowercase hex (also rejects uppercase)
  const int version = (version_hi << 4) | version_lo;
  if (version == 0xff) return false;
  if (version == 0 && value.size() != traceparent_size) return false;
  if (value.size() > traceparent_size && value[traceparent_size] != '-') return false;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return false;

  streambus::tracing::trace_id tid;
  streambus::tracing::span_id sid;
  // Views, not substr(): the size is checked above, and substr's range check was a call.
  if (!streambus::tracing::trace_id::from_hex(std::string_view(value.data() + 3, 32), tid) || !tid.valid()) return false;
  if (!streambus::tracing::span_id::from_hex(std::string_view(value.data() + 36, 16), sid) || !sid.valid()) return false;
  const int flags_hi = hex(53);
  const int flags_lo = hex(54);
  if ((flags_hi | flags_lo) > 0x0f) return false;

  out = span_context(tid, sid, trace_flags(static_cast<std::uint8_t>((flags_hi << 4) | flags_lo)),
                     /*remote=*/true);
  return true;
}

/// Writes the 55-character version-00 traceparent of `ctx` to `out` (no
/// terminator) and returns 55, or writes nothing and returns 0 if `ctx` is
/// invalid. Only the known flag bits are written.
inline std::size_t format_traceparent(const span_context& ctx, char* out) noexcept {
  if (!ctx.valid()) return 0;
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  ctx.trace_id().to_hex(out + 3);
  out[35] = '-';
  ctx.span_id().to_hex(out + 36);
  out[52] = '-';
  const std::uint8_t flags = ctx.flags().bits() & trace_flags::known_bits;
  out[53] = detail::hex_digits[flags >> 4];
  out[54] = detail::hex_digits[flags & 0x0f];
  return traceparent_size;
}

/// The traceparent of `ctx`, or an empty string if `ctx` is invalid.
inline std::string format_traceparent(const span_context& ctx) {
  char buf[traceparent_size];
  return std::string(buf, format_traceparent(ctx, buf));
}

/// How inject/extract read and write a carrier. Specialize for your own types
/// (see the example at the top of this file); the second parameter is there
/// for enable_if-style partial specializations.
template <class Carrier, class = void>
struct carrier_traits;

namespace detail {

// Any associative container of std::string -> std::string. A linear scan,
// because the container's own ordering or hashing is usually case-sensitive
// and header names must match in any case; header sets are small.
template <class Container>
struct tc_associative_carrier {
  template <class F>
  static void for_each(const Container& c, std::string_view key, F&& f) {
    for (const auto& kv : c)
      if (header_name_equals(kv.first, key)) f(std::string_view(kv.second));
  }
  static void set(Container& c, std::string_view key, std::string_view value) { set_and_erase(c, key, value, {}); }
  // set(), and in the same walk removes every entry named `also_erase` or
  // `also_erase2` (when not empty): inject() replaces traceparent and drops a
  // stale tracestate (and, through the tracer, a stale baggage header).
  static void set_and_erase(Container& c, std::string_view key, std::string_view value, std::string_view also_erase,
                            std::string_view also_erase2 = {}) {
    // Overwrite an entry spelled exactly like key in place (no node or string
    // allocation when a carrier is reused); drop every other spelling.
    bool assigned = false;
    for (auto it = c.begin(); it != c.end();) {
      const std::string_view name(it->first);
      // The exact spelling first (the usual case): sizes, then one compare
      // (spelled out: string_view's operator== was left out of line here).
      if (!assigned && name.size() == key.size() &&
          std::char_traits<char>::compare(name.data(), key.data(), key.size()) == 0) {
        if (it->second.size() == value.size() && !value.empty())
          std::memcpy(&it->second[0], value.data(), value.size());  // the usual re-inject: same length, in place
        else
          it->second.assign(value.data(), value.size());
        assigned = true;
        ++it;
      } else if (header_name_equals(name, key) || (!also_erase.empty() && header_name_equals(name, also_erase)) ||
                 (!also_erase2.empty() && header_name_equals(name, also_erase2))) {
        it = c.erase(it);
      } else {
        ++it;
      }
    }
    if (!assigned) c.emplace(std::string(key), std::string(value));
  }
  static void erase(Container& c, std::string_view key) {
    for (auto it = c.begin(); it != c.end();) {
      if (header_name_equals(it->first, key))
        it = c.erase(it);
      else
        ++it;
    }
  }
};

// Whether a carrier's traits can remove a header (optional for user adapters).
template <class Traits, class Carrier, class = void>
struct has_erase : std::false_type {};
template <class Traits, class Carrier>
struct has_erase<Traits, Carrier,
                 std::void_t<decltype(Traits::erase(std::declval<Carrier&>(), std::string_view()))>>
    : std::true_type {};

// Whether Carrier is one of the standard containers above (its traits are
// tc_associative_carrier): those get the one-walk inject and extract paths.
template <class Carrier>
inline constexpr bool is_standard_carrier_v = std::is_base_of_v<tc_associative_carrier<Carrier>, carrier_traits<Carrier>>;

}  // namespace detail

template <class Compare, class Alloc>
struct carrier_traits<std::map<std::string, std::string, Compare, Alloc>>
    : detail::tc_associative_carrier<std::map<std::string, std::string, Compare, Alloc>> {};

/// Also httplib::Headers (a std::multimap with a case-insensitive compare).
/// Values of equal keys are visited in insertion order.
template <class Compare, class Alloc>
struct carrier_traits<std::multimap<std::string, std::string, Compare, Alloc>>
    : detail::tc_associative_carrier<std::multimap<std::string, std::string, Compare, Alloc>> {};

template <class Hash, class KeyEqual, class Alloc>
struct carrier_traits<std::unordered_map<std::string, std::string, Hash, KeyEqual, Alloc>>
    : detail::tc_associative_carrier<std::unordered_map<std::string, std::string, Hash, KeyEqual, Alloc>> {};

/// Note: the standard does not fix the iteration order of equal keys in an
/// unordered_multimap, so a tracestate split over several entries of one may
/// be joined out of order. Send tracestate as one entry there.
template <class Hash, class KeyEqual, class Alloc>
struct carrier_traits<std::unordered_multimap<std::string, std::string, Hash, KeyEqual, Alloc>>
    : detail::tc_associative_carrier<std::unordered_multimap<std::string, std::string, Hash, KeyEqual, Alloc>> {};

/// Writes `traceparent` (always version 00) and, when non-empty, `tracestate`
/// into the carrier, replacing existing entries of those names in any case.
/// A stale `tracestate` left in a reused carrier is removed when the context
/// has none (if the carrier's traits provide `erase`, as the standard
/// containers' do). An invalid context writes nothing.
template <class Carrier>
void inject(const span_context& ctx, Carrier& carrier) {
  using traits = carrier_traits<Carrier>;
  char buf[traceparent_size];
  const std::size_t n = format_traceparent(ctx, buf);
  if (n == 0) return;
  if constexpr (detail::is_standard_carrier_v<Carrier>) {
    if (ctx.trace_state().empty()) {  // one walk over a standard container
      traits::set_and_erase(carrier, traceparent_header, std::string_view(buf, n), tracestate_header);
      return;
    }
  }
  traits::set(carrier, traceparent_header, std::string_view(buf, n));
  if (!ctx.trace_state().empty()) {
    traits::set(carrier, tracestate_header, ctx.trace_state().header());
  } else if constexpr (detail::has_erase<traits, Carrier>::value) {
    traits::erase(carrier, tracestate_header);
  }
}

/// Reads the remote context from the carrier. Returns an invalid (default)
/// span_context if traceparent is missing, invalid or present more than once;
/// the tracestate is then not even looked at, as the spec requires. Several
/// tracestate values are joined with "," in carrier order (RFC 7230 field
/// combination); an invalid tracestate is dropped and the context kept.
template <class Carrier>
span_context extract(const Carrier& carrier) {
  using traits = carrier_traits<Carrier>;
  span_context ctx;
  std::size_t count = 0;
  bool ok = false;
  std::string joined;
  bool any = false;
  // Parse inside the callbacks: a user carrier may hand out views that only
  // live for the duration of the call.
  const auto on_traceparent = [&](std::string_view value) {
    if (count == 0) ok = parse_traceparent(value, ctx);
    if (count < 2) ++count;
  };
  const auto on_tracestate = [&](std::string_view value) {
    if (any) joined.push_back(',');
    joined.append(value.data(), value.size());
    any = true;
  };
  if constexpr (detail::is_standard_carrier_v<Carrier>) {
    // The standard containers: one walk over the entries finds both headers
    // (in carrier order, as two lookups would).
    for (const auto& kv : carrier) {
      const std::string_view key(kv.first);
      if (header_name_equals(key, traceparent_header))
        on_traceparent(std::string_view(kv.second));
      else if (header_name_equals(key, tracestate_header))
        on_tracestate(std::string_view(kv.second));
    }
    if (count != 1 || !ok) return span_context{};
  } else {
    traits::for_each(carrier, traceparent_header, on_traceparent);
    if (count != 1 || !ok) return span_context{};
    traits::for_each(carrier, tracestate_header, on_tracestate);
  }
  if (any) {
    trace_state state;
    if (trace_state::parse(joined, state)) ctx.set_trace_state(std::move(state));
  }
  return ctx;
}

STREAMBUS_TRACING_END_NAMESPACE
