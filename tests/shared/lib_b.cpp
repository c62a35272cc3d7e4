// Shared library B of tests/shared.
#include <streambus/tracing.hpp>

#include "shared_api.hpp"

namespace shared_test {

st::span_context b_start_and_end(st::tracer& tracer) {
  auto span = tracer.start("lib-b");
  return span.context();
}

st::tracer b_create_tracer(const std::string& exporter_name) {
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "shared-libraries";
  cfg.exporter = exporter_name;
  return st::tracer::create(cfg);
}

}  // namespace shared_test
