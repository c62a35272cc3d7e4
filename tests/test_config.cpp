// Configuration resolution: config fields > OTEL_* variables > OpenTelemetry
// defaults, OTEL_SDK_DISABLED over everything. Every test uses a fake
// environment; the real one is never read.
#include <doctest/doctest.h>

#include <streambus/tracing.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace st = streambus::tracing;

namespace {

using env_map = std::map<std::string, std::string>;

st::env_reader fake_env(env_map vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

st::resolved_config resolve(const st::config& cfg, env_map vars = {}) {
  return st::resolve_config(cfg, fake_env(std::move(vars)));
}

st::resolved_config resolve_env(env_map vars) { return resolve(st::config{}, std::move(vars)); }

// The semantic conventions' default: "unknown_service:" + the executable's name.
std::string default_service_name() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  REQUIRE(n > 0);
  const std::string exe(path, static_cast<std::size_t>(n));
  return "unknown_service:" + exe.substr(exe.rfind('/') + 1);
}

// The warning that mentions `needle`, or "" (so CHECK messages show the list).
std::string warning_with(const st::resolved_config& r, std::string_view needle) {
  for (const auto& w : r.warnings)
    if (w.find(needle) != std::string::npos) return w;
  return {};
}

std::string all_warnings(const st::resolved_config& r) {
  std::string out;
  for (const auto& w : r.warnings) out += w + "\n";
  return out;
}

// The config_error's message, or "" when resolution did not throw one.
std::string error_of(const st::config& cfg, env_map vars = {}) {
  try {
    (void)resolve(cfg, std::move(vars));
  } catch (const st::config_error& e) {
    return e.what();
  }
  return {};
}

bool contains(const std::string& hay, std::string_view needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_SUITE("config") {

TEST_CASE("an empty config and an empty environment give every OpenTelemetry default") {
  const auto r = resolve_env({});
  CHECK(r.enabled);
  CHECK(r.service_name == default_service_name());
  CHECK(r.service_version.empty());
  CHECK(r.environment.empty());
  CHECK(r.resource_attributes.empty());
  CHECK(r.exporters == std::vector<std::string>{"otlp"});
  CHECK(r.otlp.endpoint == "http://localhost:4318/v1/traces");
  CHECK(r.otlp.protocol == "http/protobuf");
  CHECK(r.otlp.headers.empty());
  CHECK(r.otlp.timeout == std::chrono::milliseconds(10000));
  CHECK(r.otlp.compression == "none");
  CHECK(r.otlp.certificate.empty());
  CHECK_FALSE(r.otlp.insecure);
  CHECK(r.jaeger_endpoint == "http://localhost:14268/api/traces");
  CHECK(r.zipkin_endpoint == "http://localhost:9411/api/v2/spans");
  CHECK(r.file_path == "streambus-traces.jsonl");
  CHECK(r.sampler.kind() == st::sampler_kind::parent_based_always_on);
  CHECK(r.propagators == std::vector<std::string>{"tracecontext", "baggage"});
  CHECK(r.limits.attribute_count == 128);
  CHECK(r.limits.attribute_value_length == st::span_limits::unlimited);
  CHECK(r.limits.event_count == 128);
  CHECK(r.limits.link_count == 128);
  CHECK(r.limits.attributes_per_event == 128);
  CHECK(r.limits.attributes_per_link == 128);
  CHECK(r.batch.schedule_delay == std::chrono::milliseconds(5000));
  CHECK(r.batch.export_timeout == std::chrono::milliseconds(30000));
  CHECK(r.batch.max_queue_size == 2048);
  CHECK(r.batch.max_export_batch_size == 512);
  CHECK(r.warnings.empty());
}

TEST_CASE("an empty variable counts as unset, as the specification requires") {
  const auto r = resolve_env({{"OTEL_SERVICE_NAME", ""},
                              {"OTEL_SDK_DISABLED", ""},
                              {"OTEL_BSP_MAX_QUEUE_SIZE", ""},
                              {"OTEL_TRACES_EXPORTER", ""}});
  CHECK(r.enabled);
  CHECK(r.service_name == default_service_name());
  CHECK(r.batch.max_queue_size == 2048);
  CHECK(r.exporters == std::vector<std::string>{"otlp"});
  CHECK(r.warnings.empty());
}

TEST_CASE("OTEL_SDK_DISABLED=true (any case) disables tracing over everything set in code") {
  st::config cfg;
  cfg.enabled = true;
  cfg.service_name = "broker";
  cfg.exporter = "console";
  for (const char* value : {"true", "TRUE", "True", "tRuE"}) {
    CAPTURE(value);
    const auto r = resolve(cfg, {{"OTEL_SDK_DISABLED", value}});
    CHECK_FALSE(r.enabled);
    CHECK(r.warnings.empty());
  }
  CHECK(resolve(cfg, {{"OTEL_SDK_DISABLED", "false"}}).enabled);
  CHECK(resolve(cfg, {{"OTEL_SDK_DISABLED", "FALSE"}}).enabled);
}

TEST_CASE("OTEL_SDK_DISABLED accepts only true and false: anything else warns and keeps tracing on") {
  for (const char* value : {"1", "yes", "on", "true ", "disabled"}) {
    CAPTURE(value);
    const auto r = resolve_env({{"OTEL_SDK_DISABLED", value}});
    CHECK(r.enabled);
    const auto w = warning_with(r, "OTEL_SDK_DISABLED");
    CHECK_MESSAGE(!w.empty(), all_warnings(r));
    CHECK(contains(w, "false"));
  }
}

TEST_CASE("STREAMBUS_TRACING_CLOCK: a value other than steady is reported, not silently ignored") {
  for (const char* value : {"Steady", "steady ", "tsc", "monotonic"}) {
    CAPTURE(value);
    const auto w = warning_with(resolve_env({{"STREAMBUS_TRACING_CLOCK", value}}), "STREAMBUS_TRACING_CLOCK");
    CHECK(contains(w, "\"steady\""));
  }
  CHECK(warning_with(resolve_env({{"STREAMBUS_TRACING_CLOCK", "steady"}}), "STREAMBUS_TRACING_CLOCK").empty());
}

TEST_CASE("config.enabled = false disables tracing whatever the environment says") {
  st::config cfg;
  cfg.enabled = false;
  CHECK_FALSE(resolve(cfg).enabled);
  CHECK_FALSE(resolve(cfg, {{"OTEL_SDK_DISABLED", "false"}}).enabled);
}

TEST_CASE("read_environment = false ignores every variable, even the kill switch") {
  st::config cfg;
  cfg.read_environment = false;
  const auto r = resolve(cfg, {{"OTEL_SDK_DISABLED", "true"},
                               {"OTEL_SERVICE_NAME", "from-env"},
                               {"OTEL_TRACES_EXPORTER", "zipkin"},
                               {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}});
  CHECK(r.enabled);
  CHECK(r.service_name == default_service_name());
  CHECK(r.exporters == std::vector<std::string>{"otlp"});
  CHECK(r.warnings.empty());
  // The one-argument overload must not touch the process environment either.
  CHECK(st::resolve_config(cfg).service_name == default_service_name());
}

TEST_CASE("an env_reader that is empty or throws never makes resolution throw") {
  const auto r1 = st::resolve_config(st::config{}, st::env_reader{});
  CHECK(r1.enabled);
  CHECK(r1.warnings.empty());

  const st::env_reader throwing = [](std::string_view) -> std::optional<std::string> {
    throw std::runtime_error("boom");
  };
  st::resolved_config r2;
  CHECK_NOTHROW(r2 = st::resolve_config(st::config{}, throwing));
  CHECK(r2.enabled);
  CHECK_FALSE(warning_with(r2, "OTEL_SDK_DISABLED").empty());
}

TEST_CASE("service.name: field > OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > attributes > unknown_service") {
  st::config cfg;
  cfg.attributes["service.name"] = "from-attributes";
  env_map vars{{"OTEL_SERVICE_NAME", "from-service-name-var"},
               {"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-resource-var"}};

  cfg.service_name = "from-field";
  CHECK(resolve(cfg, vars).service_name == "from-field");
  cfg.service_name.clear();
  CHECK(resolve(cfg, vars).service_name == "from-service-name-var");
  vars.erase("OTEL_SERVICE_NAME");
  CHECK(resolve(cfg, vars).service_name == "from-resource-var");
  vars.clear();
  CHECK(resolve(cfg, vars).service_name == "from-attributes");
  cfg.attributes.clear();
  CHECK(resolve(cfg, vars).service_name == default_service_name());
}

TEST_CASE("service.version and deployment.environment.name: field > OTEL_RESOURCE_ATTRIBUTES > attributes") {
  st::config cfg;
  cfg.attributes = {{"service.version", "1.0-attr"}, {"deployment.environment.name", "attr-env"}};
  const env_map vars{{"OTEL_RESOURCE_ATTRIBUTES", "service.version=2.0-env,deployment.environment.name=staging"}};

  cfg.service_version = "3.0-field";
  cfg.environment = "production";
  auto r = resolve(cfg, vars);
  CHECK(r.service_version == "3.0-field");
  CHECK(r.environment == "production");

  cfg.service_version.clear();
  cfg.environment.clear();
  r = resolve(cfg, vars);
  CHECK(r.service_version == "2.0-env");
  CHECK(r.environment == "staging");

  r = resolve(cfg);
  CHECK(r.service_version == "1.0-attr");
  CHECK(r.environment == "attr-env");
}

TEST_CASE("resource attributes: variable merged with code, code wins per key, reserved keys moved to fields") {
  st::config cfg;
  cfg.attributes = {{"team", "code-team"}, {"region", "eu"}, {"service.name", "svc"}};
  const auto r = resolve(cfg, {{"OTEL_RESOURCE_ATTRIBUTES",
                                "team=env-team,host.name=box1,service.version=9,deployment.environment.name=prod"}});
  const std::map<std::string, std::string> expected{{"team", "code-team"}, {"region", "eu"}, {"host.name", "box1"}};
  CHECK(r.resource_attributes == expected);
  CHECK(r.service_name == "svc");
  CHECK(r.service_version == "9");
  CHECK(r.environment == "prod");
}

TEST_CASE("OTEL_RESOURCE_ATTRIBUTES: entries and keys trimmed, keys and values percent-decoded") {
  const auto r = resolve_env(
      {{"OTEL_RESOURCE_ATTRIBUTES", "  k1 = v1 , k%20two=hello%2C%20world%3D%25 ,,plus=a+b, empty= ,eq=a=b"}});
  CHECK(r.warnings.empty());
  CHECK(r.resource_attributes.at("k1") == "v1");
  CHECK(r.resource_attributes.at("k two") == "hello, world=%");
  CHECK(r.resource_attributes.at("plus") == "a+b");  // '+' is not a space here
  CHECK(r.resource_attributes.at("empty").empty());
  CHECK(r.resource_attributes.at("eq") == "a=b");
  CHECK(r.resource_attributes.size() == 5);
}

TEST_CASE("OTEL_RESOURCE_ATTRIBUTES: one malformed entry discards the whole variable with a warning") {
  for (const char* value : {"good=1,no-equals-sign", "good=1,=value", "good=1,bad=%zz", "good=1,bad=%4"}) {
    CAPTURE(value);
    const auto r = resolve_env({{"OTEL_RESOURCE_ATTRIBUTES", value}, {"OTEL_SERVICE_NAME", "still-used"}});
    CHECK(r.resource_attributes.empty());
    CHECK(r.service_name == "still-used");
    const auto w = warning_with(r, "OTEL_RESOURCE_ATTRIBUTES");
    CHECK_MESSAGE(contains(w, "ignored"), all_warnings(r));
    CHECK(contains(w, "entry 2"));
  }
}

TEST_CASE("an empty resource attribute key set in code is a config_error") {
  st::config cfg;
  cfg.attributes[""] = "x";
  const auto msg = error_of(cfg);
  CHECK(contains(msg, "attributes"));
  CHECK(contains(msg, "empty key"));
}

TEST_CASE("sampler: sampling_rate alone is the seed's parentbased_traceidratio and beats the variables") {
  st::config cfg;
  cfg.sampling_rate = 0.1;
  const auto r = resolve(cfg, {{"OTEL_TRACES_SAMPLER", "always_off"}, {"OTEL_TRACES_SAMPLER_ARG", "0.9"}});
  CHECK(r.sampler.kind() == st::sampler_kind::parent_based_trace_id_ratio);
  CHECK(r.sampler.ratio() == 0.1);
  // The two variables it overrides are named.
  REQUIRE(r.warnings.size() == 1);
  CHECK(contains(r.warnings.front(), "OTEL_TRACES_SAMPLER=\"always_off\" by sampling_rate"));
  CHECK(contains(r.warnings.front(), "OTEL_TRACES_SAMPLER_ARG=\"0.9\" by sampling_rate"));
}

TEST_CASE("sampler: a sampler named in code takes sampling_rate as its ratio") {
  st::config cfg;
  cfg.sampler = " TraceIdRatio ";
  cfg.sampling_rate = 0.25;
  auto r = resolve(cfg, {{"OTEL_TRACES_SAMPLER", "always_off"}});
  CHECK(r.sampler.kind() == st::sampler_kind::trace_id_ratio);
  CHECK(r.sampler.ratio() == 0.25);

  cfg.sampler = "always_off";
  cfg.sampling_rate.reset();
  r = resolve(cfg, {{"OTEL_TRACES_SAMPLER", "always_on"}});
  CHECK(r.sampler.kind() == st::sampler_kind::always_off);
}

TEST_CASE("sampler: a ratio sampler named in code without sampling_rate takes OTEL_TRACES_SAMPLER_ARG") {
  st::config cfg;
  cfg.sampler = "parentbased_traceidratio";
  auto r = resolve(cfg, {{"OTEL_TRACES_SAMPLER_ARG", "0.5"}});
  CHECK(r.sampler.kind() == st::sampler_kind::parent_based_trace_id_ratio);
  CHECK(r.sampler.ratio() == 0.5);
  r = resolve(cfg);
  CHECK(r.sampler.ratio() == 1.0);
}

TEST_CASE("sampler: OTEL_TRACES_SAMPLER and _ARG when code sets neither") {
  const struct {
    const char* name;
    st::sampler_kind kind;
  } cases[] = {{"always_on", st::sampler_kind::always_on},
               {"always_off", st::sampler_kind::always_off},
               {"traceidratio", st::sampler_kind::trace_id_ratio},
               {"parentbased_always_on", st::sampler_kind::parent_based_always_on},
               {"parentbased_always_off", st::sampler_kind::parent_based_always_off},
               {"PARENTBASED_TRACEIDRATIO", st::sampler_kind::parent_based_trace_id_ratio}};
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto r = resolve_env({{"OTEL_TRACES_SAMPLER", c.name}});
    CHECK(r.sampler.kind() == c.kind);
    CHECK(r.sampler.ratio() == 1.0);
    CHECK(r.warnings.empty());
  }
  const auto r = resolve_env({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "0.1"}});
  CHECK(r.sampler.ratio() == 0.1);  // exactly the double 0.1, as every other SDK reads it
  CHECK(resolve_env({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "1e-2"}}).sampler.ratio() ==
        0.01);
  CHECK(resolve_env({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", ".5"}}).sampler.ratio() ==
        0.5);
  CHECK(resolve_env({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "0"}}).sampler.ratio() ==
        0.0);
  CHECK(resolve_env({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "0.000123456789"}})
            .sampler.ratio() == 0.000123456789);
  // Both ends of [0, 1] are ratios: no warning.
  for (const char* edge : {"0", "1", "1.0"}) {
    CAPTURE(edge);
    const auto e = resolve_env({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", edge}});
    CHECK(e.sampler.ratio() == (edge[0] == '0' ? 0.0 : 1.0));
    CHECK_MESSAGE(e.warnings.empty(), all_warnings(e));
  }
}

TEST_CASE("sampler: OTEL_TRACES_SAMPLER_ARG is ignored by samplers that take no argument") {
  const auto r = resolve_env({{"OTEL_TRACES_SAMPLER", "always_on"}, {"OTEL_TRACES_SAMPLER_ARG", "junk"}});
  CHECK(r.sampler.kind() == st::sampler_kind::always_on);
  CHECK(r.warnings.empty());
}

TEST_CASE("sampler: a bad OTEL_TRACES_SAMPLER_ARG warns and uses 1.0") {
  for (const char* arg : {"abc", "1.5", "-0.1", "0,5", "nan", "inf", "0x1p-1", "0.5.5", "1e", "."}) {
    CAPTURE(arg);
    const auto r = resolve_env({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", arg}});
    CHECK(r.sampler.kind() == st::sampler_kind::trace_id_ratio);
    CHECK(r.sampler.ratio() == 1.0);
    const auto w = warning_with(r, "OTEL_TRACES_SAMPLER_ARG");
    CHECK_MESSAGE(contains(w, "1.0"), all_warnings(r));
    CHECK(contains(w, arg));
  }
}

TEST_CASE("sampler: an unknown OTEL_TRACES_SAMPLER warns and uses parentbased_always_on") {
  const auto r = resolve_env({{"OTEL_TRACES_SAMPLER", "jaeger_remote"}});
  CHECK(r.sampler.kind() == st::sampler_kind::parent_based_always_on);
  const auto w = warning_with(r, "OTEL_TRACES_SAMPLER");
  CHECK(contains(w, "jaeger_remote"));
  CHECK(contains(w, "parentbased_always_on"));
}

TEST_CASE("sampler: invalid code values are config_errors") {
  for (const double rate : {1.5, -0.1, std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity()}) {
    CAPTURE(rate);
    st::config cfg;
    cfg.sampling_rate = rate;
    const auto msg = error_of(cfg);
    CHECK(contains(msg, "sampling_rate"));
    CHECK(contains(msg, "[0, 1]"));
  }
  st::config cfg;
  cfg.sampler = "probabilistic";
  auto msg = error_of(cfg);
  CHECK(contains(msg, "probabilistic"));
  CHECK(contains(msg, "parentbased_traceidratio"));  // lists what is allowed

  cfg.sampler = "always_on";
  cfg.sampling_rate = 0.5;
  msg = error_of(cfg);
  CHECK(contains(msg, "sampling_rate"));
  CHECK(contains(msg, "always_on"));

  st::config edges;
  edges.sampling_rate = 0.0;
  CHECK(resolve(edges).sampler.ratio() == 0.0);
  edges.sampling_rate = 1.0;
  CHECK(resolve(edges).sampler.ratio() == 1.0);
}

TEST_CASE("exporters from code: trimmed, case-insensitive, deduplicated, in order; code beats the variable") {
  st::config cfg;
  cfg.exporter = " OTLP, console ,otlp,Jaeger,zipkin,file,memory";
  const auto r = resolve(cfg, {{"OTEL_TRACES_EXPORTER", "none"}});
  CHECK(r.exporters == std::vector<std::string>{"otlp", "console", "jaeger", "zipkin", "file", "memory"});
  cfg.exporter = "none";
  CHECK(resolve(cfg, {{"OTEL_TRACES_EXPORTER", "console"}}).exporters.empty());
  cfg.exporter = "NONE, none";
  CHECK(resolve(cfg).exporters.empty());
}

TEST_CASE("exporters from code: unknown names, none mixed with others, or an empty list are config_errors") {
  st::config cfg;
  cfg.exporter = "otlp,jeager,stdout";
  auto msg = error_of(cfg);
  CHECK(contains(msg, "\"jeager\""));
  CHECK(contains(msg, "\"stdout\""));
  CHECK(contains(msg, "otlp, jaeger, zipkin, console, file, memory, none"));
  CHECK(contains(msg, "2 problems"));

  cfg.exporter = "none,otlp";
  msg = error_of(cfg);
  CHECK(contains(msg, "none"));
  CHECK(contains(msg, "combines"));

  cfg.exporter = " , ";
  CHECK(contains(error_of(cfg), "names no exporter"));
}

TEST_CASE("exporters from OTEL_TRACES_EXPORTER: lists, none, unknown names dropped with a warning") {
  CHECK(resolve_env({{"OTEL_TRACES_EXPORTER", "zipkin, CONSOLE"}}).exporters ==
        std::vector<std::string>{"zipkin", "console"});
  CHECK(resolve_env({{"OTEL_TRACES_EXPORTER", "none"}}).exporters.empty());

  auto r = resolve_env({{"OTEL_TRACES_EXPORTER", "otlp,prometheus"}});
  CHECK(r.exporters == std::vector<std::string>{"otlp"});
  CHECK(contains(warning_with(r, "OTEL_TRACES_EXPORTER"), "prometheus"));

  r = resolve_env({{"OTEL_TRACES_EXPORTER", "logging"}});
  CHECK(r.exporters == std::vector<std::string>{"otlp"});
  CHECK(contains(warning_with(r, "no known exporter"), "default otlp"));

  r = resolve_env({{"OTEL_TRACES_EXPORTER", "none,console"}});
  CHECK(r.exporters == std::vector<std::string>{"console"});
  CHECK_FALSE(warning_with(r, "\"none\" ignored").empty());
}

TEST_CASE("propagators: code > OTEL_PROPAGATORS > tracecontext,baggage, with none and validation") {
  st::config cfg;
  cfg.propagators = "b3multi, TraceContext,b3";
  CHECK(resolve(cfg, {{"OTEL_PROPAGATORS", "jaeger"}}).propagators ==
        std::vector<std::string>{"b3multi", "tracecontext", "b3"});
  cfg.propagators = "none";
  CHECK(resolve(cfg).propagators.empty());
  cfg.propagators = "xray,tracecontext";
  auto msg = error_of(cfg);
  CHECK(contains(msg, "xray"));
  CHECK(contains(msg, "tracecontext, baggage, b3, b3multi, jaeger, none"));
  cfg.propagators = "none,b3";
  CHECK(contains(error_of(cfg), "combines"));

  CHECK(resolve_env({{"OTEL_PROPAGATORS", "baggage,jaeger,baggage"}}).propagators ==
        std::vector<std::string>{"baggage", "jaeger"});
  CHECK(resolve_env({{"OTEL_PROPAGATORS", "none"}}).propagators.empty());
  auto r = resolve_env({{"OTEL_PROPAGATORS", "ottrace,b3"}});
  CHECK(r.propagators == std::vector<std::string>{"b3"});
  CHECK(contains(warning_with(r, "OTEL_PROPAGATORS"), "ottrace"));
  r = resolve_env({{"OTEL_PROPAGATORS", "xray"}});
  CHECK(r.propagators == std::vector<std::string>{"tracecontext", "baggage"});
  CHECK_FALSE(warning_with(r, "default tracecontext,baggage").empty());
}

TEST_CASE("http_known_methods: code > OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS > RFC 9110 and PATCH, a full override") {
  const std::vector<std::string> defaults{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  CHECK(resolve_env({}).http_known_methods == defaults);
  // The variable replaces the list (it does not add to it); case-sensitive, blanks ignored.
  auto r = resolve_env({{"OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", " GET, PROPFIND ,get"}});
  CHECK(r.http_known_methods == std::vector<std::string>{"GET", "PROPFIND", "get"});
  CHECK(r.warnings.empty());
  r = resolve_env({{"OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", "GET,BAD METHOD,(x)"}});
  CHECK(r.http_known_methods == std::vector<std::string>{"GET"});
  CHECK(contains(warning_with(r, "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS"), "\"BAD METHOD\""));
  r = resolve_env({{"OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", " , "}});
  CHECK(r.http_known_methods == defaults);
  CHECK(contains(warning_with(r, "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS"), "default list"));
  st::config cfg;
  cfg.http_known_methods = "GET,POST,PURGE";
  r = resolve(cfg, {{"OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", "GET"}});
  CHECK(r.http_known_methods == std::vector<std::string>{"GET", "POST", "PURGE"});
  CHECK(contains(warning_with(r, "ignored"), "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS"));
  cfg.http_known_methods = "GET,not a token";
  CHECK(contains(error_of(cfg), "\"not a token\" is not an HTTP method token"));
}

TEST_CASE("otlp_endpoint from code: the seed's localhost:4317 becomes http://localhost:4318/v1/traces with a warning") {
  st::config cfg;
  cfg.otlp_endpoint = "localhost:4317";
  const auto r = resolve(cfg);
  CHECK(r.otlp.endpoint == "http://localhost:4318/v1/traces");
  const auto w = warning_with(r, "4317");
  CHECK_MESSAGE(contains(w, "4318"), all_warnings(r));
  CHECK(contains(w, "OTLP/HTTP"));
  CHECK(contains(w, "gRPC"));
}

TEST_CASE("otlp_endpoint from code: scheme added, path /v1/traces added only when empty or /") {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"collector:4318", "http://collector:4318/v1/traces"},
      {"http://collector:4318", "http://collector:4318/v1/traces"},
      {"https://collector.example.com/", "https://collector.example.com/v1/traces"},
      {"HTTPS://Collector:443", "https://Collector:443/v1/traces"},
      {"http://collector:4318/custom/path", "http://collector:4318/custom/path"},
      {"http://collector:4318/v1/traces", "http://collector:4318/v1/traces"},
      {"https://collector:4317/otlp", "https://collector:4318/otlp"},
      {"http://[::1]:4318", "http://[::1]:4318/v1/traces"},
      {"[::1]:4317", "http://[::1]:4318/v1/traces"},
      {"  http://trimmed:4318  ", "http://trimmed:4318/v1/traces"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    st::config cfg;
    cfg.otlp_endpoint = c.in;
    CHECK(resolve(cfg).otlp.endpoint == c.out);
  }
}

TEST_CASE("otlp_endpoint from code wins over both endpoint variables") {
  st::config cfg;
  cfg.otlp_endpoint = "http://code:4318";
  const auto r = resolve(cfg, {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env-traces:4318/v1/traces"},
                               {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"}});
  CHECK(r.otlp.endpoint == "http://code:4318/v1/traces");
}

TEST_CASE("endpoints from code that are not http(s) URLs are config_errors") {
  const char* bad[] = {"ftp://collector:21", "grpc://collector:4317", "http://", "http://:4318",
                       "http://host:0",      "http://host:65536",     "http://host:abc", "http://host name:4318",
                       "http://[::1:4318",   "unix:///tmp/socket"};
  for (const char* url : bad) {
    CAPTURE(url);
    st::config cfg;
    cfg.otlp_endpoint = url;
    const auto msg = error_of(cfg);
    CHECK(contains(msg, "otlp_endpoint"));
  }
  st::config cfg;
  cfg.jaeger_endpoint = "udp://agent:6831";
  cfg.zipkin_endpoint = "http://zipkin:99999/api/v2/spans";
  const auto msg = error_of(cfg);
  CHECK(contains(msg, "jaeger_endpoint"));
  CHECK(contains(msg, "zipkin_endpoint"));
  CHECK(contains(msg, "2 problems"));
}

TEST_CASE("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is and wins over OTEL_EXPORTER_OTLP_ENDPOINT") {
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example.com:8443/custom"},
                        {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"}});
  CHECK(r.otlp.endpoint == "https://traces.example.com:8443/custom");
  CHECK(r.warnings.empty());
  r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318"}});
  CHECK(r.otlp.endpoint == "http://collector:4318");  // no /v1/traces added to the signal-specific URL
  // ... but said: a collector answers 404 at '/'.
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), "has no path"));
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), "/v1/traces"));
  r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/"}});
  CHECK(r.otlp.endpoint == "http://collector:4318/");
  CHECK(r.warnings.size() == 1);
}

TEST_CASE("OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended, trailing slash or not") {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {{"http://collector:4318", "http://collector:4318/v1/traces"},
               {"http://collector:4318/", "http://collector:4318/v1/traces"},
               {"https://gateway.example.com/otlp", "https://gateway.example.com/otlp/v1/traces"},
               {"https://gateway.example.com/otlp/", "https://gateway.example.com/otlp/v1/traces"}};
  for (const auto& c : cases) {
    CAPTURE(c.in);
    const auto r = resolve_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", c.in}});
    CHECK(r.otlp.endpoint == c.out);
    CHECK(r.warnings.empty());
  }
  // Already a traces URL: appended all the same (the specification), with a
  // warning that names the variable meant for full URLs.
  const auto r = resolve_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/v1/traces"}});
  CHECK(r.otlp.endpoint == "http://collector:4318/v1/traces/v1/traces");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_ENDPOINT"), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
}

TEST_CASE("endpoint variables: invalid URLs warn and fall back, a missing scheme is added with a warning") {
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x"},
                        {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"}});
  CHECK(r.otlp.endpoint == "http://general:4318/v1/traces");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), "ftp"));

