// Macros a user's file often has defined before it includes the library:
// Qt's keywords (`emit` defined empty once broke the Jaeger encoder's lambdas),
// X11's names, Windows-style min/max, common logging names. The headers must
// parse and work under them.
#define emit
#define signals public
#define slots
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define DEBUG 1
#define ERROR 0
#define OK 0
#define None 0L
#define Status int
#define Success 0
#define Bool int
#define True 1
#define False 0
#include <streambus/tracing.hpp>

#include <map>
#include <string>

namespace {
bool span_round_trip() {
  streambus::tracing::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  auto tracer = streambus::tracing::tracer::create(cfg);
  auto span = tracer.start("op");
  span.set_attribute("k", 1).add_event("e");
  std::map<std::string, std::string> headers;
  tracer.inject(headers);
  return span.is_recording() && tracer.extract(headers).trace_id() == span.context().trace_id();
}
}  // namespace

#undef emit
#undef signals
#undef slots
#undef min
#undef max
#undef DEBUG
#undef ERROR
#undef OK
#undef None
#undef Status
#undef Success
#undef Bool
#undef True
#undef False
#include <doctest/doctest.h>

TEST_CASE("the library parses and works under Qt, X11 and Windows-style macros defined before it") {
  CHECK(span_round_trip());
}
