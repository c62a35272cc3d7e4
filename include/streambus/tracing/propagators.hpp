// Propagators beside W3C Trace Context: B3 (single and multi-header), Jaeger
// (uber-trace-id and uberctx- baggage), and the composite that runs the list
// OTEL_PROPAGATORS names (tracecontext, baggage, b3, b3multi, jaeger, none).
// All of them read and write through carrier_traits (see propagation.hpp).
//
// B3 (openzipkin/b3-propagation, and the OpenTelemetry "B3 Requirements"):
//   b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]   or just  b3: {SamplingState}
//   x-b3-traceid, x-b3-spanid, x-b3-parentspanid, x-b3-sampled, x-b3-flags
// - TraceId is 32 or 16 lower-hex characters (16 are left-padded with zeros to
//   the 128-bit OpenTelemetry id), SpanId and ParentSpanId 16; zero ids are
//   invalid. SamplingState: 1 accept, 0 deny, d debug (debug implies accept);
//   absent = defer (extracted as not sampled). In the multi-header form
//   x-b3-sampled is 1/0 (true/false accepted, as the spec allows leniency) and
//   x-b3-flags: 1 is debug. A sampling state alone carries no ids, so it
//   extracts no context.
// - Extraction tries the single header first, then the multi-header form
//   (the single header takes precedence; an unusable one falls back).
// - Injection never writes a parent span id (OpenTelemetry MUST NOT), writes
//   the trace id as 32 characters, and writes debug as `d` / x-b3-flags: 1
//   (without x-b3-sampled, which debug implies).
//
// Jaeger (jaegertracing.io "Propagation Format"):
//   uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}
// - trace-id: 1 to 32 hex digits, span-id: 1 to 16, shorter values are
//   left-padded with zeros (receivers MUST accept them); zero is invalid.
//   parent-span-id (deprecated, ignored on receipt) 1 to 16 hex digits, sent
//   as "0". flags: one or two hex digits, 0x01 sampled, 0x02 debug (implies
//   sampled). A value whose colons arrive URL-encoded (%3A) is accepted.
//   Hex digits may be upper or lower case on receipt; lowercase is sent.
// - Baggage: one `uberctx-{key}: {url-encoded value}` header per entry.
//   Reading them needs the carrier's keys: the standard containers are walked
//   directly; a user carrier takes part when its carrier_traits provide
//   `template <class F> static void for_each_entry(const C&, F f)` calling
//   f(std::string_view key, std::string_view value) for every entry.
//
// The debug flag has no bit in the W3C trace flags. It travels in the
// span_context's trace_flags (debug(), which traceparent never shows), so the
// tracer's children of a debug request inject it again; the functions here
// also report it through a `bool* debug` out-parameter and take it as a
// parameter when injecting.
//
// Every extraction is all-or-nothing: a malformed value yields an invalid
// (default) span_context, never a partly filled one, and never throws.
// Extracted contexts are remote.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "baggage.hpp"
#include "context.hpp"
#include "ids.hpp"
#include "propagation.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

// Header names, lowercase (matched case-insensitively on receipt).
inline constexpr std::string_view b3_header = "b3";
inline constexpr std::string_view b3_trace_id_header = "x-b3-traceid";
inline constexpr std::string_view b3_span_id_header = "x-b3-spanid";
inline constexpr std::string_view b3_parent_span_id_header = "x-b3-parentspanid";
inline constexpr std::string_view b3_sampled_header = "x-b3-sampled";
inline constexpr std::string_view b3_flags_header = "x-b3-flags";
inline constexpr std::string_view jaeger_trace_header = "uber-trace-id";
inline constexpr std::string_view jaeger_baggage_prefix = "uberctx-";

