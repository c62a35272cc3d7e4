// Packaging consumer, shared by every route in tests/package/ (CMake
// find_package, add_subdirectory, pkg-config, the installed single header).
// It sees only what a user of the installed library sees, and proves the
// installed headers work end to end: a tracer, a span, an in-memory export.
#if defined(CONSUMER_USE_SINGLE_HEADER)
#include <streambus/single/tracing.hpp>
#else
#include <streambus/tracing.hpp>
#endif

#include <cstdio>
#include <map>
#include <memory>
#include <string>

int main() {
  namespace st = streambus::tracing;
  auto memory = std::make_shared<st::in_memory_exporter>();
  st::config cfg;
  cfg.service_name = "package-consumer";
  cfg.exporter = "none";
  cfg.read_environment = false;
  cfg.exporters = {memory};
  auto tracer = st::tracer::create(cfg);
  std::map<std::string, std::string> headers;
  {
    auto span = tracer.start("consumer.check");
    span.set_attribute("ok", true);
    tracer.inject(headers);
  }
  tracer.shutdown();
  const bool ok = memory->size() == 1 && headers.count("traceparent") == 1;
  std::printf("streambus tracing %s: %zu span(s) exported, traceparent %s\n", st::version_string, memory->size(),
              headers.count("traceparent") ? headers["traceparent"].c_str() : "<missing>");
  return ok ? 0 : 1;
}
