// Trace and span identifiers: fixed-size byte arrays, lowercase hex in and out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>  // baseline on x86-64: hex ids 16 characters per step
#endif

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

// The two hex digits of every byte value, so encoding is one 2-byte copy per byte.
struct hex_encode_table {
  char pair[512];
  constexpr hex_encode_table() noexcept : pair() {
    for (int b = 0; b < 256; ++b) {
      pair[2 * b] = hex_digits[b >> 4];
      pair[2 * b + 1] = hex_digits[b & 0x0f];
    }
  }
};
inline constexpr hex_encode_table hex_encode{};

inline bool host_is_little_endian() noexcept {
  const std::uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

#if defined(__SSE2__)
// Eight bytes -> sixteen lowercase hex characters in one vector: the nibbles
// interleaved (high first), then '0' + n, and 'a' - '0' - 10 more where n > 9.
// (The table copies below took ~5 instructions per byte: ~120 of an inject.)
inline void bytes8_to_hex(const std::uint8_t* in, char* out) noexcept {
  const __m128i low_nibbles = _mm_set1_epi8(0x0f);
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in));
  const __m128i nibbles = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(b, 4), low_nibbles), _mm_and_si128(b, low_nibbles));
  const __m128i letters = _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters));
}
#endif

template <std::size_t N>
void bytes_to_hex(const std::array<std::uint8_t, N>& bytes, char* out) noexcept {
#if defined(__SSE2__)
  if constexpr (N % 8 == 0) {
    for (std::size_t i = 0; i < N; i += 8) bytes8_to_hex(bytes.data() + i, out + 2 * i);
    return;
  }
#endif
  for (std::size_t i = 0; i < N; ++i) std::memcpy(out + 2 * i, hex_encode.pair + 2 * bytes[i], 2);
}

// hex_value for every byte, 0xff for "not lowercase hex": one load per
// character on the extract path instead of two range tests.
struct hex_decode_table {
  std::uint8_t value[256];
  constexpr hex_decode_table() noexcept : value() {
    for (int c = 0; c < 256; ++c) {
      const int v = hex_value(static_cast<char>(c));
      value[c] = static_cast<std::uint8_t>(v < 0 ? 0xff : v);
    }
  }
};
inline constexpr hex_decode_table hex_decode{};

// Eight lowercase hex characters -> four bytes, eight characters per step
// (SWAR: every byte of a 64-bit word at once). Each character is classified
// by adding offsets that set a byte's top bit exactly when it is at or above a
// bound; no addition carries into the next byte because bytes >= 0x80 are
// rejected first. Little-endian hosts only (see hex_to_bytes).
inline bool hex8_to_bytes(const char* in, std::uint8_t* out) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t top = 0x80 * ones;
  std::uint64_t x;
  std::memcpy(&x, in, 8);
  const std::uint64_t digit = (x + 0x50 * ones) & ~(x + 0x46 * ones);   // '0' <= c <= '9'
  const std::uint64_t letter = (x + 0x1f * ones) & ~(x + 0x19 * ones);  // 'a' <= c <= 'f'
  if ((x & top) != 0 || ((digit | letter) & top) != top) return false;
  const std::uint64_t nibbles = (x & 0x0f * ones) + ((letter & top) >> 7) * 9;  // 'a' = 0x61 -> 1 + 9
  // Pair nibbles into bytes, then gather the four bytes at the bottom.
  std::uint64_t y = ((nibbles & 0x00ff00ff00ff00ffULL) << 4) | ((nibbles >> 8) & 0x00ff00ff00ff00ffULL);
  y = (y | (y >> 8)) & 0x0000ffff0000ffffULL;
  y = (y | (y >> 16)) & 0x00000000ffffffffULL;
  const auto word = static_cast<std::uint32_t>(y);
  std::memcpy(out, &word, 4);
  return true;
}

#if defined(__SSE2__)
// Sixteen lowercase hex characters -> eight bytes in one vector (the SWAR
// steps above cost ~45 instructions per eight characters). Signed compares:
// bytes >= 0x80 are negative and fall outside both ranges.
inline bool hex16_to_bytes(const char* in, std::uint8_t* out) noexcept {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
  const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(c, _mm_set1_epi8('f' + 1)));
  if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xffff) return false;
  // '0'-'9': the low nibble; 'a'-'f' (0x61-0x66): the low nibble + 9.
  const __m128i nibbles = _mm_add_epi8(_mm_and_si128(c, _mm_set1_epi8(0x0f)), _mm_and_si128(letter, _mm_set1_epi8(9)));
  // Each 16-bit lane holds a pair, the high nibble in its low byte.
  const __m128i pairs = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(nibbles, _mm_set1_epi16(0x00ff)), 4),
                                     _mm_srli_epi16(nibbles, 8));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(pairs, pairs));
  return true;
}
#endif

