// The part of the light API's implementation that the compiled-out build
// needs as well: light::trace_with_retry still validates its arguments and
// waits between attempts when tracing is compiled out, as
// tracing::trace_with_retry does. Compiled in the one translation unit that
// defines STREAMBUS_TRACING_LIGHT_IMPLEMENTATION (tracing.hpp includes it in
// both modes); not `inline`, like light_impl.hpp.
#pragma once

#include <chrono>
#include <thread>

#include "instrumentation.hpp"
#include "light.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace light {
namespace impl {

static retry_backoff to_retry_backoff(const retry_backoff_ms& b) noexcept {  // this file's own helper
  retry_backoff out;
  out.initial = std::chrono::milliseconds(b.initial_ms);
  out.multiplier = b.multiplier;
  out.max = std::chrono::milliseconds(b.max_ms);
  out.jitter = b.jitter;
  return out;
}

void validate_retry(int max_attempts, const retry_backoff_ms& backoff) {
  tracing::detail::validate_retry(max_attempts, to_retry_backoff(backoff));
}

void retry_sleep(const retry_backoff_ms& backoff, int attempt) noexcept {
  const std::chrono::milliseconds delay = tracing::detail::retry_delay(to_retry_backoff(backoff), attempt);
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

void rethrow_if_foreign() { tracing::detail::rethrow_if_foreign(); }

}  // namespace impl
}  // namespace light
STREAMBUS_TRACING_END_NAMESPACE
