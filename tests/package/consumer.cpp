// Packaging consumer, shared by every route in tests/package/ (CMake
// find_package, add_subdirectory, pkg-config, the installed single header).
// It sees only what a user of the installed library sees, and proves the
// installed headers work end to end: a tracer, a span, an in-memory export.
#if defined(CONSUMER_USE_SINGLE_HEADER)
#include <streambus/single/tracing.hpp>
#if defined(CONSUMER_WITH_HTTP)  // the transport's copies made for the single header
#include <streambus/single/tracing/http.hpp>
#include <streambus/single/tracing/otlp_http_exporter.hpp>
#endif
#else
#include <streambus/tracing.hpp>
#if defined(CONSUMER_WITH_HTTP)
#include <streambus/tracing/http.hpp>
#include <streambus/tracing/otlp_http_exporter.hpp>
#endif
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
  bool ok = memory->size() == 1 && headers.count("traceparent") == 1;
#if defined(CONSUMER_WITH_HTTP)
  // The transport is there: "otlp" is a known exporter (created, no span sent) and the helpers parse.
  st::config otlp_cfg;
  otlp_cfg.exporter = "otlp";
  otlp_cfg.otlp_endpoint = "http://127.0.0.1:4318";
  otlp_cfg.read_environment = false;
  auto otlp_tracer = st::tracer::create(otlp_cfg);
  ok = ok && otlp_tracer.is_enabled() && otlp_tracer.shutdown();
  ok = ok && st::http::endpoint::parse("http://127.0.0.1:8080").port == 8080;
  std::printf("with the HTTP transport: otlp exporter created, endpoint parsed\n");
#endif
  std::printf("streambus tracing %s: %zu span(s) exported, traceparent %s\n", st::version_string, memory->size(),
              headers.count("traceparent") ? headers["traceparent"].c_str() : "<missing>");
  return ok ? 0 : 1;
}
