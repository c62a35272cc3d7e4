// A minimal Thrift binary-protocol writer: just what the Jaeger Batch encoder
// needs (structs, lists, i32/i64/double/bool/string fields).
//
// Binary protocol encoding (Apache Thrift's TBinaryProtocol):
//   field header  = type byte, then the field id as a big-endian i16
//   struct end    = a single stop byte (0)
//   list header   = element type byte, then the size as a big-endian i32
//   string/binary = big-endian i32 length, then the bytes
//   i16/i32/i64   = big-endian two's complement
//   double        = the IEEE 754 binary64 bits as a big-endian i64
//   bool          = one byte, 1 or 0
// "Strict" only changes the message envelope, which a bare struct (what the
// Jaeger collector's /api/traces reads) does not have.
//
// Like protobuf_writer it appends through an append_buffer, so a reused
// std::string stops allocating. Lengths and list sizes that are known only
// after writing the body are reserved and patched: both are fixed 4 bytes, so
// nothing ever moves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../version.hpp"
#include "protobuf_writer.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class thrift_writer {
 public:
  /// TType codes of the binary protocol.
  enum class type : std::uint8_t {
    stop = 0,
    boolean = 2,
    byte = 3,
    double_ = 4,
    i16 = 6,
    i32 = 8,
    i64 = 10,
    string = 11,  // also `binary`
    struct_ = 12,
    map = 13,
    set = 14,
    list = 15,
  };

  /// Where a list's size or a string's length waits to be patched.
  struct mark {
    std::size_t at;
  };

  /// Appends to `out` (its current contents are kept); the bytes are final
  /// once finish() ran or the writer is destroyed.
  explicit thrift_writer(std::string& out) noexcept : buf_(out) {}

  append_buffer& buffer() noexcept { return buf_; }
  void finish() noexcept { buf_.finish(); }

  // ---- raw values

  void write_byte(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void write_bool(bool v) { write_byte(v ? 1 : 0); }
  void write_i16(std::int16_t v) { write_be(static_cast<std::uint16_t>(v), 2); }
  void write_i32(std::int32_t v) { write_be(static_cast<std::uint32_t>(v), 4); }
  /// i64 from its unsigned bit pattern: ids are unsigned numbers that Thrift
  /// carries reinterpreted as signed, and no conversion is needed for that.
  void write_i64_bits(std::uint64_t v) { write_be(v, 8); }
  void write_i64(std::int64_t v) { write_be(static_cast<std::uint64_t>(v), 8); }
  void write_double(double v) {
    static_assert(sizeof(double) == sizeof(std::uint64_t), "IEEE 754 binary64 expected");
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    write_be(bits, 8);
  }
  /// A string's length is a signed 32-bit number: a longer string (2 GiB,
  /// far past what a collector takes) is cut there rather than given a
  /// negative length that corrupts the whole message.
  static constexpr std::size_t max_string_size = 0x7fffffff;

  void write_string(std::string_view s) {
    if (s.size() > max_string_size) s = s.substr(0, max_string_size);
    write_i32(static_cast<std::int32_t>(s.size()));
    buf_.append(s);
  }

  /// A string written piecewise (e.g. sanitised as it is copied): reserve the
  /// length, append the bytes to buffer(), then end_string().
  mark begin_string() {
    const mark m{buf_.size()};
    write_i32(0);
    return m;
  }
  void end_string(mark m) {
    std::size_t size = buf_.size() - m.at - 4;
    if (size > max_string_size) {
      size = max_string_size;
      buf_.truncate(m.at + 4 + size);
    }
    patch_i32(m.at, static_cast<std::int32_t>(size));
  }

  // ---- structure

  void field_begin(type t, std::int16_t id) {
    write_byte(static_cast<std::uint8_t>(t));
    write_i16(id);
  }
  void field_stop() { write_byte(static_cast<std::uint8_t>(type::stop)); }

  void list_begin(type element, std::int32_t size) {
    write_byte(static_cast<std::uint8_t>(element));
    write_i32(size);
  }
  /// A list whose size is known only at the end: pass the count to list_end().
  mark list_begin_deferred(type element) {
    write_byte(static_cast<std::uint8_t>(element));
    const mark m{buf_.size()};
    write_i32(0);
    return m;
  }
  void list_end(mark m, std::int32_t size) { patch_i32(m.at, size); }

  // ---- whole fields

  void field_bool(std::int16_t id, bool v) {
    field_begin(type::boolean, id);
    write_bool(v);
  }
  void field_i32(std::int16_t id, std::int32_t v) {
    field_begin(type::i32, id);
    write_i32(v);
  }
  void field_i64(std::int16_t id, std::int64_t v) {
    field_begin(type::i64, id);
    write_i64(v);
  }
  void field_i64_bits(std::int16_t id, std::uint64_t v) {
    field_begin(type::i64, id);
    write_i64_bits(v);
  }
  void field_double(std::int16_t id, double v) {
    field_begin(type::double_, id);
    write_double(v);
  }
  void field_string(std::int16_t id, std::string_view s) {
    field_begin(type::string, id);
    write_string(s);
  }

 private:
  void write_be(std::uint64_t v, int bytes) {
    char* p = buf_.ensure(static_cast<std::size_t>(bytes));
    for (int i = bytes - 1; i >= 0; --i) {
      p[i] = static_cast<char>(v & 0xff);
      v >>= 8;
    }
    buf_.advance(static_cast<std::size_t>(bytes));
  }

  void patch_i32(std::size_t at, std::int32_t v) {
    auto u = static_cast<std::uint32_t>(v);
    char* p = buf_.data() + at;
    for (int i = 3; i >= 0; --i) {
      p[i] = static_cast<char>(u & 0xff);
      u >>= 8;
    }
  }

  append_buffer buf_;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
