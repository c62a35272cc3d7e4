// bench_light's second TU: the light API's implementation. A separate TU (and
// no LTO), so bench_light.cpp's light calls stay out-of-line calls, as in a
// program that includes tracing_light.hpp in its instrumented files.
#define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
#include <streambus/tracing.hpp>
