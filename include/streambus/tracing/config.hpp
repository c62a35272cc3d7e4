// The tracer's configuration: the seed's Config as a plain struct, plus the
// OpenTelemetry environment variables (OTEL_*), resolved with one documented
// precedence (resolve_config() in detail/config_resolve.hpp implements it):
//
//   1. OTEL_SDK_DISABLED=true wins over everything (an operator's kill switch);
//      config::enabled = false disables too.
//   2. A field set in code wins over its environment variable.
//   3. The environment variable fills a field left unset in code.
//   4. The OpenTelemetry default applies last.
//
// "Unset" is an empty string, an empty std::optional or an empty map.
// read_environment = false ignores every OTEL_* variable.
//
// Invalid values set in code raise config_error naming every problem at once,
// even when tracing is disabled (a bug in code stays a bug). Unparseable or
// out-of-range environment values produce a warning (in
// resolved_config::warnings, then the diagnostics) and fall back to the
// default, as the OpenTelemetry specification requires. One deliberate
// deviation: OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL=grpc raises config_error
// while tracing is enabled with the otlp exporter compiled in, because
// streambus speaks only OTLP/HTTP and sending HTTP to a gRPC port would lose
// every span (without the HTTP transport it is a warning: nothing is sent).
//
// Details that the rule above leaves open:
//   - service.name: service_name > OTEL_SERVICE_NAME > service.name in
//     OTEL_RESOURCE_ATTRIBUTES > attributes["service.name"] >
//     "unknown_service:" + the executable's name (semantic conventions).
//     service.version and deployment.environment.name follow the same order
//     (their field, OTEL_RESOURCE_ATTRIBUTES, then attributes[...]).
//   - Other resource attributes: OTEL_RESOURCE_ATTRIBUTES merged with
//     `attributes`, code winning per key. OTLP headers likewise:
//     OTEL_EXPORTER_OTLP_TRACES_HEADERS (else OTEL_EXPORTER_OTLP_HEADERS)
//     merged with otlp_headers, code winning per key.
//   - sampling_rate alone means parentbased_traceidratio(rate), the seed's
//     meaning; with `sampler` set it is that sampler's ratio argument.
//   - otlp_endpoint from code is forgiving, for the seed's "localhost:4317":
//     no scheme -> http://, port 4317 (gRPC) -> 4318 with a warning, no path ->
//     /v1/traces. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is;
//     OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended.
//   - `limits` and `batch`, when set, replace all of their variables at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "limits.hpp"
#include "sampler.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

class span_exporter;

/// Thrown by tracer::create() and config validation, naming every problem found.
class config_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Batch export settings (OTEL_BSP_*), used by the export pipeline.
struct batch_options {
  std::chrono::milliseconds schedule_delay{5000};   // OTEL_BSP_SCHEDULE_DELAY
  std::chrono::milliseconds export_timeout{30000};  // OTEL_BSP_EXPORT_TIMEOUT
  std::size_t max_queue_size = 2048;                // OTEL_BSP_MAX_QUEUE_SIZE; per tracing thread
  /// The largest max_queue_size accepted: each tracing thread's queue
  /// reserves 144 bytes of address space per span it may hold (its byte
  /// ring's 128 and its return ring's 16).
  static constexpr std::size_t max_queue_size_limit = std::size_t{1} << 24;
  std::size_t max_export_batch_size = 512;          // OTEL_BSP_MAX_EXPORT_BATCH_SIZE (<= queue size)
};

/// The seed's Config, field for field, plus what a production tracer needs.
struct config {
  // --- the seed's fields ---------------------------------------------------
  bool enabled = true;                        // Enabled
  std::string service_name;                   // ServiceName      (OTEL_SERVICE_NAME)
  std::string service_version;                // ServiceVersion   -> service.version
  std::string environment;                    // Environment      -> deployment.environment.name
  std::string exporter;                       // Exporter: otlp | jaeger | zipkin | console | file | memory | none;
                                              //           comma list = several (OTEL_TRACES_EXPORTER)
  std::string jaeger_endpoint;                // JaegerEndpoint   (OTEL_EXPORTER_JAEGER_ENDPOINT)
  std::string otlp_endpoint;                  // OTLPEndpoint     (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT)
  std::optional<double> sampling_rate;        // SamplingRate 0..1 -> parentbased_traceidratio
  std::map<std::string, std::string> attributes;  // Attributes -> resource (OTEL_RESOURCE_ATTRIBUTES)

