// streambus tracing — the light instrumentation header, for source files that
// only create spans. It declares streambus::tracing::light (tracing/light.hpp)
// and needs only six small standard headers; the code behind it is compiled
// in one source file of the program:
//
//   #define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
//   #include <streambus/tracing.hpp>
//
// It can be included together with <streambus/tracing.hpp>, in any order.
#pragma once

#include "tracing/version.hpp"
#include "tracing/light.hpp"
