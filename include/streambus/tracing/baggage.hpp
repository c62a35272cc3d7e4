// W3C Baggage: application-defined key/value pairs that travel with a request
// in the `baggage` header, independently of the trace context.
//
// Grammar (W3C "Propagation format for distributed context: Baggage"):
//   baggage-string = list-member 0*179( OWS "," OWS list-member )
//   list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//   property       = key OWS "=" OWS value / key OWS
//   key            = token                      ; RFC 7230 section 3.2.6
//   value          = *baggage-octet             ; a percent-encoded UTF-8 string
//   baggage-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
// Values are percent-decoded on receipt (sequences that are not UTF-8 become
// U+FFFD) and percent-encoded when sent: bytes outside baggage-octet, '%' and
// '+' (see bg_sent_raw). Properties ("metadata") have no
// meaning given by the spec: they are kept as received, in canonical form
// ("k1;k2=v2", optional whitespace removed), and sent back unchanged.
//
// Limits: a platform MUST propagate at least 64 list-members and every
// baggage-string of 8192 bytes or less; beyond that members MAY be dropped.
// This implementation keeps (and sends) at most 64 members and 8192 bytes:
// members past either limit are dropped, whole, never cut.
//
// Several `baggage` headers are joined with "," (RFC 7230 field combination).
// A member that does not follow the grammar is dropped alone; the rest of the
// header is kept (the spec allows removing an entry that is not well-formed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/utf8.hpp"
#include "propagation.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

inline constexpr std::string_view baggage_header = "baggage";

namespace detail {

constexpr bool bg_is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr std::string_view bg_trim(std::string_view s) noexcept {
  while (!s.empty() && bg_is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && bg_is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 7230 tchar.
constexpr bool bg_is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

constexpr bool bg_is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s)
    if (!bg_is_tchar(c)) return false;
  return true;
}

constexpr bool bg_is_baggage_octet(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) || (u >= 0x3C && u <= 0x5B) ||
         (u >= 0x5D && u <= 0x7E);
}

constexpr bool bg_is_value(std::string_view s) noexcept {
  for (const char c : s)
    if (!bg_is_baggage_octet(c)) return false;
  return true;
}

constexpr int bg_hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 unreserved characters: the only ones the Jaeger propagator's
// uberctx- values carry unescaped (its clients decode them as URL queries).
constexpr bool bg_is_unreserved(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// What a W3C baggage value carries unescaped: every baggage-octet but '%',
// which starts an escape, and '+', which form decoders (opentelemetry-python's
// unquote_plus) read as a space. Escaping no more than that keeps a received
// header's members, sent on, within the 8192 bytes they arrived in.
constexpr bool bg_sent_raw(char c) noexcept { return bg_is_baggage_octet(c) && c != '%' && c != '+'; }

/// Appends `s` percent-encoded: every byte for which raw(c) is false as %XX.
inline void percent_encode(std::string_view s, std::string& out, bool (*raw)(char) noexcept) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const char c : s) {
    if (raw(c)) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0x0f]);
    }
  }
}

inline std::size_t percent_encoded_size(std::string_view s, bool (*raw)(char) noexcept) noexcept {
  std::size_t n = 0;
  for (const char c : s) n += raw(c) ? std::size_t{1} : std::size_t{3};
  return n;
}

/// Replaces every ill-formed UTF-8 sequence in `s` by U+FFFD (one per byte
/// that cannot start or continue a valid sequence).
inline void bg_sanitize_utf8(std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0, bad = 0;  // (bad: the maximal subpart, unused: one U+FFFD per byte here)
  while (i < n) {
    const std::size_t len = utf8_sequence(p + i, n - i, &bad);
    if (len == 0) break;
    i += len;
  }
  if (i == n) return;  // the common case: valid, untouched
  std::string fixed(s.data(), i);
  while (i < n) {
    const std::size_t len = utf8_sequence(p + i, n - i, &bad);
    if (len == 0) {
      fixed.append("\xEF\xBF\xBD");
      ++i;
    } else {
      fixed.append(s.data() + i, len);
      i += len;
    }
  }
  s.swap(fixed);
}