template <std::size_t N>
bool hex_to_bytes(std::string_view hex, std::array<std::uint8_t, N>& out) noexcept {
  if (hex.size() != 2 * N) return false;
#if defined(__SSE2__)
  if constexpr (N % 8 == 0) {
    std::array<std::uint8_t, N> tmp;
    for (std::size_t i = 0; i < N; i += 8)
      if (!hex16_to_bytes(hex.data() + 2 * i, tmp.data() + i)) return false;
    out = tmp;
    return true;
  }
#endif
  if constexpr (N % 4 == 0) {
    if (host_is_little_endian()) {
      std::array<std::uint8_t, N> tmp;
      for (std::size_t i = 0; i < N; i += 4)
        if (!hex8_to_bytes(hex.data() + 2 * i, tmp.data() + i)) return false;
      out = tmp;
      return true;
    }
  }
  const auto* in = reinterpret_cast<const unsigned char*>(hex.data());
  std::uint8_t bad = 0;  // collects the 0xf0 bits of invalid characters; tested once
  for (std::size_t i = 0; i < N; ++i) {
    const std::uint8_t hi = hex_decode.value[in[2 * i]];
    const std::uint8_t lo = hex_decode.value[in[2 * i + 1]];
    bad |= static_cast<std::uint8_t>(hi | lo);
    out[i] = static_cast<std::uint8_t>((hi << 4) | (lo & 0x0f));
  }
  return (bad & 0xf0) == 0;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& bytes) noexcept {
  std::uint8_t acc = 0;
  for (auto b : bytes) acc |= b;
  return acc == 0;
}

// Big-endian loads and stores: ids are compared and sampled as the number
// their hex form spells. memcpy + byte swap compiles to a load and a bswap.
inline std::uint64_t bswap64(std::uint64_t v) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_bswap64(v);
#else
  std::uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | ((v >> (8 * i)) & 0xff);
  return r;
#endif
}

inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return host_is_little_endian() ? bswap64(v) : v;
}

inline void store_be(std::uint64_t v, std::uint8_t* p) noexcept {
  if (host_is_little_endian()) v = bswap64(v);
  std::memcpy(p, &v, 8);
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

  bool valid() const noexcept {
    static_assert(N % 8 == 0, "ids are whole 64-bit words");
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, bytes_.data() + i, 8);
      acc |= word;
    }
    return acc != 0;
  }
  explicit operator bool() const noexcept { return valid(); }

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
#if defined(__GNUC__) && defined(__SSE2__)
    // Built in one vector register and stored whole: copying an id stored as
    // two 8-byte halves soon after reads it in one 16-byte load, which
    // store forwarding cannot serve (a stall of some 15 cycles).
    using two_words = std::uint64_t __attribute__((vector_size(16)));
    const two_words words = {detail::bswap64(high), detail::bswap64(low)};
    std::memcpy(id.bytes_.data(), &words, sizeof words);
#else
    detail::store_be(high, id.bytes_.data());
    detail::store_be(low, id.bytes_.data() + 8);
#endif
    return id;
  }
  static trace_id from_hex(std::string_view hex) noexcept { return basic_id::from_hex(hex); }
  using basic_id::from_hex;
  std::uint64_t high() const noexcept { return detail::load_be64(bytes_.data()); }
  std::uint64_t low() const noexcept { return detail::load_be64(bytes_.data() + 8); }
  /// The 56 rightmost bits: the randomness W3C Level 2 guarantees when the
  /// `random` flag is set, and the input of the ratio sampler.
  std::uint64_t randomness() const noexcept { return low() & randomness_mask; }
  static constexpr std::uint64_t randomness_mask = (std::uint64_t{1} << 56) - 1;
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
  std::uint64_t value() const noexcept { return detail::load_be64(bytes_.data()); }
};

STREAMBUS_TRACING_END_NAMESPACE
