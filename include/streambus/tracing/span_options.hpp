// Options for starting a span.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "context.hpp"
#include "span_kind.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// How to start a span, beyond its name.
struct span_options {
  span_kind kind = span_kind::internal;
  /// Explicit parent (e.g. extracted from headers, or handed over from another
  /// thread). Unset: the thread's current span, if any.
  std::optional<span_context> parent;
  /// Ignore the current span and start a new trace.
  bool new_root = false;
  /// Make the span current on this thread until it ends (children nest under
  /// it). A current span must end on the thread that started it; set this to
  /// false for a span that will be ended on another thread.
  bool make_current = true;
  /// Links to other spans (e.g. the messages of a batch).
  std::vector<span_context> links;
  /// When the span started, if not now: e.g. when a consumed message was
  /// sent, or work timed before the span could be created. Kept as given (the
  /// span's duration is then measured from it). Default (the epoch): now.
  /// A coarser time point assigned here is converted to system_clock's own
  /// precision by the standard library, so it must lie within that range
  /// (libstdc++: 1677-2262); end() and add_event() take any precision.
  std::chrono::system_clock::time_point start_time{};
};

STREAMBUS_TRACING_END_NAMESPACE
