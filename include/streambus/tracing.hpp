// streambus tracing — one include for the whole library.
//
//   #include <streambus/tracing.hpp>
//
// Define STREAMBUS_TRACING_DISABLED before including (or on the command line)
// to compile every tracing call out: the tracer and its spans stay, as empty
// inline no-ops, with no threads, no statics and no export pipeline.
//
// Source files that only create spans can include <streambus/tracing_light.hpp>
// instead (a fraction of the compile time); one file then defines
// STREAMBUS_TRACING_LIGHT_IMPLEMENTATION before including this header.
#pragma once

#include "tracing/version.hpp"
#include "tracing/ids.hpp"
#include "tracing/trace_state.hpp"
#include "tracing/context.hpp"
#include "tracing/propagation.hpp"
#include "tracing/baggage.hpp"
#include "tracing/propagators.hpp"
#include "tracing/limits.hpp"
#include "tracing/attributes.hpp"
#include "tracing/sampler.hpp"
#include "tracing/config.hpp"
#include "tracing/span_kind.hpp"
#include "tracing/span_options.hpp"
#include "tracing/stats.hpp"
#include "tracing/light.hpp"
// Used by tracer.hpp and, in both modes, by instrumentation.hpp (retry
// jitter): included here so the single header carries one copy.
#include "tracing/detail/random.hpp"

// The data layer stays in both modes, so code that implements an exporter,
// encodes spans or resolves a config compiles unchanged when tracing is
// compiled out. It is only code where it is called: no threads, no statics
// until used.
#include "tracing/clock.hpp"
#include "tracing/span_data.hpp"
#include "tracing/exporter.hpp"
#include "tracing/otlp_encoder.hpp"
#include "tracing/jaeger_encoder.hpp"
#include "tracing/zipkin_encoder.hpp"
#include "tracing/exporter_registry.hpp"
#include "tracing/file_exporter.hpp"
#include "tracing/detail/config_resolve.hpp"
#include "tracing/console_exporter.hpp"

#if defined(STREAMBUS_TRACING_DISABLED)
#include "tracing/disabled.hpp"
#else
#include "tracing/tracer.hpp"
#if defined(STREAMBUS_TRACING_LIGHT_IMPLEMENTATION)
#include "tracing/light_impl.hpp"
#endif
#endif

#include "tracing/instrumentation.hpp"
#if defined(STREAMBUS_TRACING_LIGHT_IMPLEMENTATION)
#include "tracing/light_impl_retry.hpp"  // in both modes: light::trace_with_retry's waits
#endif