  r = resolve_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://bad port:4318"}});
  CHECK(r.otlp.endpoint == "http://localhost:4318/v1/traces");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_ENDPOINT"), "http://localhost:4318/v1/traces"));

  r = resolve_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}});
  CHECK(r.otlp.endpoint == "http://collector:4318/v1/traces");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_ENDPOINT"), "no scheme"));
}

TEST_CASE("endpoint variables on port 4317 are kept but warned about") {
  const auto r = resolve_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"}});
  CHECK(r.otlp.endpoint == "http://collector:4317/v1/traces");
  const auto w = warning_with(r, "4317");
  CHECK(contains(w, "4318"));
  CHECK(contains(w, "OTEL_EXPORTER_OTLP_ENDPOINT"));
}

TEST_CASE("warnings about URLs never show their credentials") {
  const auto r = resolve_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://user:s3cret@collector:21"}});
  const auto w = warning_with(r, "OTEL_EXPORTER_OTLP_ENDPOINT");
  CHECK_FALSE(w.empty());
  CHECK_FALSE(contains(w, "s3cret"));
  CHECK(contains(w, "***@collector"));
  st::config cfg;
  cfg.otlp_endpoint = "ftp://user:s3cret@collector";
  CHECK_FALSE(contains(error_of(cfg), "s3cret"));
}