namespace detail {

// Flags of an extracted B3 or Jaeger context; debug implies sampled (OpenTelemetry
// MUST), here rather than in each parser.
inline trace_flags pg_flags(bool sampled, bool debug) noexcept {
  return trace_flags(sampled || debug ? trace_flags::sampled_bit : 0).with_debug(debug);
}

// Lowercase hex of exactly out.size()*2 or (for a trace id) half that many
// characters, left-padded; B3 allows only lower-hex.
template <std::size_t N>
bool pg_b3_id(std::string_view hex, std::array<std::uint8_t, N>& out, bool allow_half) noexcept {
  if (hex.size() == 2 * N) return hex_to_bytes(hex, out);
  if (allow_half && hex.size() == N) {
    std::array<std::uint8_t, N / 2> low{};
    if (!hex_to_bytes(hex, low)) return false;
    out.fill(0);
    for (std::size_t i = 0; i < N / 2; ++i) out[N / 2 + i] = low[i];
    return true;
  }
  return false;
}

// 1..2N hex digits of either case, left-padded with zeros to N bytes.
template <std::size_t N>
bool pg_jaeger_id(std::string_view hex, std::array<std::uint8_t, N>& out) noexcept {
  if (hex.empty() || hex.size() > 2 * N) return false;
  out.fill(0);
  std::size_t nibble = 2 * N - hex.size();  // position of the first digit
  for (const char c : hex) {
    int v = hex_value(c);
    if (v < 0 && c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) return false;
    std::uint8_t& byte = out[nibble / 2];
    byte = static_cast<std::uint8_t>(byte | ((nibble % 2 == 0) ? (v << 4) : v));
    ++nibble;
  }
  return true;
}

// Splits `s` on `sep` into at most `max` parts; false if there are more.
template <std::size_t Max>
bool pg_split(std::string_view s, char sep, std::array<std::string_view, Max>& parts, std::size_t& count) noexcept {
  count = 0;
  while (true) {
    if (count == Max) return false;
    const std::size_t pos = s.find(sep);
    parts[count++] = s.substr(0, pos);
    if (pos == std::string_view::npos) return true;
    s.remove_prefix(pos + 1);
  }
}

// The first value of `key` in the carrier (B3: "the first value wins"),
// copied: a user carrier's views may only live during the callback.
template <class Carrier>
bool pg_first(const Carrier& carrier, std::string_view key, std::string& out) {
  bool found = false;
  carrier_traits<Carrier>::for_each(carrier, key, [&](std::string_view value) {
    if (!found) out.assign(value.data(), value.size());
    found = true;
  });
  return found;
}

// ---- walking every entry of a carrier (for uberctx-{key})

struct pg_entry_probe {
  void operator()(std::string_view, std::string_view) const noexcept {}
};

template <class Traits, class Carrier, class = void>
struct pg_has_for_each_entry : std::false_type {};
template <class Traits, class Carrier>
struct pg_has_for_each_entry<
    Traits, Carrier, std::void_t<decltype(Traits::for_each_entry(std::declval<const Carrier&>(), pg_entry_probe{}))>>
    : std::true_type {};

template <class Carrier, class = void>
struct pg_is_pair_range : std::false_type {};
template <class Carrier>
struct pg_is_pair_range<Carrier,
                        std::void_t<decltype(std::string_view(std::declval<const Carrier&>().begin()->first)),
                                    decltype(std::string_view(std::declval<const Carrier&>().begin()->second)),
                                    decltype(std::declval<const Carrier&>().end())>> : std::true_type {};

template <class Carrier>
inline constexpr bool pg_can_walk_v =
    pg_has_for_each_entry<carrier_traits<Carrier>, Carrier>::value || pg_is_pair_range<Carrier>::value;

// Calls f(key, value) for every entry; does nothing for a carrier it cannot walk.
template <class Carrier, class F>
void pg_for_each_entry(const Carrier& carrier, F&& f) {
  if constexpr (pg_has_for_each_entry<carrier_traits<Carrier>, Carrier>::value) {
    carrier_traits<Carrier>::for_each_entry(carrier, f);
  } else if constexpr (pg_is_pair_range<Carrier>::value) {
    for (const auto& kv : carrier) f(std::string_view(kv.first), std::string_view(kv.second));
  } else {
    static_cast<void>(carrier);
    static_cast<void>(f);
  }
}

}  // namespace detail

// ============================================================ B3

