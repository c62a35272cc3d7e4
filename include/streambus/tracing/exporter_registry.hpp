// Exporters chosen by name (config.exporter / OTEL_TRACES_EXPORTER).
//
// Built-in names (console, memory, file, none) need nothing but the standard
// library. Transports with dependencies (the OTLP/HTTP exporter needs
// cpp-httplib) live in opt-in headers that register their names here when
// included in any translation unit, so the core never includes them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>

#include "config.hpp"
#include "exporter.hpp"
#include "detail/keep_loaded.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// What a factory gets to build an exporter.
struct exporter_environment {
  const resolved_config& settings;
  /// Reports a warning or error through the tracer's diagnostics (rate-limited).
  std::function<void(std::string_view)> diagnostic;
  /// Incremented once per retried export request (shown in tracer::stats()).
  std::atomic<std::uint64_t>* retries = nullptr;
};

using exporter_factory = std::function<std::shared_ptr<span_exporter>(const exporter_environment&)>;

namespace detail {

struct exporter_registry {
  std::mutex mutex;
  std::map<std::string, exporter_factory, std::less<>> factories;
};

// A function-local static in an inline function: one registry per program,
// also across shared libraries built with -fvisibility=hidden. Never
// destroyed: a destructor would be queued by whichever library made it first,
// and run when that library is unloaded.
STREAMBUS_TRACING_PROCESS_WIDE inline exporter_registry& registry() {
  alignas(exporter_registry) static unsigned char storage[sizeof(exporter_registry)];
  static exporter_registry* const r = ::new (static_cast<void*>(storage)) exporter_registry;
  return *r;
}

}  // namespace detail

/// Makes `name` available to config.exporter / OTEL_TRACES_EXPORTER. A later
/// registration of the same name replaces the earlier one. The shared library
/// making the call (`code_owner`: leave the default, which names the caller's)
/// is kept loaded from then on: the factory's code is in it.
template <int = 0>
inline bool register_exporter(std::string name, exporter_factory factory,
                              detail::library_pin& code_owner = detail::this_library) {
  detail::keep_library_loaded(code_owner);
  auto& r = detail::registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.factories[std::move(name)] = std::move(factory);
  return true;
}

/// The factory registered for name, or an empty function.
template <int = 0>
inline exporter_factory find_exporter_factory(std::string_view name) {
  auto& r = detail::registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const auto it = r.factories.find(name);
  return it == r.factories.end() ? exporter_factory{} : it->second;
}

STREAMBUS_TRACING_END_NAMESPACE