TEST_CASE("otlp protocol: http/protobuf and http/json accepted from code and variables, any case") {
  st::config cfg;
  cfg.otlp_protocol = "HTTP/JSON";
  CHECK(resolve(cfg, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}}).otlp.protocol == "http/json");
  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}}).otlp.protocol == "http/json");
  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"},
                     {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}})
            .otlp.protocol == "http/json");
}

TEST_CASE("otlp protocol grpc from code is a config_error naming OTLP/HTTP and port 4318") {
  st::config cfg;
  cfg.otlp_protocol = "grpc";
  const auto msg = error_of(cfg);
  CHECK(contains(msg, "otlp_protocol"));
  CHECK(contains(msg, "4318"));
  CHECK(contains(msg, "HTTP"));
  cfg.otlp_protocol = "thrift";
  CHECK(contains(error_of(cfg), "http/protobuf, http/json"));
}

namespace {
// "otlp" registered for the scope of a test, as including the HTTP transport
// would (this test binary does not link it).
struct otlp_compiled_in {
  otlp_compiled_in() {
    st::register_exporter("otlp", [](const st::exporter_environment&) -> std::shared_ptr<st::span_exporter> {
      return nullptr;
    });
  }
  ~otlp_compiled_in() {
    auto& r = st::detail::registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.factories.erase("otlp");
  }
};
}  // namespace

