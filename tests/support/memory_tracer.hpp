// A tracer whose spans land in a synchronous in-memory exporter, for tests
// that check spans one by one. Include after <streambus/tracing.hpp>.
#pragma once

#include <memory>
#include <vector>

struct memory_tracer {
  std::shared_ptr<streambus::tracing::in_memory_exporter> memory =
      std::make_shared<streambus::tracing::in_memory_exporter>();
  streambus::tracing::tracer tracer;

  // The environment is ignored; no exporter besides the memory one unless
  // cfg names one; service "test-service" unless cfg names one.
  explicit memory_tracer(streambus::tracing::config cfg = {}) {
    cfg.read_environment = false;
    if (cfg.exporter.empty()) cfg.exporter = "none";
    if (cfg.service_name.empty()) cfg.service_name = "test-service";
    cfg.exporters.push_back(memory);
    tracer = streambus::tracing::tracer::create(cfg);
  }

  std::vector<streambus::tracing::span_data> spans() const { return memory->spans(); }
};
