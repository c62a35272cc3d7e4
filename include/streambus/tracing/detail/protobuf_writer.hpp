// A minimal protobuf wire-format writer: just what the OTLP encoder needs.
//
// It appends to a caller-owned std::string, so a buffer reused across calls
// stops allocating once it has grown to the largest message. append_buffer,
// the cursor it writes through, serves the OTLP JSON writer too.
//
// Nested messages: the length prefix goes before the body, but the body's size
// is known only after writing it. Rather than a second sizing pass over every
// message (which would walk the spans twice and, for UTF-8 checks, every
// string twice), begin_message() reserves a guessed number of length bytes and
// end_message() writes the length there; when the guess was wrong the body is
// moved once by the difference. Guessing well (1 byte for attributes, 2 for a
// span) makes moves rare and keeps the output canonical (minimal varints).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

/// Appends bytes to a std::string through a cursor. The string is grown ahead
/// of the cursor (to its capacity first, so a reused string does not
/// allocate) and trimmed back to the cursor by finish() or the destructor:
/// small writes become plain stores instead of std::string::append calls.
class append_buffer {
 public:
  /// Appends after the current contents of `s`.
  explicit append_buffer(std::string& s) noexcept : s_(&s), pos_(s.size()) {}
  append_buffer(const append_buffer&) = delete;
  append_buffer& operator=(const append_buffer&) = delete;
  ~append_buffer() { finish(); }

  /// Room for n bytes at the cursor; write them, then advance() past them.
  char* ensure(std::size_t n) {
    if (s_->size() - pos_ < n) grow(n);
    return s_->data() + pos_;
  }
  void advance(std::size_t n) noexcept { pos_ += n; }

  void append(const char* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(ensure(n), p, n);
    pos_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void push_back(char c) {
    *ensure(1) = c;
    ++pos_;
  }

  std::size_t size() const noexcept { return pos_; }
  char* data() noexcept { return s_->data(); }
  /// Drops everything after `size` bytes.
  void truncate(std::size_t size) noexcept {
    if (size < pos_) pos_ = size;
  }
  /// Trims the string to what was written (shrinking never throws).
  void finish() noexcept {
    if (s_->size() != pos_) s_->resize(pos_);
  }

 private:
  void grow(std::size_t n) {
    const std::size_t need = pos_ + n;
    std::size_t target = s_->capacity();
    if (target < need) target = need > 2 * s_->size() ? need : 2 * s_->size();
    s_->resize(target);
  }

  std::string* s_;
  std::size_t pos_;
};

class protobuf_writer {
 public:
  enum class wire_type : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

  /// Where a nested message's body starts and how many length bytes were reserved.
  struct message_mark {
    std::size_t body_start;
    std::size_t reserved;
  };

  /// Appends to `out` (its current contents are kept); the bytes are final
  /// once finish() ran or the writer is destroyed.
  explicit protobuf_writer(std::string& out) noexcept : buf_(out) {}

  append_buffer& buffer() noexcept { return buf_; }
  void finish() noexcept { buf_.finish(); }

  static constexpr std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }

  void write_varint(std::uint64_t v) { buf_.advance(encode_varint(v, buf_.ensure(10))); }

  void write_tag(std::uint32_t field, wire_type type) {
    write_varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint8_t>(type));
  }

  // Fixed-width values are little-endian on the wire whatever the host order.
  void write_fixed32(std::uint32_t v) {
    char* p = buf_.ensure(4);
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    buf_.advance(4);
  }

  void write_fixed64(std::uint64_t v) {
    char* p = buf_.ensure(8);
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    buf_.advance(8);
  }

  // ---- whole fields (written unconditionally; proto3 default-omission is the caller's choice)

  /// uint32/uint64/enum/bool fields.
  void field_varint(std::uint32_t field, std::uint64_t v) {
    char* p = buf_.ensure(20);
    std::size_t n = encode_varint(static_cast<std::uint64_t>(field) << 3, p);
    n += encode_varint(v, p + n);
    buf_.advance(n);
  }

  /// int64 fields: negative values are their two's complement, ten bytes long.
  void field_int64(std::uint32_t field, std::int64_t v) { field_varint(field, static_cast<std::uint64_t>(v)); }

  void field_bool(std::uint32_t field, bool v) { field_varint(field, v ? 1 : 0); }

  void field_fixed32(std::uint32_t field, std::uint32_t v) {
    write_tag(field, wire_type::fixed32);
    write_fixed32(v);
  }

  void field_fixed64(std::uint32_t field, std::uint64_t v) {
    write_tag(field, wire_type::fixed64);
    write_fixed64(v);
  }

  void field_double(std::uint32_t field, double v) {
    static_assert(sizeof(double) == sizeof(std::uint64_t), "IEEE 754 binary64 expected");
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    field_fixed64(field, bits);
  }

  /// bytes/string fields (the caller guarantees UTF-8 for string fields).
  void field_bytes(std::uint32_t field, const void* data, std::size_t size) {
    char* p = buf_.ensure(20 + size);
    std::size_t n = encode_varint((static_cast<std::uint64_t>(field) << 3) | 2, p);
    n += encode_varint(size, p + n);
    if (size != 0) std::memcpy(p + n, data, size);
    buf_.advance(n + size);
  }

  void field_string(std::uint32_t field, std::string_view s) { field_bytes(field, s.data(), s.size()); }

  // ---- nested messages (and any length-delimited field written piecewise)

  /// Writes the tag and reserves `length_guess` bytes (1..5) for the length.
  message_mark begin_message(std::uint32_t field, std::size_t length_guess = 1) {
    if (length_guess < 1) length_guess = 1;
    if (length_guess > 5) length_guess = 5;
    char* p = buf_.ensure(10 + length_guess);
    const std::size_t n = encode_varint((static_cast<std::uint64_t>(field) << 3) | 2, p);
    buf_.advance(n + length_guess);
    return message_mark{buf_.size(), length_guess};
  }

  /// Writes the body length into the reserved bytes, moving the body when the
  /// length needs a different number of bytes than reserved.
  void end_message(message_mark mark) {
    const std::size_t length = buf_.size() - mark.body_start;
    const std::size_t needed = varint_size(length);
    if (needed > mark.reserved) {
      const std::size_t grow = needed - mark.reserved;
      buf_.ensure(grow);
      char* body = buf_.data() + mark.body_start;
      std::memmove(body + grow, body, length);
      buf_.advance(grow);
    } else if (needed < mark.reserved) {
      const std::size_t shrink = mark.reserved - needed;
      char* body = buf_.data() + mark.body_start;
      std::memmove(body - shrink, body, length);
      buf_.truncate(buf_.size() - shrink);
    }
    encode_varint(length, buf_.data() + mark.body_start - mark.reserved);
  }

 private:
  static std::size_t encode_varint(std::uint64_t v, char* p) noexcept {
    std::size_t n = 0;
    while (v >= 0x80) {
      p[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    p[n++] = static_cast<char>(v);
    return n;
  }

  append_buffer buf_;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
