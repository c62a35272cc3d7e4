// The light implementation, compiled with exceptions and RTTI, as the one file
// of a -fno-exceptions project that is allowed them.
#define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
#include <streambus/tracing.hpp>
