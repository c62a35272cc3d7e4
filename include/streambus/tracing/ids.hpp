// Trace and span identifiers: fixed-size byte arrays, lowercase hex in and out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

namespace detail {

inline constexpr char hex_digits[] = "0123456789abcdef";

// Lowercase hex only: W3C Trace Context forbids uppercase in traceparent.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <std::size_t N>
void bytes_to_hex(const std::array<std::uint8_t, N>& bytes, char* out) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    out[2 * i] = hex_digits[bytes[i] >> 4];
    out[2 * i + 1] = hex_digits[bytes[i] & 0x0f];
  }
}

template <std::size_t N>
bool hex_to_bytes(std::string_view hex, std::array<std::uint8_t, N>& out) noexcept {
  if (hex.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return true;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& bytes) noexcept {
  std::uint8_t acc = 0;
  for (auto b : bytes) acc |= b;
  return acc == 0;
}

// Big-endian load of n bytes: ids are compared and sampled as the number
// their hex form spells.
inline std::uint64_t load_be(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

inline void store_be(std::uint64_t v, std::uint8_t* p) noexcept {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace detail

/// Common shape of trace_id and span_id: N raw bytes, all-zero means invalid.
template <std::size_t N>
class basic_id {
 public:
  static constexpr std::size_t size = N;
  static constexpr std::size_t hex_size = 2 * N;
  using bytes_type = std::array<std::uint8_t, N>;

  constexpr basic_id() noexcept = default;
  constexpr explicit basic_id(const bytes_type& bytes) noexcept : bytes_(bytes) {}

  /// Parses exactly hex_size lowercase hex digits. Returns false (and leaves
  /// *out untouched) on any other input. An all-zero id parses but is !valid().
  static bool from_hex(std::string_view hex, basic_id& out) noexcept {
    bytes_type tmp{};
    if (!detail::hex_to_bytes(hex, tmp)) return false;
    out.bytes_ = tmp;
    return true;
  }

  /// Parses or returns an invalid (all-zero) id.
  static basic_id from_hex(std::string_view hex) noexcept {
    basic_id id;
    from_hex(hex, id);
    return id;
  }

  /// Writes hex_size characters (no terminator).
  void to_hex(char* out) const noexcept { detail::bytes_to_hex(bytes_, out); }
  std::string to_hex() const {
    std::string s(hex_size, '0');
    to_hex(s.data());
    return s;
  }

  constexpr bool valid() const noexcept {
    for (auto b : bytes_)
      if (b != 0) return true;
    return false;
  }
  constexpr explicit operator bool() const noexcept { return valid(); }

  constexpr const bytes_type& bytes() const noexcept { return bytes_; }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }

  friend bool operator==(const basic_id& a, const basic_id& b) noexcept {
    return std::memcmp(a.bytes_.data(), b.bytes_.data(), N) == 0;
  }
  friend bool operator!=(const basic_id& a, const basic_id& b) noexcept { return !(a == b); }
  friend bool operator<(const basic_id& a, const basic_id& b) noexcept {
    return std::memcmp(a.bytes_.data(), b.bytes_.data(), N) < 0;
  }

 protected:
  bytes_type bytes_{};
};

/// 16-byte W3C / OpenTelemetry trace id.
class trace_id : public basic_id<16> {
 public:
  using basic_id::basic_id;
  constexpr trace_id() noexcept = default;
  constexpr trace_id(const basic_id<16>& b) noexcept : basic_id(b) {}  // NOLINT: implicit by design
  static trace_id from_u64(std::uint64_t high, std::uint64_t low) noexcept {
    trace_id id;
    detail::store_be(high, id.bytes_.data());
    detail::store_be(low, id.bytes_.data() + 8);
    return id;
  }
  static trace_id from_hex(std::string_view hex) noexcept { return basic_id::from_hex(hex); }
  using basic_id::from_hex;
  std::uint64_t high() const noexcept { return detail::load_be(bytes_.data(), 8); }
  std::uint64_t low() const noexcept { return detail::load_be(bytes_.data() + 8, 8); }
  /// The 56 rightmost bits: the randomness W3C Level 2 guarantees when the
  /// `random` flag is set, and the input of the ratio sampler.
  std::uint64_t randomness() const noexcept { return low() & ((std::uint64_t{1} << 56) - 1); }
};

/// 8-byte span id.
class span_id : public basic_id<8> {
 public:
  using basic_id::basic_id;
  constexpr span_id() noexcept = default;
  constexpr span_id(const basic_id<8>& b) noexcept : basic_id(b) {}  // NOLINT: implicit by design
  static span_id from_u64(std::uint64_t v) noexcept {
    span_id id;
    detail::store_be(v, id.bytes_.data());
    return id;
  }
  static span_id from_hex(std::string_view hex) noexcept { return basic_id::from_hex(hex); }
  using basic_id::from_hex;
  std::uint64_t value() const noexcept { return detail::load_be(bytes_.data(), 8); }
};

STREAMBUS_TRACING_END_NAMESPACE
