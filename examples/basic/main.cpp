// The seed's Quick Start in C++: create a tracer, trace an operation with
// attributes, an event and an error, then shut down (which flushes).
//
// The trace is printed to the console: `exporter` is set in code below, and a
// field set in code wins over its variable (OTEL_TRACES_EXPORTER). Leave it
// unset to let the environment choose (e.g. OTEL_TRACES_EXPORTER=file), and
// include <streambus/tracing/otlp_http_exporter.hpp> for "otlp".
#include <streambus/tracing.hpp>

#include <cstdio>
#include <stdexcept>

namespace tracing = streambus::tracing;

static void validate(tracing::tracer& tracer, int user_id) {
  auto span = tracer.start("order.validate");
  span.set_attribute("user_id", user_id);
  if (user_id % 2 == 0) {
    // Recorded as an `exception` event; the span's status becomes ERROR.
    span.record_error(std::invalid_argument("user id must be odd"), {{"error_code", "VALIDATION_FAILED"}});
  }
}

int main() {
  tracing::config cfg;
  cfg.service_name = "streambus-broker";
  cfg.service_version = "1.0.0";
  cfg.environment = "development";
  cfg.exporter = "console";
  cfg.sampling_rate = 1.0;  // 100 % sampling
  cfg.attributes = {{"cluster", "us-west-1"}, {"datacenter", "dc1"}};

  tracing::tracer tracer;
  try {
    tracer = tracing::tracer::create(cfg);
  } catch (const tracing::config_error& e) {
    std::fprintf(stderr, "bad tracing config: %s\n", e.what());
    return 1;
  }

  {
    auto span = tracer.start("order.create", tracing::span_kind::server);
    // The seed's tracer.SetAttributes(ctx, ...) acts on the current span:
    tracer.set_attributes({{"user_id", 123}, {"action", "create"}});
    validate(tracer, 123);
    validate(tracer, 124);
    tracer.add_event("validation-complete", {{"valid", false}});

    // Context for another service: these headers go on the outgoing request.
    std::map<std::string, std::string> headers;
    tracer.inject(headers);
    std::printf("outgoing traceparent: %s\n", headers["traceparent"].c_str());
  }

  tracer.shutdown();
  std::printf("tracing enabled: %s\n", tracer.is_enabled() ? "yes" : "no (shut down)");
  return 0;
}