/// Percent-decodes `s` into `out` (replacing it) and makes it valid UTF-8.
/// False on a malformed escape ('%' not followed by two hex digits).
inline bool percent_decode(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (s.size() - i < 3) return false;
    const int hi = bg_hex_value(s[i + 1]);
    const int lo = bg_hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  bg_sanitize_utf8(out);
  return true;
}

// Canonical properties ("k1;k2=v2", no OWS), or nullopt when one is malformed.
inline std::optional<std::string> bg_canonical_properties(std::string_view props) {
  std::string out;
  while (true) {
    const std::size_t semi = props.find(';');
    const std::string_view prop = bg_trim(props.substr(0, semi));
    const std::size_t eq = prop.find('=');
    const std::string_view key = bg_trim(prop.substr(0, eq));
    if (!bg_is_token(key)) return std::nullopt;
    if (!out.empty()) out.push_back(';');
    out.append(key.data(), key.size());
    if (eq != std::string_view::npos) {
      const std::string_view value = bg_trim(prop.substr(eq + 1));
      if (!bg_is_value(value)) return std::nullopt;
      out.push_back('=');
      out.append(value.data(), value.size());
    }
    if (semi == std::string_view::npos) return out;
    props.remove_prefix(semi + 1);
  }
}

}  // namespace detail

/// Immutable baggage: an ordered list of unique keys, each with a (decoded,
/// UTF-8) value and optional properties. Modifiers return a new baggage.
class baggage {
 public:
  static constexpr std::size_t max_members = 64;
  static constexpr std::size_t max_bytes = 8192;

  struct entry {
    std::string key;
    std::string value;       // decoded
    std::string properties;  // canonical wire form, e.g. "p1;p2=v2"; empty when none

    friend bool operator==(const entry& a, const entry& b) {
      return a.key == b.key && a.value == b.value && a.properties == b.properties;
    }
    friend bool operator!=(const entry& a, const entry& b) { return !(a == b); }
  };

  baggage() = default;

  /// Parses a (possibly joined) baggage header. Never fails: malformed members
  /// are dropped, a repeated key keeps its first position and its last value,
  /// and members beyond max_members or max_bytes are dropped.
  static baggage from_header(std::string_view header);

  /// The header value: members joined by ",", values percent-encoded. Members
  /// that would exceed max_members or max_bytes are left out. Empty when the
  /// baggage is.
  std::string header() const;

  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  const std::vector<entry>& entries() const noexcept { return entries_; }

  /// The value of `key` (a view into this baggage), or nullopt.
  std::optional<std::string_view> get(std::string_view key) const noexcept {
    const entry* e = find(key);
    if (e == nullptr) return std::nullopt;
    return std::string_view(e->value);
  }
  const entry* find(std::string_view key) const noexcept {
    for (const entry& e : entries_)
      if (e.key == key) return &e;
    return nullptr;
  }

  /// New baggage with key = value (replacing the value and properties of an
  /// existing key in place, appending a new one). The key must be an RFC 7230
  /// token and the properties (if any) well-formed ("k", "k=v", joined by
  /// ";"); otherwise the result is an unchanged copy. The value may be any
  /// string (ill-formed UTF-8 becomes U+FFFD); it is percent-encoded on the wire.
  baggage set(std::string_view key, std::string_view value, std::string_view properties = {}) const;
  /// New baggage without `key` (an unchanged copy if absent).
  baggage erase(std::string_view key) const;

  static bool valid_key(std::string_view key) noexcept { return detail::bg_is_token(key); }

  friend bool operator==(const baggage& a, const baggage& b) { return a.entries_ == b.entries_; }
  friend bool operator!=(const baggage& a, const baggage& b) { return !(a == b); }

 private:
  // Sets in place; false if the key is invalid.
  bool assign(std::string_view key, std::string value, std::string properties) {
    if (!valid_key(key)) return false;
    for (entry& e : entries_) {
      if (e.key == key) {
        e.value = std::move(value);
        e.properties = std::move(properties);
        return true;
      }
    }
    entries_.push_back(entry{std::string(key), std::move(value), std::move(properties)});
    return true;
  }

