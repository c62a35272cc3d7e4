// A plugin that is the first in its process to use several pieces of shared
// state (exporter registry, a tracer's fork handlers, the id generator's fork
// handler), and is then dlclose()d by test_plugin_unload.cpp.
#include <streambus/tracing.hpp>

#include <map>
#include <memory>
#include <string>

#include "shared_api.hpp"

extern "C" SHARED_TEST_API void shared_test_plugin_first_use(std::shared_ptr<streambus::tracing::in_memory_exporter>* sink_out) {
  namespace st = streambus::tracing;
  auto sink = std::make_shared<st::in_memory_exporter>();  // its vtable is in this plugin
  st::register_exporter("plugin-sink", [sink](const st::exporter_environment&) -> std::shared_ptr<st::span_exporter> {
    return sink;
  });
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "plugin";
  cfg.exporter = "plugin-sink";
  auto tracer = st::tracer::create(cfg);
  {
    auto span = tracer.start("in-plugin");
    std::map<std::string, std::string> headers;
    tracer.inject(headers);
  }
  tracer.shutdown();
  *sink_out = sink;
}
