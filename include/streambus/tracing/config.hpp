// The tracer's configuration: the seed's Config as a plain struct, plus the
// OpenTelemetry environment variables (OTEL_*), resolved with one documented
// precedence:
//
//   1. OTEL_SDK_DISABLED=true wins over everything (an operator's kill switch).
//   2. A field set in code wins over its environment variable.
//   3. The environment variable fills a field left unset in code.
//   4. The OpenTelemetry default applies last.
//
// "Unset" is an empty string, an empty std::optional or an empty map.
// Invalid values set in code raise config_error; unparseable environment
// values produce a warning through the diagnostics and fall back to the default,
// as the OpenTelemetry specification requires.
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
  /// Extra exporters, e.g. an in_memory_exporter in tests. Used in addition to `exporter`.
  std::vector<std::shared_ptr<span_exporter>> exporters;
  /// Receives warnings and errors from the library (config fallbacks, export
  /// failures). Default: a rate-limited line on stderr.
  std::function<void(std::string_view message)> on_diagnostic;
  /// Read OTEL_* variables at all (tests turn this off for isolation).
  bool read_environment = true;
};

/// Batch export settings (OTEL_BSP_*), used by the export pipeline.
struct batch_options {
  std::chrono::milliseconds schedule_delay{5000};   // OTEL_BSP_SCHEDULE_DELAY
  std::chrono::milliseconds export_timeout{30000};  // OTEL_BSP_EXPORT_TIMEOUT
  std::size_t max_queue_size = 2048;                // OTEL_BSP_MAX_QUEUE_SIZE
  std::size_t max_export_batch_size = 512;          // OTEL_BSP_MAX_EXPORT_BATCH_SIZE (<= queue size)
};

/// OTLP/HTTP exporter settings (OTEL_EXPORTER_OTLP_*).
struct otlp_options {
  std::string endpoint = "http://localhost:4318/v1/traces";  // full URL, /v1/traces included
  std::string protocol = "http/protobuf";                    // or http/json
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{10000};
  std::string compression = "none";                          // or gzip
  std::string certificate;                                   // CA file for HTTPS
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
  std::string jaeger_endpoint = "http://localhost:14268/api/traces";
  std::string zipkin_endpoint = "http://localhost:9411/api/v2/spans";
  std::string file_path = "streambus-traces.jsonl";
  otlp_options otlp;
  streambus::tracing::sampler sampler;      // default parentbased_always_on
  std::vector<std::string> propagators{"tracecontext", "baggage"};
  span_limits limits;
  batch_options batch;
  /// Problems found in environment variables (each already says what was ignored).
  std::vector<std::string> warnings;
};

/// Reads one environment variable; empty optional when unset.
using env_reader = std::function<std::optional<std::string>(std::string_view name)>;

STREAMBUS_TRACING_END_NAMESPACE
