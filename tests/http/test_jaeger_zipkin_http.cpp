// The "jaeger" and "zipkin" exporters: the OTLP/HTTP transport carrying the
// Jaeger Thrift and Zipkin v2 encodings to loopback receivers, chosen by name
// through the tracer like the seed's Exporter: "jaeger".
#include <doctest/doctest.h>

#include <streambus/tracing/otlp_http_exporter.hpp>

#include "http_test_support.hpp"

using namespace http_test;

TEST_CASE("jaeger exporter posts a Thrift Batch with the collector's content type, retrying a 503") {
  receiver r([](std::size_t index, const httplib::Request&, httplib::Response& res) {
    if (index == 0) {
      res.status = 503;
      res.set_header("Retry-After", "0");
    } else {
      res.status = 202;  // what a Jaeger collector answers
    }
  });
  REQUIRE(r.ok());
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  auto options = options_for(r.base() + "/api/traces", diag, &retries);
  options.format = st::http_wire_format::jaeger_thrift;
  options.name = "jaeger";
  st::otlp_http_exporter exporter(options);
  batch_fixture f;
  f.add_many(3);
  CHECK(exporter.name() == "jaeger");
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  const auto requests = r.requests();
  REQUIRE(requests.size() == 2);
  CHECK(retries.load() == 1);
  CHECK(requests[1].path == "/api/traces");
  CHECK(requests[1].header("Content-Type") == "application/vnd.apache.thrift.binary");
  std::string expected;
  st::jaeger::encode_thrift_batch(f.batch(), expected);
  CHECK(requests[1].body == expected);  // the encoding itself is decoded field by field in test_jaeger_encoding
  CHECK(requests[0].body == requests[1].body);
}

TEST_CASE("zipkin exporter posts v2 JSON") {
  receiver r([](std::size_t, const httplib::Request&, httplib::Response& res) { res.status = 202; });
  REQUIRE(r.ok());
  messages diag;
  auto options = options_for(r.base() + "/api/v2/spans", diag);
  options.format = st::http_wire_format::zipkin_json;
  options.name = "zipkin";
  st::otlp_http_exporter exporter(options);
  batch_fixture f;
  f.add_many(2);
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  const auto requests = r.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].header("Content-Type") == "application/json");
  std::string expected;
  st::zipkin::encode_json_v2(f.batch(), expected);
  CHECK(requests[0].body == expected);
  CHECK(requests[0].body.front() == '[');
}

TEST_CASE("the seed's Jaeger configuration delivers through the tracer") {
  receiver r([](std::size_t, const httplib::Request&, httplib::Response& res) { res.status = 202; });
  REQUIRE(r.ok());
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "streambus-broker";
  cfg.exporter = "jaeger";
  cfg.jaeger_endpoint = r.base() + "/api/traces";
  cfg.sampling_rate = 1.0;
  st::batch_options b;
  b.schedule_delay = 20ms;
  cfg.batch = b;
  auto tracer = st::tracer::create(cfg);
  {
    auto parent = tracer.start("producer.send");
    auto child = tracer.start("encode");
  }
  CHECK(tracer.force_flush(10s));
  CHECK(tracer.stats().spans_exported == 2);
  REQUIRE(r.count() >= 1);
  const auto requests = r.requests();
  CHECK(requests[0].header("Content-Type") == "application/vnd.apache.thrift.binary");
  CHECK(requests[0].body.find("streambus-broker") != std::string::npos);  // Process.serviceName
  CHECK(requests[0].body.find("producer.send") != std::string::npos);
}
