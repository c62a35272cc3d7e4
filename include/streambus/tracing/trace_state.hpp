// W3C tracestate: vendor-specific key=value list carried beside traceparent.
//
// Grammar (W3C Trace Context Level 1, the Recommendation, which the W3C test
// suite checks). Level 2, a Candidate Recommendation, relaxes keys to
// ( lcalpha / DIGIT ) 0*255( keychar ), '@' a keychar anywhere; a key only it
// allows ("3vendor") is invalid here, and drops the header as any invalid key.
// Values are the same in both:
//   list             = list-member 0*31( OWS "," OWS list-member )
//   list-member      = ( key "=" value ) / OWS
//   key              = simple-key / multi-tenant-key
//   simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
//   multi-tenant-key = tenant-id "@" system-id
//   tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
//   system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
//   value            = 0*255( chr ) nblk-chr
//   nblk-chr         = %x21-2B / %x2D-3C / %x3E-7E
//   chr              = %x20 / nblk-chr
//   OWS              = *( SP / HTAB )
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

namespace detail {

constexpr bool tc_is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool tc_is_lcalpha(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool tc_is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool tc_is_keychar(char c) noexcept {
  return tc_is_lcalpha(c) || tc_is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

constexpr std::string_view tc_trim_ows(std::string_view s) noexcept {
  while (!s.empty() && tc_is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && tc_is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// First char from `first_ok`, the rest keychars, 1..max_size chars.
template <class FirstOk>
constexpr bool tc_valid_key_part(std::string_view s, std::size_t max_size, FirstOk first_ok) noexcept {
  if (s.empty() || s.size() > max_size || !first_ok(s.front())) return false;
  for (std::size_t i = 1; i < s.size(); ++i)
    if (!tc_is_keychar(s[i])) return false;
  return true;
}

// The key of a canonical member "key=value" (members never contain ',').
constexpr std::string_view tc_member_key(std::string_view member) noexcept {
  return member.substr(0, member.find('='));
}

// Walks the members of a canonical header (no OWS, no empty members) and
// stops early when f returns false.
template <class F>
void tc_for_each_member(std::string_view header, F&& f) {
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    if (!f(header.substr(0, comma))) return;
    if (comma == std::string_view::npos) return;
    header.remove_prefix(comma + 1);
  }
}

}  // namespace detail

/// Immutable tracestate, stored as its canonical header form: members joined
/// by "," with no optional whitespace and no empty members. An empty state is
/// an empty std::string, so copying it never allocates.
class trace_state {
 public:
  static constexpr std::size_t max_members = 32;
  static constexpr std::size_t max_key_size = 256;
  static constexpr std::size_t max_value_size = 256;

  trace_state() noexcept = default;
  trace_state(const trace_state& other) noexcept : header_(other.header_) {
    if (header_ != nullptr) header_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  trace_state(trace_state&& other) noexcept : header_(other.header_) { other.header_ = nullptr; }
  trace_state& operator=(const trace_state& other) noexcept {
    if (header_ != other.header_) {
      if (other.header_ != nullptr) other.header_->refs.fetch_add(1, std::memory_order_relaxed);
      release();
      header_ = other.header_;
    }
    return *this;
  }
  trace_state& operator=(trace_state&& other) noexcept {
    if (this != &other) {
      release();
      header_ = other.header_;
      other.header_ = nullptr;
    }
    return *this;
  }
  ~trace_state() { release(); }

  /// Parses a (possibly joined) tracestate header; returns false on invalid
  /// input and then leaves `out` unchanged. An empty or whitespace-only header
  /// is valid and gives an empty state. Any invalid member, a duplicate key or
  /// more than 32 members makes the whole header invalid (the spec drops it).
  static bool parse(std::string_view header, trace_state& out);
  /// Parses or returns an empty state (an invalid tracestate is dropped whole).
  static trace_state from_header(std::string_view header) {
    trace_state s;
    parse(header, s);
    return s;
  }

  /// Canonical re-serialisation: "k1=v1,k2=v2", no OWS.
  std::string_view header() const noexcept { return header_ ? std::string_view(header_->text) : std::string_view(); }
  bool empty() const noexcept { return header_ == nullptr; }
  std::size_t size() const noexcept;
  /// The value of `key` (a view into this state), or nullopt.
  std::optional<std::string_view> get(std::string_view key) const noexcept;
  /// New state with key=value at the front (replacing an existing key, as the
  /// spec's "modified keys move to the left"). An invalid key or value returns
  /// an unchanged copy; if the list would exceed 32 members, members are
  /// dropped from the end (the right-most are removed first, per the spec).
  trace_state set(std::string_view key, std::string_view value) const;
  /// New state without `key` (an unchanged copy if absent).
  trace_state erase(std::string_view key) const;

  /// Calls f(key, value) for every member, left to right.
  template <class F>
  void for_each(F&& f) const {
    detail::tc_for_each_member(header(), [&f](std::string_view member) {
      const std::size_t eq = member.find('=');
      f(member.substr(0, eq), member.substr(eq + 1));
      return true;
    });
  }

  static bool valid_key(std::string_view key) noexcept;
  static bool valid_value(std::string_view value) noexcept;

  friend bool operator==(const trace_state& a, const trace_state& b) noexcept { return a.header() == b.header(); }
  friend bool operator!=(const trace_state& a, const trace_state& b) noexcept { return !(a == b); }

 private:
  // Shared and immutable, with its own reference count: every span copies its
  // parent's state, and an empty state (almost always) is a null pointer whose
  // copy is inline and free; std::shared_ptr's copy is an out-of-line call.
  struct shared_header {
    explicit shared_header(std::string t) : text(std::move(t)) {}
    std::atomic<std::size_t> refs{1};
    const std::string text;
  };

  void assign(std::string text) {
    shared_header* fresh = text.empty() ? nullptr : new shared_header(std::move(text));
    release();
    header_ = fresh;
  }
  // The null test inline, the rest out of line, so copies of an empty state
  // compile to a few moves.
  void release() noexcept {
    if (header_ != nullptr) drop(std::exchange(header_, nullptr));
  }
  static void drop(shared_header* h) noexcept {
    // acq_rel: the last owner sees every other owner's reads finished before it deletes.
    if (h->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete h;
  }

  shared_header* header_ = nullptr;
};

inline bool trace_state::valid_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > max_key_size) return false;
  const std::size_t at = key.find('@');
  if (at == std::string_view::npos)
    return detail::tc_valid_key_part(key, max_key_size, detail::tc_is_lcalpha);
  // tenant-id: up to 241 chars, may start with a digit; system-id: up to 14
  // chars, starts with a letter. A second '@' is not a keychar, so it fails.
  const auto tenant_first = [](char c) { return detail::tc_is_lcalpha(c) || detail::tc_is_digit(c); };
  return detail::tc_valid_key_part(key.substr(0, at), 241, tenant_first) &&
         detail::tc_valid_key_part(key.substr(at + 1), 14, detail::tc_is_lcalpha);
}

inline bool trace_state::valid_value(std::string_view value) noexcept {
  if (value.empty() || value.size() > max_value_size) return false;
  for (const char c : value)
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  // A trailing space would be optional whitespace, not part of the value.
  return value.back() != ' ';
}

inline bool trace_state::parse(std::string_view header, trace_state& out) {
  // Validate everything before building anything: an invalid header costs no
  // allocation. 32 members fit on the stack.
  std::array<std::string_view, max_members> members{};
  std::size_t count = 0;
  std::size_t total = 0;
  for (;;) {
    const std::size_t comma = header.find(',');
    // Spaces and tabs around a member are OWS. Spaces right after '=' are
    // inside the member, so they stay part of the value, as the spec says.
    const std::string_view member = detail::tc_trim_ows(header.substr(0, comma));
    if (!member.empty()) {  // empty and whitespace-only members are allowed and skipped
      if (count == max_members) return false;
      const std::size_t eq = member.find('=');
      if (eq == std::string_view::npos) return false;
      const std::string_view key = member.substr(0, eq);
      if (!valid_key(key) || !valid_value(member.substr(eq + 1))) return false;
      for (std::size_t i = 0; i < count; ++i)
        if (detail::tc_member_key(members[i]) == key) return false;  // duplicate key
      members[count++] = member;
      total += member.size() + 1;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  std::string canonical;
  if (count != 0) {
    canonical.reserve(total - 1);
    for (std::size_t i = 0; i < count; ++i) {
      if (i != 0) canonical.push_back(',');
      canonical.append(members[i].data(), members[i].size());
    }
  }
  out.assign(std::move(canonical));
  return true;
}

inline std::size_t trace_state::size() const noexcept {
  if (empty()) return 0;
  std::size_t n = 1;
  for (const char c : header()) n += (c == ',') ? 1 : 0;
  return n;
}

inline std::optional<std::string_view> trace_state::get(std::string_view key) const noexcept {
  std::optional<std::string_view> found;
  detail::tc_for_each_member(header(), [&](std::string_view member) {
    if (detail::tc_member_key(member) != key) return true;
    found = member.substr(key.size() + 1);
    return false;
  });
  return found;
}

inline trace_state trace_state::set(std::string_view key, std::string_view value) const {
  if (!valid_key(key) || !valid_value(value)) return *this;
  trace_state result;
  std::string s;
  s.reserve(key.size() + 1 + value.size() + 1 + header().size());
  s.append(key.data(), key.size());
  s.push_back('=');
  s.append(value.data(), value.size());
  std::size_t count = 1;
  detail::tc_for_each_member(header(), [&](std::string_view member) {
    if (detail::tc_member_key(member) == key) return true;  // the old entry of this key
    if (count == max_members) return false;                 // truncate from the right
    s.push_back(',');
    s.append(member.data(), member.size());
    ++count;
    return true;
  });
  result.assign(std::move(s));
  return result;
}

inline trace_state trace_state::erase(std::string_view key) const {
  if (!get(key)) return *this;
  trace_state result;
  std::string s;
  s.reserve(header().size());
  detail::tc_for_each_member(header(), [&](std::string_view member) {
    if (detail::tc_member_key(member) == key) return true;
    if (!s.empty()) s.push_back(',');
    s.append(member.data(), member.size());
    return true;
  });
  result.assign(std::move(s));
  return result;
}

STREAMBUS_TRACING_END_NAMESPACE
