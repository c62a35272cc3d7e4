// Shared library A of tests/shared. Includes the whole library, the OTLP/HTTP
// exporter included, so that the symbol check sees every piece of state.
#include <streambus/tracing.hpp>
#include <streambus/tracing/http.hpp>
#include <streambus/tracing/otlp_http_exporter.hpp>

#include <map>
#include <string>

#include "shared_api.hpp"

namespace shared_test {

st::span_context a_start_and_end(st::tracer& tracer) {
  auto span = tracer.start("lib-a");
  return span.context();
}

void a_call_under_span(st::tracer& tracer, void (*callback)(void*), void* arg) {
  auto span = tracer.start("lib-a-outer");
  callback(arg);
}

st::span a_start_open(st::tracer& tracer) { return tracer.start("lib-a-open"); }

void a_register_exporter(const std::string& name, std::shared_ptr<st::in_memory_exporter> sink) {
  st::register_exporter(name, [sink](const st::exporter_environment&) -> std::shared_ptr<st::span_exporter> {
    return sink;
  });
}

// Not called by the tests: here so that the symbol check sees the state that
// creating a tracer, injecting, extracting and the HTTP middleware use.
SHARED_TEST_API void a_instantiate_the_rest(httplib::Server& server) {
  st::config cfg;
  cfg.exporter = "none";
  auto tracer = st::tracer::create(cfg);
  std::map<std::string, std::string> headers;
  tracer.inject(headers);
  auto span = tracer.start("extracted", tracer.extract(headers));
  st::http::instrument(tracer, server);
}

}  // namespace shared_test