/// Parses a single-header `b3` value. On success `out` is a remote context and
/// *debug (if given) says whether the debug state `d` was sent; on failure
/// (including a sampling-state-only value, which has no ids) returns false and
/// leaves both untouched.
inline bool parse_b3_single(std::string_view value, span_context& out, bool* debug = nullptr) noexcept {
  value = detail::tc_trim_ows(value);
  std::array<std::string_view, 4> parts{};
  std::size_t n = 0;
  if (!detail::pg_split(value, '-', parts, n) || n < 2) return false;
  trace_id::bytes_type tid{};
  span_id::bytes_type sid{};
  if (!detail::pg_b3_id(parts[0], tid, true) || !detail::pg_b3_id(parts[1], sid, false)) return false;
  if (detail::all_zero(tid) || detail::all_zero(sid)) return false;
  bool sampled = false, dbg = false;
  if (n >= 3) {
    if (parts[2] == "1") {
      sampled = true;
    } else if (parts[2] == "d") {
      dbg = true;
    } else if (parts[2] != "0") {
      return false;
    }
  }
  if (n == 4) {  // the parent is read for validity only: OpenTelemetry does not use it
    span_id::bytes_type parent{};
    if (!detail::pg_b3_id(parts[3], parent, false)) return false;
  }
  out = span_context(trace_id(tid), span_id(sid), detail::pg_flags(sampled, dbg), /*remote=*/true);
  if (debug != nullptr) *debug = dbg;
  return true;
}

/// The single-header `b3` value of `ctx` ("{32 hex}-{16 hex}-{1|0|d}"), or an
/// empty string for an invalid context. `d` when `debug` or ctx's flags say so.
inline std::string format_b3_single(const span_context& ctx, bool debug = false) {
  if (!ctx.valid()) return {};
  debug = debug || ctx.flags().debug();
  std::string s(32 + 1 + 16 + 2, '-');
  ctx.trace_id().to_hex(s.data());
  ctx.span_id().to_hex(s.data() + 33);
  s[50] = debug ? 'd' : (ctx.sampled() ? '1' : '0');
  return s;
}

/// Reads B3 from the carrier: the `b3` header if it holds a usable value,
/// else the x-b3-* headers. Returns an invalid context when neither does.
template <class Carrier>
span_context extract_b3(const Carrier& carrier, bool* debug = nullptr) {
  std::string value;
  span_context ctx;
  bool dbg = false;
  if (detail::pg_first(carrier, b3_header, value) && parse_b3_single(value, ctx, &dbg)) {
    if (debug != nullptr) *debug = dbg;
    return ctx;
  }

  std::string tid_hex, sid_hex;
  if (!detail::pg_first(carrier, b3_trace_id_header, tid_hex) ||
      !detail::pg_first(carrier, b3_span_id_header, sid_hex))
    return span_context{};
  trace_id::bytes_type tid{};
  span_id::bytes_type sid{};
  if (!detail::pg_b3_id(detail::tc_trim_ows(tid_hex), tid, true) ||
      !detail::pg_b3_id(detail::tc_trim_ows(sid_hex), sid, false) || detail::all_zero(tid) ||
      detail::all_zero(sid))
    return span_context{};
  if (detail::pg_first(carrier, b3_parent_span_id_header, value)) {
    span_id::bytes_type parent{};
    if (!detail::pg_b3_id(detail::tc_trim_ows(value), parent, false)) return span_context{};
  }
  bool sampled = false;
  if (detail::pg_first(carrier, b3_sampled_header, value)) {
    const std::string_view v = detail::tc_trim_ows(value);
    if (v == "1" || v == "true") {
      sampled = true;
    } else if (v != "0" && v != "false") {
      return span_context{};
    }
  }
  // "Debug is encoded as X-B3-Flags: 1"; any other value is ignored.
  if (detail::pg_first(carrier, b3_flags_header, value) && detail::tc_trim_ows(value) == "1") dbg = true;
  if (debug != nullptr) *debug = dbg;
  return span_context(trace_id(tid), span_id(sid), detail::pg_flags(sampled, dbg), /*remote=*/true);
}

/// Writes the single `b3` header. An invalid context writes nothing.
template <class Carrier>
void inject_b3(const span_context& ctx, Carrier& carrier, bool debug = false) {
  if (!ctx.valid()) return;
  carrier_traits<Carrier>::set(carrier, b3_header, format_b3_single(ctx, debug));
}

