// Sends two known traces through the library's "jaeger" exporter (Thrift
// binary Batch over HTTP, the seed's Jaeger configuration) to the endpoint in
// argv[1], e.g. http://127.0.0.1:PORT/api/traces. Used by run.sh --thrift,
// whose loopback receiver decodes the bodies with the official jaeger.thrift.
// Prints the ids it used so the receiver's findings can be compared.
#include <streambus/tracing/otlp_http_exporter.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace st = streambus::tracing;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: thrift_probe http://127.0.0.1:PORT/api/traces\n");
    return 2;
  }
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "probe-svc";
  cfg.service_version = "9.9.9";
  cfg.exporter = "jaeger";
  cfg.jaeger_endpoint = argv[1];
  cfg.sampling_rate = 1.0;
  cfg.attributes = {{"host.name", "probe-host"}};
  st::batch_options b;
  b.schedule_delay = 20ms;
  cfg.batch = b;
  auto tracer = st::tracer::create(cfg);

  std::string other_trace, other_span, root_id, child_id, leaf_id, trace_id;
  st::span_context linked;
  {
    st::span_options o;
    o.new_root = true;
    auto other = tracer.start("other-root", o);
    linked = other.context();
    other_trace = linked.trace_id().to_hex();
    other_span = linked.span_id().to_hex();
  }
  {
    auto root = tracer.start("GET /probe", st::span_kind::server);
    root.set_attribute("http.response.status_code", 200);
    root.set_attribute("probe.double", 2.5);
    root.set_attribute("probe.bool", true);
    root.set_attribute("probe.string", std::string("s"));
    root.set_attribute("probe.array", std::vector<std::int64_t>{1, 2, 3});
    root_id = root.context().span_id().to_hex();
    trace_id = root.context().trace_id().to_hex();
    {
      st::span_options o;
      o.kind = st::span_kind::client;
      o.links = {linked};
      auto child = tracer.start("call backend", o);
      child_id = child.context().span_id().to_hex();
      child.add_event("retry", {{"attempt", std::int64_t{2}}});
      {
        auto leaf = tracer.start("leaf");
        leaf_id = leaf.context().span_id().to_hex();
        leaf.record_error(std::runtime_error("boom"));
      }
    }
  }
  const bool flushed = tracer.force_flush(10s);
  tracer.shutdown(5s);
  std::printf("{\"flushed\":%s,\"trace\":\"%s\",\"root\":\"%s\",\"child\":\"%s\",\"leaf\":\"%s\","
              "\"other_trace\":\"%s\",\"other_span\":\"%s\"}\n",
              flushed ? "true" : "false", trace_id.c_str(), root_id.c_str(), child_id.c_str(), leaf_id.c_str(),
              other_trace.c_str(), other_span.c_str());
  return flushed ? 0 : 1;
}