TEST_CASE("otlp protocol grpc from a variable only warns in a program without the HTTP transport") {
  // Spans are discarded there whatever the protocol (with its own warning):
  // an operator's grpc must not abort the service (an audit found it did).
  REQUIRE_FALSE(st::find_exporter_factory("otlp"));
  for (const char* var : {"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}) {
    CAPTURE(var);
    st::resolved_config r;
    CHECK_NOTHROW(r = resolve_env({{var, "grpc"}}));
    CHECK(contains(warning_with(r, var), "not compiled in"));
    CHECK(r.otlp.protocol == "http/protobuf");
  }
}

TEST_CASE("otlp protocol grpc from a variable is a config_error too (documented deviation from the spec)") {
  const otlp_compiled_in transport;
  for (const char* var : {"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}) {
    CAPTURE(var);
    const auto msg = error_of(st::config{}, {{var, "grpc"}});
    CHECK(contains(msg, var));
    CHECK(contains(msg, "4318"));
  }
  // The traces variable wins, so a valid one shadows a general grpc.
  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"}, {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}})
            .otlp.protocol == "http/protobuf");
  // A protocol set in code wins over the variable.
  st::config cfg;
  cfg.otlp_protocol = "http/protobuf";
  CHECK(resolve(cfg, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}}).otlp.protocol == "http/protobuf");
}