/// Writes x-b3-traceid, x-b3-spanid and x-b3-sampled (or x-b3-flags: 1 for
/// debug). Stale x-b3-sampled / x-b3-flags / x-b3-parentspanid entries of a
/// reused carrier are removed when its traits can erase. An invalid context
/// writes nothing.
template <class Carrier>
void inject_b3_multi(const span_context& ctx, Carrier& carrier, bool debug = false) {
  using traits = carrier_traits<Carrier>;
  if (!ctx.valid()) return;
  debug = debug || ctx.flags().debug();
  traits::set(carrier, b3_trace_id_header, ctx.trace_id().to_hex());
  traits::set(carrier, b3_span_id_header, ctx.span_id().to_hex());
  if (debug) {
    traits::set(carrier, b3_flags_header, "1");
  } else {
    traits::set(carrier, b3_sampled_header, ctx.sampled() ? "1" : "0");
  }
  if constexpr (detail::has_erase<traits, Carrier>::value) {
    traits::erase(carrier, debug ? b3_sampled_header : b3_flags_header);
    traits::erase(carrier, b3_parent_span_id_header);
  }
}

// ============================================================ Jaeger

/// Parses an `uber-trace-id` value. On success `out` is a remote context and
/// *debug (if given) holds the debug flag; on failure returns false and
/// leaves both untouched.
inline bool parse_uber_trace_id(std::string_view value, span_context& out, bool* debug = nullptr) noexcept {
  value = detail::tc_trim_ows(value);
  // Colons sent URL-encoded: "%3A" (either case) stands for ':'. Anything
  // else with '%' is not hex and fails below.
  char buf[32 + 16 + 16 + 2 + 3];
  if (value.find('%') != std::string_view::npos) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (n == sizeof buf) return false;
      if (value[i] == '%' && value.size() - i >= 3 && value[i + 1] == '3' &&
          (value[i + 2] == 'A' || value[i + 2] == 'a')) {
        buf[n++] = ':';
        i += 2;
      } else {
        buf[n++] = value[i];
      }
    }
    value = std::string_view(buf, n);
  }
  std::array<std::string_view, 4> parts{};
  std::size_t n = 0;
  if (!detail::pg_split(value, ':', parts, n) || n != 4) return false;
  trace_id::bytes_type tid{};
  span_id::bytes_type sid{}, parent{};
  if (!detail::pg_jaeger_id(parts[0], tid) || !detail::pg_jaeger_id(parts[1], sid) ||
      !detail::pg_jaeger_id(parts[2], parent))
    return false;
  if (detail::all_zero(tid) || detail::all_zero(sid)) return false;
  std::array<std::uint8_t, 1> flags{};
  if (!detail::pg_jaeger_id(parts[3], flags)) return false;
  const bool dbg = (flags[0] & 0x02) != 0;
  out = span_context(trace_id(tid), span_id(sid), detail::pg_flags((flags[0] & 0x01) != 0, dbg), /*remote=*/true);
  if (debug != nullptr) *debug = dbg;
  return true;
}

/// "{32 hex}:{16 hex}:0:{flags}" (flags 00, 01, or 03 for debug, given or in
/// ctx's flags), or an empty string for an invalid context.
inline std::string format_uber_trace_id(const span_context& ctx, bool debug = false) {
  if (!ctx.valid()) return {};
  debug = debug || ctx.flags().debug();
  std::string s(32 + 1 + 16 + 1 + 1 + 1 + 2, ':');
  ctx.trace_id().to_hex(s.data());
  ctx.span_id().to_hex(s.data() + 33);
  s[50] = '0';
  s[52] = '0';
  s[53] = debug ? '3' : (ctx.sampled() ? '1' : '0');
  return s;
}

/// Reads `uber-trace-id` (the first one). Invalid context when it is missing
/// or malformed.
template <class Carrier>
span_context extract_jaeger(const Carrier& carrier, bool* debug = nullptr) {
  std::string value;
  span_context ctx;
  if (!detail::pg_first(carrier, jaeger_trace_header, value) || !parse_uber_trace_id(value, ctx, debug))
    return span_context{};
  return ctx;
}

/// Writes `uber-trace-id`. An invalid context writes nothing.
template <class Carrier>
void inject_jaeger(const span_context& ctx, Carrier& carrier, bool debug = false) {
  if (!ctx.valid()) return;
  carrier_traits<Carrier>::set(carrier, jaeger_trace_header, format_uber_trace_id(ctx, debug));
}

