// The compiled-out API (STREAMBUS_TRACING_DISABLED): the same types and calls
// as tracer.hpp, as empty inline functions. No threads, no statics, no export
// pipeline; the optimiser removes every call. (The data layer — span_data,
// exporters, encoders, resolve_config — is not compiled out: see tracing.hpp.)
// Arguments you pass are still evaluated (they are ordinary function
// arguments), so keep expensive computations inside
// `if (span.is_recording())` when that matters.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "attributes.hpp"
#include "baggage.hpp"
#include "config.hpp"
#include "context.hpp"
#include "detail/op_outcome.hpp"
#include "exporter.hpp"
#include "span_kind.hpp"
#include "span_options.hpp"
#include "stats.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

struct retry_backoff;  // instrumentation.hpp

class span {
 public:
  span() noexcept = default;
  span(span&&) noexcept = default;
  span& operator=(span&&) noexcept = default;
  span(const span&) = delete;
  span& operator=(const span&) = delete;
  // User-provided on purpose: `auto span = tracer.start(...)` must not trigger
  // unused-variable warnings when tracing is compiled out.
  ~span() {}  // NOLINT(modernize-use-equals-default)

  span_context context() const noexcept { return {}; }
  bool is_recording() const noexcept { return false; }
  template <class T>
  span& set_attribute(std::string_view, const T&) noexcept {
    detail::check_attribute_input<T>();
    return *this;
  }
  span& set_attributes(attribute_init) noexcept { return *this; }
  span& add_event(std::string_view, attribute_init = {}) noexcept { return *this; }
  span& add_event(std::string_view, std::chrono::system_clock::time_point, attribute_init = {}) noexcept { return *this; }
  template <class Duration>
  span& add_event(std::string_view, std::chrono::time_point<std::chrono::system_clock, Duration>, attribute_init = {}) noexcept {
    return *this;
  }
  span& add_link(const span_context&, attribute_init = {}) noexcept { return *this; }
  span& set_status(status_code, std::string_view = {}) noexcept { return *this; }
  span& set_name(std::string_view) noexcept { return *this; }
  span& record_error(const std::exception&, attribute_init = {}) noexcept { return *this; }
  span& record_error(const std::error_code&, attribute_init = {}) noexcept { return *this; }
  template <class ErrorCode, std::enable_if_t<detail::is_error_code_v<ErrorCode> &&
                                                  !std::is_same_v<ErrorCode, std::error_code>, int> = 0>
  span& record_error(const ErrorCode&, attribute_init = {}) noexcept {
    return *this;
  }
  span& record_error(std::string_view, attribute_init = {}) noexcept { return *this; }
  template <class C, std::enable_if_t<detail::is_c_string_v<C>, int> = 0>
  span& record_error(C, attribute_init = {}) noexcept {
    return *this;
  }
  void end() noexcept {}
  void end(std::chrono::system_clock::time_point) noexcept {}
  template <class Duration>
  void end(std::chrono::time_point<std::chrono::system_clock, Duration>) noexcept {}
};

class tracer {
 public:
  tracer() noexcept = default;
  tracer(tracer&&) noexcept = default;
  tracer& operator=(tracer&&) noexcept = default;
  // User-provided for the same reason as span's: no unused-variable warnings.
  ~tracer() {}  // NOLINT(modernize-use-equals-default)
  static tracer create(const config& = {}) noexcept { return tracer(); }
  static tracer create(const config&, const env_reader&) noexcept { return tracer(); }

  bool is_enabled() const noexcept { return false; }
  span start(std::string_view, span_kind = span_kind::internal) noexcept { return span(); }
  span start(std::string_view, const span_context&, span_kind = span_kind::internal) noexcept { return span(); }
  span start(std::string_view, const span_options&) noexcept { return span(); }

  span_context current_context() const noexcept { return {}; }
  template <class T>
  void set_attribute(std::string_view, const T&) noexcept {
    detail::check_attribute_input<T>();
  }
  void set_attributes(attribute_init) noexcept {}
  void add_event(std::string_view, attribute_init = {}) noexcept {}
  void record_error(const std::exception&, attribute_init = {}) noexcept {}
  void record_error(std::string_view, attribute_init = {}) noexcept {}
  template <class C, std::enable_if_t<detail::is_c_string_v<C>, int> = 0>
  void record_error(C, attribute_init = {}) noexcept {}
  void set_status(status_code, std::string_view = {}) noexcept {}

  template <class Carrier>
  void inject(Carrier&) const noexcept {}
  template <class Carrier>
  void inject(const span_context&, Carrier&) const noexcept {}
  template <class Carrier>
  void inject(const span_context&, const baggage&, Carrier&) const noexcept {}
  template <class Carrier>
  span_context extract(const Carrier&) const noexcept {
    return {};
  }
  template <class Carrier>
  std::pair<span_context, baggage> extract_with_baggage(const Carrier&) const noexcept {
    return {};
  }
  void inject_trace_context(std::map<std::string, std::string>&) const noexcept {}
  span_context extract_trace_context(const std::map<std::string, std::string>&) const noexcept { return {}; }

  // --- instrumentation helpers (defined in instrumentation.hpp) ---------------
  template <class F>
  decltype(auto) instrumented_operation(std::string_view name, F&& fn);
  template <class F>
  decltype(auto) trace_with_retry(std::string_view name, int max_attempts, F&& fn);
  template <class F>
  decltype(auto) trace_with_retry(std::string_view name, int max_attempts, F&& fn, const retry_backoff& backoff);
  template <int = 0>
  inline span trace_produce_message(std::string_view topic, std::int32_t partition, std::string_view key,
                                    std::string_view value);
  template <class Headers>
  span trace_produce_message(std::string_view topic, std::int32_t partition, std::string_view key,
                             std::string_view value, Headers& headers);
  template <class Headers>
  span trace_consume_message(std::string_view topic, std::int32_t partition, std::int64_t offset,
                             const Headers& headers);
  template <int = 0>
  inline span trace_consume_message(std::string_view topic, std::int32_t partition, std::int64_t offset);


  bool force_flush(std::chrono::milliseconds = std::chrono::seconds(5)) noexcept { return true; }
  bool shutdown(std::chrono::milliseconds = std::chrono::seconds(5)) noexcept { return true; }
  tracer_stats stats() const noexcept { return {}; }
  const resolved_config* settings() const noexcept { return nullptr; }
  // As for a runtime-disabled tracer: there is no memory exporter to read.
  std::shared_ptr<in_memory_exporter> memory_exporter() const noexcept { return nullptr; }
};

STREAMBUS_TRACING_END_NAMESPACE
