// span_context: what crosses process and thread boundaries — ids, flags and
// tracestate. A plain value: copy it to another thread to parent work there.
#pragma once

#include <cstdint>

#include "ids.hpp"
#include "trace_state.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// The W3C trace-flags byte. Only the bits defined by Level 2 are kept, and
/// the B3 / Jaeger debug state beside them (not a W3C flag: bits() leaves it
/// out). Children copy their parent's flags, so spans under a request that
/// arrived with debug send it on, as the OpenTelemetry B3 specification
/// requires ("MUST preserve a debug trace flag, if received").
class trace_flags {
 public:
  static constexpr std::uint8_t sampled_bit = 0x01;
  static constexpr std::uint8_t random_bit = 0x02;  // W3C Level 2: trace id's low 56 bits are random
  static constexpr std::uint8_t known_bits = sampled_bit | random_bit;

  constexpr trace_flags() noexcept = default;
  constexpr explicit trace_flags(std::uint8_t bits) noexcept : bits_(static_cast<std::uint8_t>(bits & known_bits)) {}

  constexpr bool sampled() const noexcept { return (bits_ & sampled_bit) != 0; }
  constexpr bool random() const noexcept { return (bits_ & random_bit) != 0; }
  /// B3 `d` / x-b3-flags: 1, Jaeger flags 0x02; set by those extractors only.
  constexpr bool debug() const noexcept { return (bits_ & debug_bit) != 0; }
  /// The W3C trace-flags byte (without debug).
  constexpr std::uint8_t bits() const noexcept { return static_cast<std::uint8_t>(bits_ & known_bits); }
  constexpr trace_flags with_sampled(bool on) const noexcept {
    return with_bit(sampled_bit, on);
  }
  constexpr trace_flags with_debug(bool on) const noexcept { return with_bit(debug_bit, on); }

  friend constexpr bool operator==(trace_flags a, trace_flags b) noexcept { return a.bits_ == b.bits_; }
  friend constexpr bool operator!=(trace_flags a, trace_flags b) noexcept { return a.bits_ != b.bits_; }

 private:
  static constexpr std::uint8_t debug_bit = 0x80;  // outside the W3C byte's defined bits

  constexpr trace_flags with_bit(std::uint8_t bit, bool on) const noexcept {
    trace_flags f;
    f.bits_ = static_cast<std::uint8_t>(on ? (bits_ | bit) : (bits_ & ~bit));
    return f;
  }

  std::uint8_t bits_ = 0;
};

/// Identity of one span as seen by its children and by other services.
class span_context {
 public:
  span_context() = default;
  span_context(streambus::tracing::trace_id tid, streambus::tracing::span_id sid, trace_flags flags,
               bool remote = false) noexcept
      : trace_id_(tid), span_id_(sid), flags_(flags), remote_(remote) {}
  span_context(streambus::tracing::trace_id tid, streambus::tracing::span_id sid, trace_flags flags, bool remote,
               streambus::tracing::trace_state state) noexcept
      : trace_id_(tid), span_id_(sid), flags_(flags), remote_(remote), state_(std::move(state)) {}

  /// Both ids non-zero. An invalid context means "no parent".
  bool valid() const noexcept { return trace_id_.valid() && span_id_.valid(); }
  bool is_remote() const noexcept { return remote_; }
  bool sampled() const noexcept { return flags_.sampled(); }

  const streambus::tracing::trace_id& trace_id() const noexcept { return trace_id_; }
  const streambus::tracing::span_id& span_id() const noexcept { return span_id_; }
  trace_flags flags() const noexcept { return flags_; }
  const streambus::tracing::trace_state& trace_state() const noexcept { return state_; }

  void set_trace_state(streambus::tracing::trace_state state) { state_ = std::move(state); }
  void set_flags(trace_flags flags) noexcept { flags_ = flags; }

  friend bool operator==(const span_context& a, const span_context& b) noexcept {
    return a.trace_id_ == b.trace_id_ && a.span_id_ == b.span_id_ && a.flags_ == b.flags_ &&
           a.remote_ == b.remote_ && a.state_ == b.state_;
  }
  friend bool operator!=(const span_context& a, const span_context& b) noexcept { return !(a == b); }

 private:
  streambus::tracing::trace_id trace_id_;
  streambus::tracing::span_id span_id_;
  trace_flags flags_;
  bool remote_ = false;
  streambus::tracing::trace_state state_;
};

STREAMBUS_TRACING_END_NAMESPACE