/// Writes one `uberctx-{key}` header per baggage entry, the value
/// percent-encoded (properties have no Jaeger form and are not sent).
template <class Carrier>
void inject_jaeger_baggage(const baggage& bag, Carrier& carrier) {
  std::string name, value;
  for (const baggage::entry& e : bag.entries()) {
    name.assign(jaeger_baggage_prefix.data(), jaeger_baggage_prefix.size());
    name.append(e.key);
    value.clear();
    detail::percent_encode(e.value, value, detail::bg_is_unreserved);
    carrier_traits<Carrier>::set(carrier, name, value);
  }
}

/// Reads every `uberctx-{key}` header (name matched case-insensitively, the
/// key kept as the carrier spells it) into baggage, values percent-decoded.
/// Entries with an empty or invalid key or a malformed escape are skipped, as
/// are entries past baggage::max_members. Carriers whose keys cannot be
/// walked (see the top of this file) give empty baggage.
template <class Carrier>
baggage extract_jaeger_baggage(const Carrier& carrier) {
  baggage bag;
  std::string decoded;
  detail::pg_for_each_entry(carrier, [&](std::string_view key, std::string_view value) {
    if (key.size() <= jaeger_baggage_prefix.size() ||
        !header_name_equals(key.substr(0, jaeger_baggage_prefix.size()), jaeger_baggage_prefix))
      return;
    const std::string_view name = key.substr(jaeger_baggage_prefix.size());
    if (bag.size() >= baggage::max_members && !bag.find(name)) return;
    if (!detail::percent_decode(detail::tc_trim_ows(value), decoded)) return;
    bag = bag.set(name, decoded);
  });
  return bag;
}

// ============================================================ composite

/// The propagators OTEL_PROPAGATORS can name (xray and ottrace are not provided).
enum class propagator_kind : std::uint8_t { tracecontext, baggage, b3, b3multi, jaeger };

/// The OTEL_PROPAGATORS name of a propagator.
inline std::string_view to_string(propagator_kind kind) noexcept {
  switch (kind) {
    case propagator_kind::tracecontext: return "tracecontext";
    case propagator_kind::baggage: return "baggage";
    case propagator_kind::b3: return "b3";
    case propagator_kind::b3multi: return "b3multi";
    case propagator_kind::jaeger: return "jaeger";
  }
  return "none";
}

/// The OpenTelemetry default: tracecontext,baggage.
inline std::vector<propagator_kind> default_propagators() {
  return {propagator_kind::tracecontext, propagator_kind::baggage};
}

/// Maps OTEL_PROPAGATORS names to propagators, in order, without duplicates.
/// Names are trimmed and compared case-insensitively; empty names are
/// skipped, and so is "none" (alone it gives an empty list; beside other
/// names it is ignored, as the tracer does with OTEL_PROPAGATORS). Unknown names (including
/// the spec's xray and ottrace, not provided here) are skipped and, when
/// `unknown` is given, appended to it for the caller to report.
inline std::vector<propagator_kind> parse_propagators(const std::vector<std::string>& names,
                                                      std::vector<std::string>* unknown = nullptr) {
  static constexpr propagator_kind all[] = {propagator_kind::tracecontext, propagator_kind::baggage,
                                            propagator_kind::b3, propagator_kind::b3multi, propagator_kind::jaeger};
  std::vector<propagator_kind> kinds;
  for (const std::string& raw : names) {
    const std::string_view name = detail::tc_trim_ows(raw);
    if (name.empty()) continue;
    if (header_name_equals(name, "none")) continue;
    bool known = false;
    for (const propagator_kind k : all) {
      if (!header_name_equals(name, to_string(k))) continue;
      known = true;
      bool present = false;
      for (const propagator_kind have : kinds) present = present || have == k;
      if (!present) kinds.push_back(k);
    }
    if (!known && unknown != nullptr) unknown->emplace_back(name);
  }
  return kinds;
}

