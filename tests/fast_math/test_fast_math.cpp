// The library compiled with the user's -ffast-math. It lets the compiler
// assume that no NaN or infinity exists, and fold std::isnan/std::isfinite
// to constants: the JSON encoders then wrote bare `nan`/`inf` (not JSON, a
// collector's 400) and a NaN sampling rate or retry multiplier passed
// validation. This file is compiled with -ffast-math (CMakeLists.txt).
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace st = streambus::tracing;

namespace {

const double nan_value = std::numeric_limits<double>::quiet_NaN();
const double inf_value = std::numeric_limits<double>::infinity();

// One span with NaN, +Inf and -Inf attributes, through an encoder.
template <class Encode>
std::string encoded(Encode encode) {
  st::resource res;
  res.attributes.set("service.name", "fast-math");
  st::instrumentation_scope scope;
  st::span_data s;
  s.context = st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(3), st::trace_flags(1));
  s.name = "op";
  s.start_time_unix_nano = 1;
  s.end_time_unix_nano = 2;
  s.attributes.set("nan", nan_value);
  s.attributes.set("inf", inf_value);
  s.attributes.set("minus_inf", -inf_value);
  s.attributes.set("list", std::vector<double>{1.0, nan_value});
  const st::span_data* spans[] = {&s};
  std::string out;
  encode(st::span_batch(res, scope, spans, 1), out);
  return out;
}

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("-ffast-math: OTLP JSON writes NaN and infinities as proto3 JSON strings, never bare") {
  const std::string json = encoded([](const st::span_batch& b, std::string& out) { st::otlp::encode_json(b, out); });
  CAPTURE(json);
  CHECK(contains(json, "{\"doubleValue\":\"NaN\"}"));
  CHECK(contains(json, "{\"doubleValue\":\"Infinity\"}"));
  CHECK(contains(json, "{\"doubleValue\":\"-Infinity\"}"));
  CHECK_FALSE(contains(json, ":nan"));
  CHECK_FALSE(contains(json, ":inf"));
  CHECK_FALSE(contains(json, ":-inf"));
}

TEST_CASE("-ffast-math: Jaeger UI JSON and Zipkin keep non-finite doubles as text") {
  const std::string jaeger =
      encoded([](const st::span_batch& b, std::string& out) { st::jaeger::encode_ui_json(b, out); });
  CAPTURE(jaeger);
  CHECK(contains(jaeger, "\"value\":\"NaN\""));
  CHECK(contains(jaeger, "\"value\":\"Infinity\""));
  CHECK_FALSE(contains(jaeger, ":nan"));
  const std::string zipkin =
      encoded([](const st::span_batch& b, std::string& out) { st::zipkin::encode_json_v2(b, out); });
  CAPTURE(zipkin);
  CHECK(contains(zipkin, "\"nan\":\"NaN\""));
  CHECK(contains(zipkin, "\"minus_inf\":\"-Infinity\""));
}

TEST_CASE("-ffast-math: a NaN sampling rate and a NaN or infinite retry multiplier are still refused") {
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.sampling_rate = nan_value;
  CHECK_THROWS_AS(st::tracer::create(cfg), st::config_error);
  CHECK(st::sampler::trace_id_ratio(nan_value).ratio() == 0.0);  // NaN counts as 0
  st::tracer disabled;
  for (const double multiplier : {nan_value, inf_value}) {
    st::retry_backoff backoff;
    backoff.multiplier = multiplier;
    CHECK_THROWS_AS(st::trace_with_retry(disabled, "op", 2, [] {}, backoff), std::invalid_argument);
  }
}
