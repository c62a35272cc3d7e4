// Self-diagnostics: what happened to the spans, readable at any time through
// tracer::stats(). Counts only sampled spans (unsampled ones cost nothing).
#pragma once

#include <cstdint>

#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

struct tracer_stats {
  std::uint64_t spans_started = 0;   // sampled spans started
  std::uint64_t spans_ended = 0;     // sampled spans that ended (before shutdown)
  std::uint64_t spans_queued = 0;    // handed to the export queue
  std::uint64_t spans_dropped = 0;   // not queued: the queue was full (or, with synchronous exporters
                                     // only, ended inside one's export call on its thread)
  std::uint64_t spans_exported = 0;  // delivered by an exporter
  std::uint64_t spans_failed = 0;    // not delivered: a failed batch, or the part of one that an
                                     // exporter or collector rejected (OTLP partial_success)
  std::uint64_t export_failures = 0; // failed export calls (after retries)
  std::uint64_t export_retries = 0;  // retried requests (network exporters)
};

STREAMBUS_TRACING_END_NAMESPACE