/// parse_propagators() of a comma-separated list, as OTEL_PROPAGATORS holds it.
inline std::vector<propagator_kind> parse_propagator_list(std::string_view list,
                                                          std::vector<std::string>* unknown = nullptr) {
  std::vector<std::string> names;
  while (true) {
    const std::size_t comma = list.find(',');
    names.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return parse_propagators(names, unknown);
}

namespace detail {

// What a propagator list needs for inject_all's and extract's shortcuts.
struct pg_list_shape {
  bool w3c_only = false;  // tracecontext, optionally baggage, nothing else
  bool baggage = false;   // the baggage propagator is listed
};

inline pg_list_shape pg_shape(const std::vector<propagator_kind>& kinds) noexcept {
  bool w3c = false, others = false;
  pg_list_shape shape;
  for (const propagator_kind k : kinds) {
    w3c = w3c || k == propagator_kind::tracecontext;
    shape.baggage = shape.baggage || k == propagator_kind::baggage;
    others = others || (k != propagator_kind::tracecontext && k != propagator_kind::baggage);
  }
  shape.w3c_only = w3c && !others;
  return shape;
}

// A tracer's propagator list with its shape, read once. A disabled tracer
// keeps one too: OTEL_SDK_DISABLED "has no effect on propagators".
struct propagator_set {
  std::vector<propagator_kind> kinds;
  pg_list_shape shape;
  explicit propagator_set(std::vector<propagator_kind> k) : kinds(std::move(k)), shape(pg_shape(kinds)) {}
};

// A default-constructed tracer's: tracecontext,baggage. Never destroyed, so
// that a tracer in a static destructor can still use it. Made on first use
// with a compare-and-swap, not a guarded static (a fork() during another
// thread's initialisation would leave the child waiting on the guard). Out
// of memory, a set without propagators (nothing injected or extracted) until
// a later call can make it: its callers are noexcept.
STREAMBUS_TRACING_PROCESS_WIDE inline const propagator_set& default_propagator_set() noexcept {
  static std::atomic<const propagator_set*> slot{nullptr};  // constant-initialized: no guard
  const propagator_set* set = slot.load(std::memory_order_acquire);
  if (set != nullptr) return *set;
  try {
    auto fresh = std::make_unique<const propagator_set>(default_propagators());
    if (slot.compare_exchange_strong(set, fresh.get(), std::memory_order_acq_rel)) return *fresh.release();
    return *set;  // another thread's, made meanwhile
  } catch (...) {
    // Allocates nothing; never destroyed (see detail::registry()).
    alignas(propagator_set) static unsigned char storage[sizeof(propagator_set)];
    static const propagator_set* const none = ::new (static_cast<void*>(storage)) propagator_set(std::vector<propagator_kind>{});
    return *none;
  }
}

// The default list (tracecontext, baggage) with nothing but a traceparent to
// send, into a standard container: one walk writes traceparent and drops a
// stale tracestate (and, when `bag` is given and empty, a baggage header), as
// the two propagators would one after the other (they touch different names,
// so order does not matter). `bag` null: the baggage header is left alone.
// Returns false, having written nothing, where the shortcut does not apply.
template <class Carrier>
bool pg_inject_w3c_only(pg_list_shape shape, const span_context& ctx, const baggage* bag, Carrier& carrier) {
  using traits = carrier_traits<Carrier>;
  if constexpr (is_standard_carrier_v<Carrier>) {
    if (!shape.w3c_only || (bag != nullptr && !bag->empty()) || !ctx.trace_state().empty()) return false;
    char buf[traceparent_size];
    const std::size_t n = format_traceparent(ctx, buf);
    if (n == 0) return false;  // invalid context: the propagators' own rules
    traits::set_and_erase(carrier, traceparent_header, std::string_view(buf, n), tracestate_header,
                          shape.baggage && bag != nullptr ? baggage_header : std::string_view());
    return true;
  } else {
    static_cast<void>(shape), static_cast<void>(ctx), static_cast<void>(bag), static_cast<void>(carrier);
    return false;
  }
}

// Each listed propagator in order; `bag` null skips the baggage parts (the
// carrier's baggage headers are left as they are).
template <class Carrier>
void pg_inject_listed(const std::vector<propagator_kind>& kinds, const span_context& ctx, const baggage* bag,
                      Carrier& carrier, bool debug) {
  for (const propagator_kind k : kinds) {
    switch (k) {
      case propagator_kind::tracecontext: inject(ctx, carrier); break;
      case propagator_kind::baggage:
        if (bag != nullptr) inject_baggage(*bag, carrier);
        break;
      case propagator_kind::b3: inject_b3(ctx, carrier, debug); break;
      case propagator_kind::b3multi: inject_b3_multi(ctx, carrier, debug); break;
      case propagator_kind::jaeger:
        inject_jaeger(ctx, carrier, debug);
        if (bag != nullptr) inject_jaeger_baggage(*bag, carrier);
        break;
    }
  }
}

}  // namespace detail

/// Injects `ctx` and `bag` with every listed propagator, in order (an invalid
/// context writes no trace headers; empty baggage writes no baggage).
/// `debug` is the B3/Jaeger debug flag to send.
template <class Carrier>
void inject_all(const std::vector<propagator_kind>& kinds, const span_context& ctx, const baggage& bag,
                Carrier& carrier, bool debug = false) {
  if (detail::pg_inject_w3c_only(detail::pg_shape(kinds), ctx, &bag, carrier)) return;
  detail::pg_inject_listed(kinds, ctx, &bag, carrier, debug);
}

namespace detail {

// extract_all's walk over the propagators. `bag` null skips the baggage
// parts, for callers that only want the context. Returns the context itself
// (not a pair) so the usual one-propagator case moves it once.
template <class Carrier>
span_context pg_extract_composite(const std::vector<propagator_kind>& kinds, const Carrier& carrier, baggage* bag,
                                  bool* debug) {
  if (bag == nullptr) {
    // The default list (tracecontext, baggage) read for the context alone:
    // W3C is the only propagator that matters, so its result is the answer.
    if (pg_shape(kinds).w3c_only) {
      if (debug != nullptr) *debug = false;
      return extract(carrier);
    }
  }
  span_context ctx;
  bool dbg = false;
  const auto merge = [bag](const baggage& more) {
    if (bag->empty()) {
      *bag = more;
      return;
    }
    for (const baggage::entry& e : more.entries()) {
      // The same value again (e.g. from uberctx-, which has no properties)
      // keeps the properties already read.
      const baggage::entry* have = bag->find(e.key);
      if (have != nullptr && have->value == e.value && e.properties.empty()) continue;
      *bag = bag->set(e.key, e.value, e.properties);
    }
  };
  for (const propagator_kind k : kinds) {
    bool found_debug = false;
    span_context found = [&]() -> span_context {
      switch (k) {
        case propagator_kind::tracecontext: return extract(carrier);
        case propagator_kind::baggage:
          if (bag != nullptr) merge(extract_baggage(carrier));
          return {};
        case propagator_kind::b3:
        case propagator_kind::b3multi: return extract_b3(carrier, &found_debug);
        case propagator_kind::jaeger:
          if (bag != nullptr) merge(extract_jaeger_baggage(carrier));
          return extract_jaeger(carrier, &found_debug);
      }
      return {};
    }();
    if (found.valid()) {
      ctx = std::move(found);
      dbg = found_debug;
    }
  }
  if (debug != nullptr) *debug = dbg;
  return ctx;
}

}  // namespace detail

/// Extracts with every listed propagator, in order, as the OpenTelemetry
/// composite propagator does: each one that finds a valid context replaces
/// what an earlier one found (one that finds nothing keeps it), so the last
/// listed propagator with a valid context wins. Baggage from `baggage` and
/// from Jaeger's uberctx- headers is merged in the same order (a later value
/// of a key replaces an earlier one). *debug (if given) is the winning
/// propagator's debug flag (false for tracecontext).
template <class Carrier>
std::pair<span_context, baggage> extract_all(const std::vector<propagator_kind>& kinds, const Carrier& carrier,
                                             bool* debug = nullptr) {
  baggage bag;
  span_context ctx = detail::pg_extract_composite(kinds, carrier, &bag, debug);
  return {std::move(ctx), std::move(bag)};
}

/// extract_all without the baggage: the context only (what tracer::extract
/// returns), so no baggage header is looked for or parsed.
template <class Carrier>
span_context extract_context_all(const std::vector<propagator_kind>& kinds, const Carrier& carrier,
                                 bool* debug = nullptr) {
  return detail::pg_extract_composite(kinds, carrier, nullptr, debug);
}

STREAMBUS_TRACING_END_NAMESPACE