TEST_CASE("otlp protocol grpc from a variable only warns when nothing would be sent over OTLP") {
  st::config jaeger_only;
  jaeger_only.exporter = "jaeger";
  auto r = resolve(jaeger_only, {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}});
  CHECK(r.otlp.protocol == "http/protobuf");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_PROTOCOL"), "not in use"));

  r = resolve_env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_SDK_DISABLED", "true"}});
  CHECK_FALSE(r.enabled);
  CHECK_FALSE(warning_with(r, "OTEL_EXPORTER_OTLP_PROTOCOL").empty());
}

TEST_CASE("otlp protocol: an unknown value in a variable warns and falls back") {
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/thrift"},
                        {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}});
  CHECK(r.otlp.protocol == "http/json");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), "http/thrift"));
  r = resolve_env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "udp"}});
  CHECK(r.otlp.protocol == "http/protobuf");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_PROTOCOL"), "default http/protobuf"));
}

TEST_CASE("otlp headers: parsed and percent-decoded; the traces variable replaces the general one") {
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc%3D%3D, x-tenant = acme%20corp"}});
  CHECK(r.otlp.headers == std::map<std::string, std::string>{{"api-key", "abc=="}, {"x-tenant", "acme corp"}});
  r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=1"}, {"OTEL_EXPORTER_OTLP_HEADERS", "b=2"}});
  CHECK(r.otlp.headers == std::map<std::string, std::string>{{"a", "1"}});
  // Header names are case-insensitive: one header, the last value (was: both sent).
  r = resolve_env({{"OTEL_EXPORTER_OTLP_HEADERS", "Api-Key=old,x=1,api-key=new"}});
  CHECK(r.otlp.headers == std::map<std::string, std::string>{{"api-key", "new"}, {"x", "1"}});
  // Resource attribute keys are not: both kept.
  r = resolve_env({{"OTEL_RESOURCE_ATTRIBUTES", "Team=a,team=b"}});
  CHECK(r.resource_attributes.size() == 2);
}

TEST_CASE("otlp headers: malformed variables warn without showing values and fall back") {
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer%20s3cret,broken"},
                        {"OTEL_EXPORTER_OTLP_HEADERS", "b=2"}});
  CHECK(r.otlp.headers == std::map<std::string, std::string>{{"b", "2"}});
  auto w = warning_with(r, "OTEL_EXPORTER_OTLP_TRACES_HEADERS");
  CHECK(contains(w, "entry 2"));
  CHECK_FALSE(contains(w, "s3cret"));
  CHECK_FALSE(contains(w, "Bearer"));

  // Header injection through a percent-encoded line break, and a bad name.
  for (const char* value : {"x=a%0D%0AHost: evil", "bad name=1", "x=a%00b"}) {
    CAPTURE(value);
    r = resolve_env({{"OTEL_EXPORTER_OTLP_HEADERS", value}});
    CHECK(r.otlp.headers.empty());
    CHECK_FALSE(warning_with(r, "OTEL_EXPORTER_OTLP_HEADERS").empty());
  }
}

TEST_CASE("otlp headers from code merge over the variable's, case-insensitively, and are validated") {
  st::config cfg;
  cfg.otlp_headers = {{"Authorization", "Bearer code"}, {"x-extra", "1"}};
  const auto r = resolve(cfg, {{"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer env,x-env=2"}});
  CHECK(r.otlp.headers ==
        std::map<std::string, std::string>{{"Authorization", "Bearer code"}, {"x-extra", "1"}, {"x-env", "2"}});

  st::config bad;
  bad.otlp_headers = {{"", "v"}, {"x y", "v"}, {"x-ok", "line\r\nbreak"}};
  const auto msg = error_of(bad);
  CHECK(contains(msg, "3 problems"));
  CHECK(contains(msg, "\"x y\""));
  CHECK(contains(msg, "line break"));
  CHECK_FALSE(contains(msg, "line\\x0d"));  // the value itself is not echoed
}

TEST_CASE("otlp timeout: code > traces variable > general variable > 10000 ms") {
  st::config cfg;
  cfg.otlp_timeout = std::chrono::milliseconds(1234);
  CHECK(resolve(cfg, {{"OTEL_EXPORTER_OTLP_TIMEOUT", "5"}}).otlp.timeout == std::chrono::milliseconds(1234));
  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "250"}, {"OTEL_EXPORTER_OTLP_TIMEOUT", "500"}})
            .otlp.timeout == std::chrono::milliseconds(250));
  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_TIMEOUT", "500"}}).otlp.timeout == std::chrono::milliseconds(500));

  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10s"}, {"OTEL_EXPORTER_OTLP_TIMEOUT", "750"}});
  CHECK(r.otlp.timeout == std::chrono::milliseconds(750));
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"), "10s"));
  r = resolve_env({{"OTEL_EXPORTER_OTLP_TIMEOUT", "0"}});
  CHECK(r.otlp.timeout == std::chrono::milliseconds(10000));
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_TIMEOUT"), "10000"));

  cfg.otlp_timeout = std::chrono::milliseconds(0);
  CHECK(contains(error_of(cfg), "otlp_timeout"));
  cfg.otlp_timeout = std::chrono::milliseconds(-5);
  CHECK(contains(error_of(cfg), "positive"));
}