  // Bytes of the member on the wire (without the separating comma).
  static std::size_t wire_size(const entry& e) noexcept {
    return e.key.size() + 1 + detail::percent_encoded_size(e.value, detail::bg_sent_raw) +
           (e.properties.empty() ? 0 : 1 + e.properties.size());
  }

  std::vector<entry> entries_;
};

inline baggage baggage::from_header(std::string_view header) {
  baggage result;
  std::size_t bytes = 0;
  std::string value;
  while (!header.empty() && result.entries_.size() < max_members) {
    const std::size_t comma = header.find(',');
    const std::string_view member = detail::bg_trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (member.empty()) continue;  // RFC 7230 lists may hold empty elements

    const std::size_t semi = member.find(';');
    const std::string_view pair = member.substr(0, semi);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = detail::bg_trim(pair.substr(0, eq));
    const std::string_view raw = detail::bg_trim(pair.substr(eq + 1));  // may hold more '='
    if (!detail::bg_is_token(key) || !detail::bg_is_value(raw) || !detail::percent_decode(raw, value)) continue;
    std::string properties;
    if (semi != std::string_view::npos) {
      auto canonical = detail::bg_canonical_properties(member.substr(semi + 1));
      if (!canonical) continue;
      properties = std::move(*canonical);
    }

    const entry candidate{std::string(key), value, std::move(properties)};
    const std::size_t size = wire_size(candidate);
    const entry* existing = result.find(key);
    const std::size_t old = existing ? wire_size(*existing) + 1 : 0;
    const std::size_t total = bytes - old + size + 1;  // +1: a comma per member, one too many
    if (total - 1 > max_bytes) continue;
    bytes = total;
    result.assign(key, candidate.value, candidate.properties);
  }
  return result;
}

inline std::string baggage::header() const {
  std::string out;
  std::size_t count = 0;
  for (const entry& e : entries_) {
    if (count == max_members) break;
    const std::size_t add = wire_size(e) + (out.empty() ? 0 : 1);
    if (out.size() + add > max_bytes) continue;  // drop this one, a smaller one may still fit
    if (!out.empty()) out.push_back(',');
    out.append(e.key);
    out.push_back('=');
    detail::percent_encode(e.value, out, detail::bg_sent_raw);
    if (!e.properties.empty()) {
      out.push_back(';');
      out.append(e.properties);
    }
    ++count;
  }
  return out;
}

inline baggage baggage::set(std::string_view key, std::string_view value, std::string_view properties) const {
  std::string canonical;
  if (!detail::bg_trim(properties).empty()) {
    auto parsed = detail::bg_canonical_properties(properties);
    if (!parsed) return *this;
    canonical = std::move(*parsed);
  }
  std::string v(value);
  detail::bg_sanitize_utf8(v);
  baggage result = *this;
  result.assign(key, std::move(v), std::move(canonical));
  return result;
}

inline baggage baggage::erase(std::string_view key) const {
  baggage result;
  result.entries_.reserve(entries_.size());
  for (const entry& e : entries_)
    if (e.key != key) result.entries_.push_back(e);
  return result;
}

/// Writes the `baggage` header (replacing existing entries of that name in any
/// case). Empty baggage writes nothing and removes a stale header when the
/// carrier's traits can erase.
template <class Carrier>
void inject_baggage(const baggage& bag, Carrier& carrier) {
  using traits = carrier_traits<Carrier>;
  const std::string value = bag.header();
  if (!value.empty()) {
    traits::set(carrier, baggage_header, value);
  } else if constexpr (detail::has_erase<traits, Carrier>::value) {
    traits::erase(carrier, baggage_header);
  }
}

/// Reads the baggage from every `baggage` header of the carrier (joined with
/// "," in carrier order). Never fails; what cannot be read is left out.
template <class Carrier>
baggage extract_baggage(const Carrier& carrier) {
  using traits = carrier_traits<Carrier>;
  std::string joined;
  bool any = false;
  traits::for_each(carrier, baggage_header, [&](std::string_view value) {
    if (any) joined.push_back(',');
    joined.append(value.data(), value.size());
    any = true;
  });
  return any ? baggage::from_header(joined) : baggage();
}

STREAMBUS_TRACING_END_NAMESPACE
