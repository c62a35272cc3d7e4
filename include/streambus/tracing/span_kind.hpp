// Span kind and status code, numbered as in OTLP.
#pragma once

#include <cstdint>
#include <string_view>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// Numbered as OTLP's Span.SpanKind (0 is "unspecified", never produced here).
enum class span_kind : std::uint8_t { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

/// Numbered as OTLP's Status.StatusCode.
enum class status_code : std::uint8_t { unset = 0, ok = 1, error = 2 };

inline std::string_view to_string(span_kind kind) noexcept {
  switch (kind) {
    case span_kind::internal: return "internal";
    case span_kind::server: return "server";
    case span_kind::client: return "client";
    case span_kind::producer: return "producer";
    case span_kind::consumer: return "consumer";
  }
  return "unspecified";
}

inline std::string_view to_string(status_code code) noexcept {
  switch (code) {
    case status_code::unset: return "unset";
    case status_code::ok: return "ok";
    case status_code::error: return "error";
  }
  return "unset";
}

STREAMBUS_TRACING_END_NAMESPACE
