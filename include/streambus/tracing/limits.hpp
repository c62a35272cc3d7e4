// Span limits, as the OpenTelemetry specification defines them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// Per-span caps. What exceeds a count limit is dropped and counted; strings
/// longer than the value-length limit are truncated (counted in characters).
struct span_limits {
  static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

  std::size_t attribute_count = 128;                  // OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT
  std::size_t attribute_value_length = unlimited;     // OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT
  std::size_t event_count = 128;                      // OTEL_SPAN_EVENT_COUNT_LIMIT
  std::size_t link_count = 128;                       // OTEL_SPAN_LINK_COUNT_LIMIT
  std::size_t attributes_per_event = 128;             // OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT
  std::size_t attributes_per_link = 128;              // OTEL_LINK_ATTRIBUTE_COUNT_LIMIT
};

STREAMBUS_TRACING_END_NAMESPACE