TEST_CASE("otlp compression: none or gzip, from code or variables") {
  st::config cfg;
  cfg.otlp_compression = "GZIP";
  CHECK(resolve(cfg, {{"OTEL_EXPORTER_OTLP_COMPRESSION", "none"}}).otlp.compression == "gzip");
  cfg.otlp_compression = "brotli";
  CHECK(contains(error_of(cfg), "none, gzip"));

  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"}}).otlp.compression == "gzip");
  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none"}, {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"}})
            .otlp.compression == "none");
  const auto r = resolve_env({{"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"}});
  CHECK(r.otlp.compression == "none");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_OTLP_COMPRESSION"), "zstd"));
}

TEST_CASE("otlp certificate: code > traces variable > general variable; insecure from code only") {
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/etc/traces-ca.pem"},
                        {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"}});
  CHECK(r.otlp.certificate == "/etc/traces-ca.pem");
  CHECK(resolve_env({{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"}}).otlp.certificate == "/etc/ca.pem");

  // The INSECURE variables are the specification's for OTLP/gRPC: over
  // OTLP/HTTP they never turn verification off, and a value that would
  // have is named in a warning.
  for (const char* var : {"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE"}) {
    for (const char* value : {"true", "TRUE", "yes", "1"}) {
      CAPTURE(var);
      CAPTURE(value);
      r = resolve_env({{var, value}});
      CHECK_FALSE(r.otlp.insecure);
      CHECK(contains(warning_with(r, var), "OTLP/gRPC only"));
      CHECK(contains(warning_with(r, var), value));
    }
    r = resolve_env({{var, " false "}});
    CHECK_FALSE(r.otlp.insecure);
    CHECK(r.warnings.empty());
  }

  st::config cfg;
  cfg.otlp_certificate = "/code/ca.pem";
  cfg.otlp_insecure = true;
  r = resolve(cfg, {{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"}});
  CHECK(r.otlp.certificate == "/code/ca.pem");
  CHECK(r.otlp.insecure);
}

TEST_CASE("otlp client certificate and key (mutual TLS): code > traces variable > general variable; both or neither") {
  // Readable files, so that only the rules under test can warn.
  const std::string cert = "/proc/self/cmdline", key = "/proc/self/environ", other = "/proc/self/stat";
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", cert},
                        {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", other},
                        {"OTEL_EXPORTER_OTLP_CLIENT_KEY", key}});
  CHECK(r.otlp.client_certificate == cert);
  CHECK(r.otlp.client_key == key);
  CHECK(r.warnings.empty());
  r = resolve_env({{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert}, {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", key},
                   {"OTEL_EXPORTER_OTLP_CLIENT_KEY", other}});
  CHECK(r.otlp.client_certificate == cert);
  CHECK(r.otlp.client_key == key);

  st::config cfg;
  cfg.otlp_client_certificate = other;
  cfg.otlp_client_key = other;
  r = resolve(cfg, {{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert}, {"OTEL_EXPORTER_OTLP_CLIENT_KEY", key}});
  CHECK(r.otlp.client_certificate == other);
  CHECK(r.otlp.client_key == other);

  // One without the other is said, and neither is used (the TLS library
  // would drop it silently).
  r = resolve_env({{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert}});
  CHECK(r.otlp.client_certificate.empty());
  CHECK(contains(warning_with(r, cert), "no client key"));
  r = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", key}});
  CHECK(r.otlp.client_key.empty());
  CHECK(contains(warning_with(r, key), "no client certificate"));

  // Files that cannot be read are said at startup, and kept: exports fail
  // visibly rather than go out without the certificate.
  r = resolve_env({{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/nonexistent/client.pem"},
                   {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/nonexistent/client-key.pem"}});
  CHECK(contains(warning_with(r, "/nonexistent/client.pem"), "cannot be read"));
  CHECK(contains(warning_with(r, "/nonexistent/client-key.pem"), "cannot be read"));
  CHECK(r.otlp.client_certificate == "/nonexistent/client.pem");
}

TEST_CASE("jaeger and zipkin endpoints: code > variable > default") {
  st::config cfg;
  cfg.jaeger_endpoint = "http://localhost:14268/api/traces";  // the seed's value
  cfg.zipkin_endpoint = "zipkin:9411/api/v2/spans";
  auto r = resolve(cfg, {{"OTEL_EXPORTER_JAEGER_ENDPOINT", "http://env-jaeger:14268/api/traces"},
                         {"OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://env-zipkin:9411/api/v2/spans"}});
  CHECK(r.jaeger_endpoint == "http://localhost:14268/api/traces");
  CHECK(r.zipkin_endpoint == "http://zipkin:9411/api/v2/spans");

  r = resolve_env({{"OTEL_EXPORTER_JAEGER_ENDPOINT", "http://env-jaeger:14268/api/traces"},
                   {"OTEL_EXPORTER_ZIPKIN_ENDPOINT", "https://env-zipkin/api/v2/spans"}});
  CHECK(r.jaeger_endpoint == "http://env-jaeger:14268/api/traces");
  CHECK(r.zipkin_endpoint == "https://env-zipkin/api/v2/spans");

  r = resolve_env({{"OTEL_EXPORTER_JAEGER_ENDPOINT", "udp://agent:6831"},
                   {"OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://zipkin:0/api"}});
  CHECK(r.jaeger_endpoint == "http://localhost:14268/api/traces");
  CHECK(r.zipkin_endpoint == "http://localhost:9411/api/v2/spans");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_JAEGER_ENDPOINT"), "http://localhost:14268/api/traces"));
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_ZIPKIN_ENDPOINT"), "http://localhost:9411/api/v2/spans"));
}

TEST_CASE("limits: span-specific variables, general fallbacks, defaults") {
  auto r = resolve_env({{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "10"},
                        {"OTEL_ATTRIBUTE_COUNT_LIMIT", "20"},
                        {"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "30"},
                        {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "40"},
                        {"OTEL_SPAN_EVENT_COUNT_LIMIT", "5"},
                        {"OTEL_SPAN_LINK_COUNT_LIMIT", "6"},
                        {"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "7"},
                        {"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "0"}});
  CHECK(r.limits.attribute_count == 10);
  CHECK(r.limits.attribute_value_length == 30);
  CHECK(r.limits.event_count == 5);
  CHECK(r.limits.link_count == 6);
  CHECK(r.limits.attributes_per_event == 7);
  CHECK(r.limits.attributes_per_link == 0);
  CHECK(r.warnings.empty());

  r = resolve_env({{"OTEL_ATTRIBUTE_COUNT_LIMIT", "20"}, {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "40"}});
  CHECK(r.limits.attribute_count == 20);
  CHECK(r.limits.attribute_value_length == 40);
}

TEST_CASE("limits: bad values warn; a bad span-specific value falls back to the general variable") {
  auto r = resolve_env({{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "-1"}, {"OTEL_ATTRIBUTE_COUNT_LIMIT", "64"}});
  CHECK(r.limits.attribute_count == 64);
  CHECK(contains(warning_with(r, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"), "OTEL_ATTRIBUTE_COUNT_LIMIT"));

  r = resolve_env({{"OTEL_SPAN_EVENT_COUNT_LIMIT", "lots"}, {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "2147483648"}});
  CHECK(r.limits.event_count == 128);
  CHECK(r.limits.attribute_value_length == st::span_limits::unlimited);
  CHECK(contains(warning_with(r, "OTEL_SPAN_EVENT_COUNT_LIMIT"), "default 128"));
  CHECK(contains(warning_with(r, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"), "2147483647"));
  CHECK(contains(warning_with(r, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"), "no limit"));
}

TEST_CASE("limits set in code replace every limit variable") {
  st::config cfg;
  st::span_limits l;
  l.attribute_count = 3;
  cfg.limits = l;
  const auto r = resolve(cfg, {{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "10"}, {"OTEL_SPAN_EVENT_COUNT_LIMIT", "1"}});
  CHECK(r.limits.attribute_count == 3);
  CHECK(r.limits.event_count == 128);
}

TEST_CASE("integers in variables: plain non-negative decimal only, overflow rejected") {
  CHECK(resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", " 4096 "}}).batch.max_queue_size == 4096);
  CHECK(resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", "007"}}).batch.max_queue_size == 7);
  CHECK(resolve_env({{"OTEL_BSP_EXPORT_TIMEOUT", "2147483647"}}).batch.export_timeout.count() == 2147483647);
  for (const char* value : {"+5", "-5", "5ms", "0x10", "1e3", "1.5", "1 000", "abc", "99999999999999999999999"}) {
    CAPTURE(value);
    const auto r = resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", value}});
    CHECK(r.batch.max_queue_size == 2048);
    const auto w = warning_with(r, "OTEL_BSP_MAX_QUEUE_SIZE");
    CHECK_MESSAGE(contains(w, "default 2048"), all_warnings(r));
  }
}

TEST_CASE("batch: the queue size has an upper limit, with a clear message either way") {
  constexpr std::size_t limit = st::batch_options::max_queue_size_limit;
  CHECK(resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", std::to_string(limit)}}).batch.max_queue_size == limit);
  const auto r = resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", std::to_string(limit + 1)}});
  CHECK(r.batch.max_queue_size == 2048);
  const auto w = warning_with(r, "OTEL_BSP_MAX_QUEUE_SIZE");
  CHECK_MESSAGE(contains(w, "exceeds the limit of " + std::to_string(limit)), all_warnings(r));

  st::config cfg;
  cfg.exporter = "none";
  cfg.read_environment = false;
  st::batch_options b;
  b.max_queue_size = limit + 1;
  cfg.batch = b;
  try {
    (void)st::tracer::create(cfg);
    FAIL("a queue size over the limit was accepted");
  } catch (const st::config_error& e) {
    CHECK(contains(e.what(), "batch.max_queue_size = " + std::to_string(limit + 1) + " exceeds the limit"));
  }
}

TEST_CASE("batch: every OTEL_BSP_* variable") {
  const auto r = resolve_env({{"OTEL_BSP_SCHEDULE_DELAY", "100"},
                              {"OTEL_BSP_EXPORT_TIMEOUT", "2000"},
                              {"OTEL_BSP_MAX_QUEUE_SIZE", "1000"},
                              {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100"}});
  CHECK(r.batch.schedule_delay == std::chrono::milliseconds(100));
  CHECK(r.batch.export_timeout == std::chrono::milliseconds(2000));
  CHECK(r.batch.max_queue_size == 1000);
  CHECK(r.batch.max_export_batch_size == 100);
  CHECK(r.warnings.empty());
}

TEST_CASE("batch: a batch size above the queue size is clamped, with a warning when the user set it") {
  auto r = resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", "100"}, {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"}});
  CHECK(r.batch.max_export_batch_size == 100);
  CHECK(contains(warning_with(r, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), "clamped to 100"));

  r = resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", "100"}});  // the default 512 does not fit either
  CHECK(r.batch.max_export_batch_size == 100);
  CHECK(r.warnings.empty());
}

TEST_CASE("batch: zero sizes and timeouts in variables warn and keep the defaults") {
  const auto r = resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", "0"},
                              {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0"},
                              {"OTEL_BSP_EXPORT_TIMEOUT", "0"},
                              {"OTEL_BSP_SCHEDULE_DELAY", "0"}});
  CHECK(r.batch.max_queue_size == 2048);
  CHECK(r.batch.max_export_batch_size == 512);
  CHECK(r.batch.export_timeout == std::chrono::milliseconds(30000));
  CHECK(r.batch.schedule_delay == std::chrono::milliseconds(0));  // 0 is a legal delay
  CHECK(r.warnings.size() == 3);
}

TEST_CASE("batch set in code replaces the variables and is validated strictly") {
  st::config cfg;
  st::batch_options b;
  b.max_queue_size = 64;
  b.max_export_batch_size = 16;
  cfg.batch = b;
  auto r = resolve(cfg, {{"OTEL_BSP_MAX_QUEUE_SIZE", "4096"}});
  CHECK(r.batch.max_queue_size == 64);
  CHECK(r.batch.max_export_batch_size == 16);

  b.max_export_batch_size = 128;
  cfg.batch = b;
  auto msg = error_of(cfg);
  CHECK(contains(msg, "max_export_batch_size = 128"));
  CHECK(contains(msg, "max_queue_size = 64"));

  b = st::batch_options{};
  b.max_queue_size = 0;
  b.max_export_batch_size = 0;
  b.export_timeout = std::chrono::milliseconds(0);
  b.schedule_delay = std::chrono::milliseconds(-1);
  cfg.batch = b;
  msg = error_of(cfg);
  CHECK(contains(msg, "4 problems"));
  CHECK(contains(msg, "batch.max_queue_size"));
  CHECK(contains(msg, "batch.max_export_batch_size"));
  CHECK(contains(msg, "batch.export_timeout"));
  CHECK(contains(msg, "batch.schedule_delay"));
}

TEST_CASE("file_path: code or streambus-traces.jsonl") {
  st::config cfg;
  CHECK(resolve(cfg).file_path == "streambus-traces.jsonl");
  cfg.file_path = "/var/log/spans.jsonl";
  CHECK(resolve(cfg).file_path == "/var/log/spans.jsonl");
}

TEST_CASE("config_error names every problem at once, each with its field and the allowed values") {
  st::config cfg;
  cfg.sampling_rate = 2.0;
  cfg.exporter = "otlp,kafka";
  cfg.sampler = "sometimes";
  cfg.propagators = "w3c";
  cfg.otlp_endpoint = "ftp://collector";
  cfg.otlp_protocol = "grpc";
  cfg.attributes[""] = "v";
  const auto msg = error_of(cfg, {{"OTEL_SDK_DISABLED", "true"}});  // the kill switch does not hide bugs
  CHECK(contains(msg, "7 problems"));
  for (const char* needle : {"sampling_rate = 2", "\"kafka\"", "\"sometimes\"", "\"w3c\"", "otlp_endpoint", "ftp",
                             "otlp_protocol", "4318", "attributes"}) {
    CAPTURE(needle);
    CHECK(contains(msg, needle));
  }
}

TEST_CASE("config_error is a std::invalid_argument") {
  st::config cfg;
  cfg.exporter = "nope";
  CHECK_THROWS_AS((void)resolve(cfg), st::config_error);
  CHECK_THROWS_AS((void)resolve(cfg), std::invalid_argument);
}

TEST_CASE("warnings quote values safely: control characters escaped, long values cut") {
  const auto r = resolve_env({{"OTEL_BSP_MAX_QUEUE_SIZE", "12\n[fake] log line"},
                              {"OTEL_BSP_SCHEDULE_DELAY", std::string(5000, '9') + "x"}});
  const auto w = warning_with(r, "OTEL_BSP_MAX_QUEUE_SIZE");
  CHECK(contains(w, "\\x0a"));
  CHECK(w.find('\n') == std::string::npos);
  const auto d = warning_with(r, "OTEL_BSP_SCHEDULE_DELAY");
  CHECK(contains(d, "..."));
  CHECK(d.size() < 400);
}

TEST_CASE("the seed's example configs resolve without errors") {
  st::config jaeger;
  jaeger.service_name = "streambus-broker";
  jaeger.service_version = "1.0.0";
  jaeger.environment = "production";
  jaeger.exporter = "jaeger";
  jaeger.jaeger_endpoint = "http://localhost:14268/api/traces";
  jaeger.sampling_rate = 1.0;
  auto r = resolve(jaeger);
  CHECK(r.exporters == std::vector<std::string>{"jaeger"});
  CHECK(r.sampler.kind() == st::sampler_kind::parent_based_trace_id_ratio);
  CHECK(r.sampler.ratio() == 1.0);
  CHECK(r.service_name == "streambus-broker");
  CHECK(r.warnings.empty());

  st::config otlp;
  otlp.service_name = "streambus-broker";
  otlp.exporter = "otlp";
  otlp.otlp_endpoint = "localhost:4317";
  otlp.sampling_rate = 0.1;
  r = resolve(otlp);
  CHECK(r.otlp.endpoint == "http://localhost:4318/v1/traces");
  CHECK(r.sampler.ratio() == 0.1);
  CHECK(r.warnings.size() == 1);
}

TEST_CASE("configuration mistakes an operator would otherwise find late are warned about at startup") {
  // A CA file that cannot be read: said now, not as SSLLoadingCerts at every export.
  auto r = resolve_env({{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"}});
  CHECK(contains(warning_with(r, "/nonexistent/ca.pem"), "cannot be read"));
  CHECK(r.otlp.certificate == "/nonexistent/ca.pem");  // kept: exports fail visibly, not silently insecure
  st::config cfg;
  cfg.otlp_certificate = "/nonexistent/code-ca.pem";
  CHECK(contains(warning_with(resolve(cfg), "/nonexistent/code-ca.pem"), "cannot be read"));
  // Not when verification is off: the file is never read then.
  cfg = st::config{};
  cfg.otlp_insecure = true;
  CHECK(warning_with(resolve(cfg, {{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"}}), "/nonexistent/ca.pem")
            .empty());

  // Jaeger and Zipkin endpoints without a path are used as given, with a word.
  r = resolve_env({{"OTEL_EXPORTER_JAEGER_ENDPOINT", "http://jaeger:14268"},
                   {"OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://zipkin:9411/"}});
  CHECK(r.jaeger_endpoint == "http://jaeger:14268");
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_JAEGER_ENDPOINT"), "/api/traces"));
  CHECK(contains(warning_with(r, "OTEL_EXPORTER_ZIPKIN_ENDPOINT"), "/api/v2/spans"));
  st::config jaeger;
  jaeger.jaeger_endpoint = "localhost:14268";
  CHECK(contains(warning_with(resolve(jaeger), "jaeger_endpoint"), "no path"));
  // With their paths: no warning.
  r = resolve_env({{"OTEL_EXPORTER_JAEGER_ENDPOINT", "http://jaeger:14268/api/traces"},
                   {"OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://zipkin:9411/api/v2/spans"}});
  CHECK(r.warnings.empty());

  // A blank OTEL_SERVICE_NAME is unset, not a blank service.
  r = resolve_env({{"OTEL_SERVICE_NAME", "   "}});
  CHECK(r.service_name == default_service_name());
  CHECK(contains(warning_with(r, "OTEL_SERVICE_NAME"), "blank"));
}

TEST_CASE("a variable that a field set in code overrides is named in one warning, unless both say the same") {
  st::config cfg;
  cfg.sampling_rate = 1.0;
  cfg.exporter = "console";
  cfg.service_name = "orders";
  cfg.batch.emplace().max_queue_size = 4096;
  auto r = resolve(cfg, {{"OTEL_TRACES_SAMPLER", "always_off"},
                         {"OTEL_TRACES_SAMPLER_ARG", "0.0"},
                         {"OTEL_TRACES_EXPORTER", "console"},  // the same: not said
                         {"OTEL_SERVICE_NAME", " orders "},     // the same, trimmed: not said
                         {"OTEL_BSP_MAX_QUEUE_SIZE", "8"}});
  CHECK(r.sampler.kind() == st::sampler_kind::parent_based_trace_id_ratio);
  CHECK(r.sampler.ratio() == 1.0);
  CHECK(r.batch.max_queue_size == 4096);
  REQUIRE(r.warnings.size() == 1);
  const std::string& w = r.warnings.front();
  CHECK(contains(w, "OTEL_TRACES_SAMPLER=\"always_off\" by sampling_rate"));
  CHECK(contains(w, "OTEL_TRACES_SAMPLER_ARG=\"0.0\" by sampling_rate"));
  CHECK(contains(w, "OTEL_BSP_MAX_QUEUE_SIZE=\"8\" by batch"));
  CHECK_FALSE(contains(w, "OTEL_TRACES_EXPORTER"));
  CHECK_FALSE(contains(w, "OTEL_SERVICE_NAME"));
  cfg = st::config{};
  cfg.sampler = " TraceIdRatio ";
  CHECK(resolve(cfg, {{"OTEL_TRACES_SAMPLER", "traceidratio"}}).warnings.empty());  // a name, in any case

  // Nothing set in code: the variables apply and nothing is said.
  r = resolve_env({{"OTEL_TRACES_SAMPLER", "always_off"}, {"OTEL_BSP_MAX_QUEUE_SIZE", "8"}});
  CHECK(r.warnings.empty());
  CHECK(r.batch.max_queue_size == 8);

  // An endpoint's credentials stay out of the warning, as in every other one.
  cfg = st::config{};
  cfg.otlp_endpoint = "http://collector:4318/v1/traces";
  r = resolve(cfg, {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:secret@other:4318"}});
  REQUIRE(r.warnings.size() == 1);
  CHECK(contains(r.warnings.front(), "OTEL_EXPORTER_OTLP_ENDPOINT"));
  CHECK_FALSE(contains(r.warnings.front(), "secret"));
}

TEST_CASE("an endpoint whose user information has a bad percent-escape: a warning from a variable, an error from code") {
  for (const char* var : {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                          "OTEL_EXPORTER_ZIPKIN_ENDPOINT", "OTEL_EXPORTER_JAEGER_ENDPOINT"}) {
    for (const char* url : {"http://us%zz@127.0.0.1:9/p", "http://a%zz:b@127.0.0.1:9/p", "http://a:b%4@127.0.0.1:9/p"}) {
      CAPTURE(var);
      CAPTURE(url);
      const auto r = resolve_env({{var, url}});
      CHECK(contains(warning_with(r, var), "malformed percent-escape"));
      CHECK(r.otlp.endpoint == "http://localhost:4318/v1/traces");
      CHECK(r.zipkin_endpoint == "http://localhost:9411/api/v2/spans");
      CHECK(r.jaeger_endpoint == "http://localhost:14268/api/traces");
    }
  }
  st::config cfg;
  cfg.otlp_endpoint = "http://us%zz@127.0.0.1:4318/v1/traces";
  CHECK(contains(error_of(cfg), "malformed percent-escape"));
  // Well-formed escapes pass (the exporter decodes them for basic authentication).
  const auto ok = resolve_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://us%40er:p%3Ass@127.0.0.1:9/v1/traces"}});
  CHECK(ok.warnings.empty());
  CHECK(ok.otlp.endpoint == "http://us%40er:p%3Ass@127.0.0.1:9/v1/traces");
}

}  // TEST_SUITE
