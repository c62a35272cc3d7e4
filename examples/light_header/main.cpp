// The light header in a two-file program: orders.cpp includes only
// <streambus/tracing_light.hpp>; this file creates the tracer and compiles
// the light API's implementation (STREAMBUS_TRACING_LIGHT_IMPLEMENTATION,
// exactly one file per program). The spans of both files form one trace,
// printed as a tree; the program checks that, and exits non-zero if not.
#define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
#include <streambus/tracing.hpp>

#include <cstdio>
#include <map>
#include <string>

#include "orders.hpp"

namespace tracing = streambus::tracing;

int main() {
  tracing::config cfg;
  cfg.service_name = "orders";
  cfg.exporter = "console";
  cfg.sampling_rate = 1.0;
  cfg.read_environment = false;  // the check below expects every span
  auto memory = std::make_shared<tracing::in_memory_exporter>();
  cfg.exporters.push_back(memory);
  auto tracer = tracing::tracer::create(cfg);

  std::string parent_trace;
  std::map<std::string, std::string> headers;
  {
    auto batch = tracer.start("orders.batch");  // light spans nest under it
    parent_trace = batch.context().trace_id().to_hex();
    pack_order(tracer, 42, 2);
    ship_order(tracer, 42, headers);
  }
  headers["order.fragile"] = "yes";
  const std::string received_trace = receive_order(tracer, headers);  // continues the trace from the headers
  tracer.shutdown();

  const auto spans = memory->spans();
  // batch, pack + 2 items, send + label + 2 label attempts, process + check
  bool one_trace = spans.size() == 10 && received_trace == parent_trace;
  for (const auto& s : spans) one_trace = one_trace && s.context.trace_id().to_hex() == parent_trace;
  std::printf("%zu spans, %s\n", spans.size(), one_trace ? "one trace across both files: ok" : "NOT one trace");
  return one_trace ? 0 : 1;
}
