// W3C tracestate: vendor-specific key=value list carried beside traceparent.
// PLACEHOLDER interface — the propagation work owns and completes this file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// Immutable tracestate, stored as its canonical header form.
class trace_state {
 public:
  trace_state() = default;

  /// Parses a (possibly joined) tracestate header; returns false on invalid input.
  static bool parse(std::string_view header, trace_state& out);
  /// Parses or returns an empty state (an invalid tracestate is dropped whole).
  static trace_state from_header(std::string_view header) {
    trace_state s;
    parse(header, s);
    return s;
  }

  std::string_view header() const noexcept { return header_; }
  bool empty() const noexcept { return header_.empty(); }
  std::size_t size() const noexcept;
  std::optional<std::string_view> get(std::string_view key) const noexcept;
  /// New state with key=value at the front (replacing an existing key);
  /// an invalid key or value, or a full list, returns an unchanged copy.
  trace_state set(std::string_view key, std::string_view value) const;
  trace_state erase(std::string_view key) const;

  static bool valid_key(std::string_view key) noexcept;
  static bool valid_value(std::string_view value) noexcept;

  friend bool operator==(const trace_state& a, const trace_state& b) noexcept { return a.header_ == b.header_; }
  friend bool operator!=(const trace_state& a, const trace_state& b) noexcept { return !(a == b); }

 private:
  std::string header_;
};

inline bool trace_state::parse(std::string_view header, trace_state& out) {
  out.header_.assign(header.data(), header.size());
  return true;
}
inline std::size_t trace_state::size() const noexcept { return 0; }
inline std::optional<std::string_view> trace_state::get(std::string_view) const noexcept { return std::nullopt; }
inline trace_state trace_state::set(std::string_view, std::string_view) const { return *this; }
inline trace_state trace_state::erase(std::string_view) const { return *this; }
inline bool trace_state::valid_key(std::string_view) noexcept { return true; }
inline bool trace_state::valid_value(std::string_view) noexcept { return true; }

STREAMBUS_TRACING_END_NAMESPACE