  // --- beyond the seed -------------------------------------------------------
  /// OTEL_TRACES_SAMPLER name (always_on, always_off, traceidratio,
  /// parentbased_always_on, parentbased_always_off, parentbased_traceidratio).
  /// When set it wins over sampling_rate's implied sampler; sampling_rate is its argument.
  std::string sampler;
  /// OTEL_PROPAGATORS: tracecontext, baggage, b3, b3multi, jaeger, none (comma list).
  std::string propagators;
  std::optional<span_limits> limits;
  /// Where the "file" exporter writes (OTLP JSON lines). Empty: streambus-traces.jsonl.
  std::string file_path;
  /// Zipkin v2 JSON endpoint (OTEL_EXPORTER_ZIPKIN_ENDPOINT).
  std::string zipkin_endpoint;
  /// Batch export settings; when set, the OTEL_BSP_* variables are ignored.
  std::optional<batch_options> batch;
  /// The HTTP methods the HTTP helpers report as they are, a comma list
  /// replacing the default (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS,
  /// TRACE, PATCH); any other is reported as _OTHER
  /// (OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS). Case-sensitive.
  std::string http_known_methods;

  // --- OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_[TRACES_]*) ---------------------
  std::string otlp_protocol;                        // http/protobuf (default) | http/json; grpc is an error
  std::map<std::string, std::string> otlp_headers;  // merged over the variables', code wins per key
  std::optional<std::chrono::milliseconds> otlp_timeout;  // per export request, > 0
  std::string otlp_compression;                     // none | gzip
  std::string otlp_certificate;                     // CA file (PEM) to verify an https collector
  std::string otlp_client_certificate;              // mTLS: this client's certificate (PEM)...
  std::string otlp_client_key;                      // ...and its private key (PEM); both or neither
  std::optional<bool> otlp_insecure;                // skip TLS verification (code only: not the variable)

  /// Extra exporters, e.g. an in_memory_exporter in tests. Used in addition to `exporter`.
  std::vector<std::shared_ptr<span_exporter>> exporters;
  /// Receives warnings and errors from the library (config fallbacks, export
  /// failures). Default: a rate-limited line on stderr.
  std::function<void(std::string_view message)> on_diagnostic;
  /// Read OTEL_* variables at all (tests turn this off for isolation).
  bool read_environment = true;
};

/// OTLP/HTTP exporter settings (OTEL_EXPORTER_OTLP_*).
struct otlp_options {
  std::string endpoint = "http://localhost:4318/v1/traces";  // full URL, /v1/traces included
  std::string protocol = "http/protobuf";                    // or http/json
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{10000};
  std::string compression = "none";                          // or gzip
  std::string certificate;                                   // CA file for HTTPS
  std::string client_certificate;                            // mTLS client certificate (PEM), with client_key
  std::string client_key;                                    // its private key (PEM)
  bool insecure = false;                                     // skip TLS verification only when asked
};

/// Everything the tracer needs, after precedence and defaults were applied.
struct resolved_config {
  bool enabled = true;
  std::string service_name = "unknown_service";
  std::string service_version;
  std::string environment;
  /// Resource attributes other than service.name / service.version /
  /// deployment.environment.name (those live in the fields above).
  std::map<std::string, std::string> resource_attributes;
  std::vector<std::string> exporters;       // normalized names; empty = export nothing
  bool exporters_defaulted = false;         // true: nobody chose; the OpenTelemetry default "otlp" applied
  bool exporters_from_environment = false;  // true: OTEL_TRACES_EXPORTER chose them (not the code)
  std::string jaeger_endpoint = "http://localhost:14268/api/traces";
  std::string zipkin_endpoint = "http://localhost:9411/api/v2/spans";
  std::string file_path = "streambus-traces.jsonl";
  otlp_options otlp;
  streambus::tracing::sampler sampler;      // default parentbased_always_on
  std::vector<std::string> propagators{"tracecontext", "baggage"};
  span_limits limits;
  batch_options batch;
  std::vector<std::string> http_known_methods{"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                              "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  /// Problems found in environment variables (each already says what was ignored).
  std::vector<std::string> warnings;
};

/// Reads one environment variable; empty optional when unset.
using env_reader = std::function<std::optional<std::string>(std::string_view name)>;

STREAMBUS_TRACING_END_NAMESPACE
