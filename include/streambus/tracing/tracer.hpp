// The tracer and its RAII span.
//
//   auto tracer = streambus::tracing::tracer::create(cfg);   // throws config_error
//   {
//     auto span = tracer.start("producer.send");             // child of the current span
//     span.set_attribute("messaging.destination.name", topic);
//   }                                                         // ends here
//
// Hot path (what start()/end() cost): one thread-local lookup, three PRNG
// draws for a root span (one for a child), a monotonic clock read at start
// and at end, and for sampled spans a recycled record from a per-thread pool.
// No locks on start; no allocation in steady state unless a span's strings
// outgrow the recycled buffers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <typeinfo>
#include <utility>
#include <vector>

#if defined(__GNUG__)
#include <cxxabi.h>
#include <cstdlib>
#endif

#include "attributes.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "console_exporter.hpp"
#include "context.hpp"
#include "detail/config_resolve.hpp"
#include "detail/context_stack.hpp"
#include "detail/diagnostics.hpp"
#include "detail/op_outcome.hpp"
#include "detail/random.hpp"
#include "detail/record_pool.hpp"
#include "detail/batch_processor.hpp"
#include "detail/span_processor.hpp"
#include "detail/thread_counters.hpp"
#include "exporter.hpp"
#include "exporter_registry.hpp"
#include "file_exporter.hpp"
#include "ids.hpp"
#include "baggage.hpp"
#include "propagation.hpp"
#include "propagators.hpp"
#include "sampler.hpp"
#include "span_data.hpp"
#include "span_options.hpp"
#include "stats.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

struct retry_backoff;  // instrumentation.hpp
namespace light {
struct span_access;  // light_impl.hpp
}

class tracer;
class span;

namespace detail {

class tracer_state;

// An invalid context: the parent of a root span, and the current context of a
// thread without a current span.
STREAMBUS_TRACING_PROCESS_WIDE inline const span_context no_context{};

inline std::string demangle(const char* name) {
#if defined(__GNUG__)
  int status = 0;
  // Owned from here: the string's allocation may throw.
  const std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  if (status == 0 && out != nullptr) return std::string(out.get());
#endif
  return name;
}

// The exception.type of an error code passed to record_error, on the inline
// span and the light one alike: "std::error_code:<category>:<value>".
inline std::string error_code_exception_type(std::string_view category, int value) {
  std::string type = "std::error_code:";
  type.append(category).append(1, ':').append(std::to_string(value));
  return type;
}

// exception.type for record_error(e): e's dynamic type (typeid). Without
// RTTI (-fno-rtti) it cannot be found from e: "std::exception" (the library's
// own catch blocks name the type being handled instead). Nor for a class
// compiled with -fno-rtti in a program that mixes the two: its vtable has no
// type information (a null slot in the Itanium C++ ABI, which typeid would
// read through). The parameter keeps the two variants apart at link time.
template <int Rtti = STREAMBUS_TRACING_HAS_RTTI>
inline std::string dynamic_type_name(const std::exception& e) {
  static_assert(Rtti == STREAMBUS_TRACING_HAS_RTTI, "use the default argument");
#if STREAMBUS_TRACING_HAS_RTTI
#if defined(__GXX_ABI_VERSION)
  const void* const* vtable;  // the object's first word (memcpy: no type-punned read)
  std::memcpy(&vtable, static_cast<const void*>(&e), sizeof vtable);
  if (vtable[-1] == nullptr) return "std::exception";
#endif
  return demangle(typeid(e).name());
#else
  static_cast<void>(e);
  return "std::exception";
#endif
}

// Shared implementation of the recording calls, used by span and by the
// tracer's "current span" calls. All of them are no-ops on a null record.
struct recorder {
  template <class T>
  static void set_attribute(span_data* r, const span_limits& l, std::string_view key, const T& value) noexcept {
    if (r == nullptr) return;
    try {
      r->attributes.set(key, value, l.attribute_count, l.attribute_value_length);
    } catch (...) {
      r->attributes.add_dropped(1);
    }
  }

  template <int = 0>  // compiled where used (attribute lists)
  static void set_attributes(span_data* r, const span_limits& l, attribute_init attrs) noexcept {
    for (const auto& kv : attrs) set_attribute(r, l, kv.first, kv.second);
  }

  // `extra` follows `attrs` in the same event (record_exception's caller attributes).
  template <int = 0>  // compiled where used (attribute lists)
  static void add_event(span_data* r, const span_limits& l, std::string_view name, attribute_init attrs,
                        attribute_init extra = {}, std::uint64_t given_time = 0) noexcept {
    add_event_with(
        r, l, name,
        [&](attribute_list& out) {
          for (const auto& kv : attrs) out.set(kv.first, kv.second, l.attributes_per_event, l.attribute_value_length);
          for (const auto& kv : extra) out.set(kv.first, kv.second, l.attributes_per_event, l.attribute_value_length);
        },
        given_time);
  }
  // The same with the attributes written by fill(attribute_list&) (the light
  // API's events, which are not an attribute_init). `given_time`: epoch
  // nanoseconds the caller gave (detail::unix_nano_of); 0: now.
  template <class Fill>
  static void add_event_with(span_data* r, const span_limits& l, std::string_view name, Fill&& fill,
                             std::uint64_t given_time = 0) noexcept {
    if (r == nullptr) return;
    if (r->events.size() >= l.event_count) {
      ++r->dropped_events;
      return;
    }
    try {
      span_event& e = r->events.next_slot();
      detail::assign_chars(e.name, name);
      // Raw, as the span's start: settle_times converts both with one mapping.
      e.time_given = given_time != 0;
      e.time_unix_nano = e.time_given ? given_time : r->time_form != 0 ? span_clock_ticks() : unix_now_ns();
      e.attributes.clear();
      fill(e.attributes);
    } catch (...) {
      r->events.pop_back();
      ++r->dropped_events;
    }
  }

  template <int = 0>  // compiled where used (attribute lists)
  static void add_link(span_data* r, const span_limits& l, const span_context& ctx, attribute_init attrs) noexcept {
    if (r == nullptr || !ctx.valid()) return;
    if (r->links.size() >= l.link_count) {
      ++r->dropped_links;
      return;
    }
    try {
      span_link& link = r->links.next_slot();
      link.context = ctx;
      link.attributes.clear();
      for (const auto& kv : attrs) link.attributes.set(kv.first, kv.second, l.attributes_per_link, l.attribute_value_length);
    } catch (...) {
      r->links.pop_back();
      ++r->dropped_links;
    }
  }

  // OpenTelemetry status rules: Ok is final, Unset never overrides, a
  // description is kept only with Error. The description is bounded by the
  // attribute value length limit, as the exception.message it often repeats.
  static void set_status(span_data* r, status_code code, std::string_view description,
                         std::size_t length_limit) noexcept {
    if (r == nullptr || code == status_code::unset || r->status == status_code::ok) return;
    r->status = code;
    try {
      if (code == status_code::error) {
        detail::assign_chars(r->status_message, description);
        if (r->status_message.size() > length_limit) detail::truncate_utf8(r->status_message, length_limit);
      } else {
        r->status_message.clear();
      }
    } catch (...) {
    }
  }

  template <int = 0>  // compiled where used (attribute lists)
  static void record_exception(span_data* r, const span_limits& l, std::string_view type, std::string_view message,
                               attribute_init extra) noexcept {
    if (r == nullptr) return;
    // Written in place: an attribute_init would copy type and message into
    // attribute_values first, which may throw bad_alloc out of this noexcept.
    add_event_with(r, l, "exception", [&](attribute_list& out) {
      // No type for a bare message: the conventions want the exception's
      // class name there, and exception.message alone is enough.
      if (!type.empty()) out.set("exception.type", type, l.attributes_per_event, l.attribute_value_length);
      out.set("exception.message", message, l.attributes_per_event, l.attribute_value_length);
      for (const auto& kv : extra) out.set(kv.first, kv.second, l.attributes_per_event, l.attribute_value_length);
    });
    set_status(r, status_code::error, message, l.attribute_value_length);
  }
};

class tracer_state;

// The live tracers, for fork(): a child process has none of the parent's
// export threads, and shares its collector connections. Built in static
// storage and never destroyed (no allocation that could fail; a tracer
// destroyed during static destruction still finds it).
struct live_tracer_list {
  std::mutex mutex;
  tracer_state* head = nullptr;
};
STREAMBUS_TRACING_PROCESS_WIDE inline live_tracer_list& live_tracers() noexcept {
  alignas(live_tracer_list) static unsigned char storage[sizeof(live_tracer_list)];
  static live_tracer_list* const list = ::new (static_cast<void*>(storage)) live_tracer_list;
  return *list;
}
STREAMBUS_TRACING_PROCESS_WIDE inline void register_tracer_fork_handlers() noexcept;  // below tracer_state

/// Everything one tracer owns. Spans point at it: tracer::release_state keeps
/// it alive while sampled spans it started are still open.
class tracer_state {
 public:
  // The cold members (construction: exporters, resource, pipeline) are
  // templates that are only ever used with their default argument, so that a
  // translation unit that does not create a tracer does not compile them.
  template <int = 0>
  tracer_state(resolved_config cfg, std::vector<std::shared_ptr<span_exporter>> extra_exporters,
               std::function<void(std::string_view)> on_diagnostic)
      : settings_(std::move(cfg)),
        propagation_(parse_propagators(settings_.propagators)),
        diagnostics_(std::make_shared<detail::diagnostics>(std::move(on_diagnostic))) {
    // Set here, in a template, so that only a translation unit that creates a
    // tracer compiles the copy of a whole record (attributes, events, links).
    copy_record_ = [](span_data& to, const span_data& from) { to = from; };
    (void)wall_offset_ns();  // calibrate the span clock now, not on the first span
    build_resource();
    for (const auto& w : settings_.warnings) diagnostics_->report(w, /*limited=*/false);
    std::vector<std::shared_ptr<span_exporter>> sync, batched;
    const auto add = [&](std::shared_ptr<span_exporter> e) {
      if (e) (e->synchronous() ? sync : batched).push_back(std::move(e));
    };
    for (auto& e : extra_exporters) add(std::move(e));
    for (const auto& name : settings_.exporters) add(make_exporter(name));
    if (!sync.empty()) sync_ = std::make_unique<sync_delivery>(std::move(sync), resource_, scope_, diagnostics_);
    if (!batched.empty())
      batch_ = std::make_unique<batch_processor>(std::move(batched), resource_, scope_, diagnostics_, settings_.batch,
                                                 retries_);
    register_live();
  }

  // Last in the constructor: a constructor that throws leaves nothing registered.
  void register_live() noexcept {
    register_tracer_fork_handlers();
    live_tracer_list& live = live_tracers();
    std::lock_guard<std::mutex> lock(live.mutex);
    next_live_ = live.head;
    if (next_live_ != nullptr) next_live_->prev_live_ = this;
    live.head = this;
  }

  ~tracer_state() {
    // Never reached in a forked child: tracer::release_state keeps those.
    {
      live_tracer_list& live = live_tracers();
      std::lock_guard<std::mutex> lock(live.mutex);
      if (prev_live_ != nullptr) prev_live_->next_live_ = next_live_;
      else live.head = next_live_;
      if (next_live_ != nullptr) next_live_->prev_live_ = prev_live_;
    }
  }

  tracer_state(const tracer_state&) = delete;
  tracer_state& operator=(const tracer_state&) = delete;

  // pthread_atfork, with live_tracers() locked. The locks a forked child may
  // still take (a diagnostic, a thread's first span count) are held across
  // the fork, so the child never inherits one locked by a thread it lacks.
  void lock_for_fork() noexcept {
    diagnostics_->lock_for_fork();
    span_counts_->lock_for_fork();
  }
  void unlock_after_fork() noexcept {
    span_counts_->unlock_after_fork();
    diagnostics_->unlock_after_fork();
  }
  /// In the child after a fork: this process is a copy of the one that made
  /// the tracer. Spans still start (context keeps propagating); sampled ones
  /// record nothing (begin_recording), and the first says why.
  void mark_forked() noexcept { closed_.fetch_or(forked_bit, std::memory_order_acq_rel); }
  bool forked() const noexcept { return (closed_.load(std::memory_order_acquire) & forked_bit) != 0; }
  tracer_state* next_live() const noexcept { return next_live_; }
  std::shared_ptr<detail::diagnostics> diagnostics_handle() const noexcept { return diagnostics_; }

  /// Says once, off the hot path, why a tracer inherited through fork() records nothing.
  STREAMBUS_TRACING_COLD void report_if_forked() noexcept {
    if (!forked() || fork_reported_.exchange(true, std::memory_order_acq_rel)) return;
    diagnostics_->report(
        "this process is a fork() of the one that created the tracer: the tracer records and exports nothing here "
        "(its export thread did not survive the fork, and its collector connections belong to the parent); create "
        "a new tracer in the child process");
  }

  /// Copies a record (a span ended on another thread than its own, see span::finish_ended_elsewhere).
  void copy_record(span_data& to, const span_data& from) const { copy_record_(to, from); }

  const resolved_config& settings() const noexcept { return settings_; }
  const span_limits& limits() const noexcept { return settings_.limits; }
  const streambus::tracing::sampler& sampler() const noexcept { return settings_.sampler; }
  const streambus::tracing::resource& resource() const noexcept { return resource_; }
  const instrumentation_scope& scope() const noexcept { return scope_; }
  detail::diagnostics& diagnostics() noexcept { return *diagnostics_; }
  const std::shared_ptr<in_memory_exporter>& memory_exporter() const noexcept { return memory_; }
  /// The propagators in force (config.propagators / OTEL_PROPAGATORS).
  const detail::propagator_set& propagation() const noexcept { return propagation_; }

  /// Takes ownership of an ended record.
  STREAMBUS_TRACING_ALWAYS_INLINE void finish(span_data* record) noexcept {
    if (closed_.load(std::memory_order_acquire) != 0) {  // shut down, or a span that was open across fork()
      discard(record);
      return;
    }
    if (sync_) {
      detail::clock_resync_if_due();  // no export thread does it for synchronous exporters
      detail::settle_for_export(*record);
      sync_->deliver(*record);
    }
    if (batch_) {
      batch_->on_end(record);  // counted as ended there, by its lane
      return;
    }
    thread_record_pool().release(record);
    count_end();
  }

  STREAMBUS_TRACING_COLD void discard(span_data* record) noexcept {
    report_if_forked();
    thread_record_pool().release(record);
    discarded_.fetch_add(1, std::memory_order_relaxed);
    count_end();
  }

  bool force_flush(std::chrono::milliseconds timeout) noexcept {
    if (forked()) {
      report_if_forked();
      return false;  // no export thread here to flush
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool ok = batch_ ? batch_->force_flush(timeout) : true;
    if (sync_) ok = sync_->force_flush(remaining(deadline)) && ok;
    return ok;
  }

  bool shutdown(std::chrono::milliseconds timeout) noexcept {
    if (forked()) {
      report_if_forked();
      closed_.fetch_or(shut_down_bit, std::memory_order_acq_rel);
      return false;  // nothing of the child's was exported; the parent still exports its own
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if ((closed_.fetch_or(shut_down_bit, std::memory_order_acq_rel) & shut_down_bit) != 0) {
      // Shut down already, or being shut down by another thread: the answer
      // is that call's, once it is known (false if not within this timeout).
      std::unique_lock<std::mutex> lock(shutdown_mutex_);
      return shutdown_done_cv_.wait_until(lock, deadline, [&] { return shutdown_done_; }) && shutdown_result_;
    }
    bool ok = batch_ ? batch_->shutdown(timeout) : true;
    if (sync_) ok = sync_->shutdown(remaining(deadline)) && ok;
    {
      std::lock_guard<std::mutex> lock(shutdown_mutex_);
      shutdown_done_ = true;
      shutdown_result_ = ok;
    }
    shutdown_done_cv_.notify_all();
    return ok;
  }

  bool is_shut_down() const noexcept { return (closed_.load(std::memory_order_acquire) & shut_down_bit) != 0; }

  /// Counts a sampled span start on this thread's own slot.
  void count_start() noexcept {
    span_counts_->count_start();
  }
  /// Counts a sampled span's end that the export pipeline does not count
  /// (no batch exporter, shut down, a failed copy): with the pipeline's
  /// count, spans_open() can tell when no span still needs this state.
  void count_end() noexcept {
    span_counts_->count_end();
  }
  /// Sampled spans started and not yet ended (0 once they all have).
  std::uint64_t spans_open() const noexcept {
    // Ends first: a span ending meanwhile counts as open, never the reverse.
    const std::uint64_t ended = span_counts_->ended() + (batch_ ? batch_->spans_ended() : 0);
    const std::uint64_t started = span_counts_->started();
    return started > ended ? started - ended : 0;
  }

  tracer_stats stats() const noexcept {
    tracer_stats s;
    if (!batch_ && !sync_) {  // no exporter: the span counts are the only record of the ends
      const std::uint64_t ended = span_counts_->ended(), discarded = discarded_.load(std::memory_order_relaxed);
      s.spans_ended = ended > discarded ? ended - discarded : 0;  // before shutdown, as with exporters
    }
    if (!forked()) {  // else the pipeline's locks may have been held by a parent thread at the fork
      if (batch_) batch_->add_stats(s);
      if (sync_) sync_->add_stats(s, !batch_);
      s.export_retries = retries_->load(std::memory_order_relaxed);
    }
    // Starts last, as in spans_open(): a span ending meanwhile is then
    // counted as started, so spans_started - spans_ended never goes negative.
    s.spans_started = span_counts_->started();
    return s;
  }

 private:
  static std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline) noexcept {
    const auto left = deadline - std::chrono::steady_clock::now();
    return left > std::chrono::steady_clock::duration::zero()
               ? std::chrono::duration_cast<std::chrono::milliseconds>(left)
               : std::chrono::milliseconds(0);
  }

  template <int = 0>
  std::shared_ptr<span_exporter> make_exporter(const std::string& name) {
    if (name == "none") return nullptr;
    if (name == "console") return std::make_shared<console_exporter>();
    if (name == "memory") return memory_ = std::make_shared<in_memory_exporter>();
    if (name == "file") return std::make_shared<file_exporter>(settings_.file_path);
    if (exporter_factory factory = find_exporter_factory(name)) {
      const auto diag = diagnostics_;
      exporter_environment env{settings_, [diag](std::string_view m) { diag->report(m); }, retries_.get()};
      return factory(env);
    }
    if (name == "otlp" || name == "jaeger" || name == "zipkin") {
      const std::string how =
          "the HTTP transport is opt-in: #include <streambus/tracing/otlp_http_exporter.hpp> in one source "
          "file and link cpp-httplib (CMake: streambus::tracing_http)";
      // Nobody asked for OTLP: it is only OpenTelemetry's default. Say so loudly, but do not fail.
      if (settings_.exporters_defaulted) {
        warn("spans go to the default exporter 'otlp' (no valid exporter was named), which is not compiled in, so "
             "they are discarded; " + how +
             ", or set config.exporter / OTEL_TRACES_EXPORTER (console, file, none)");
        return nullptr;
      }
      // An operator's setting the program cannot honour: as for any bad OTEL_*
      // value, a warning, not a crash of the service.
      if (settings_.exporters_from_environment) {
        warn("OTEL_TRACES_EXPORTER names '" + name + "', which this program does not include: no spans go there; " +
             how);
        return nullptr;
      }
      throw config_error("exporter '" + name + "' is not available: " + how);
    }
    throw config_error("exporter '" + name + "' is not available (built in: console, file, memory, none; "
                       "with the HTTP transport: otlp, jaeger, zipkin)");
  }

  // A configuration warning found while building: in settings().warnings
  // with the resolver's, and reported like them.
  template <int = 0>
  void warn(std::string message) {
    diagnostics_->report(message, /*limited=*/false);
    settings_.warnings.push_back(std::move(message));
  }

  template <int = 0>
  void build_resource() {
    auto& attrs = resource_.attributes;
    const std::size_t no_limit = static_cast<std::size_t>(-1);
    attrs.set("service.name", settings_.service_name, no_limit);
    if (!settings_.service_version.empty()) attrs.set("service.version", settings_.service_version, no_limit);
    if (!settings_.environment.empty()) attrs.set("deployment.environment.name", settings_.environment, no_limit);
    attrs.set("telemetry.sdk.name", sdk_name, no_limit);
    attrs.set("telemetry.sdk.language", "cpp", no_limit);
    attrs.set("telemetry.sdk.version", version_string, no_limit);
    for (const auto& kv : settings_.resource_attributes) attrs.set(kv.first, kv.second, no_limit);
    attrs.repair_keys();  // keys from the environment may be ill-formed UTF-8 (as spans', see settle_for_export)
  }

  resolved_config settings_;
  detail::propagator_set propagation_;
  std::shared_ptr<detail::diagnostics> diagnostics_;
  std::shared_ptr<std::atomic<std::uint64_t>> retries_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<thread_counters> span_counts_ = std::make_shared<thread_counters>();
  streambus::tracing::resource resource_;
  instrumentation_scope scope_;
  std::shared_ptr<in_memory_exporter> memory_;
  // The first shutdown's result, for later and concurrent calls.
  std::mutex shutdown_mutex_;
  std::condition_variable shutdown_done_cv_;
  bool shutdown_done_ = false;
  bool shutdown_result_ = false;
  std::unique_ptr<sync_delivery> sync_;
  std::unique_ptr<batch_processor> batch_;
  static constexpr std::uint8_t shut_down_bit = 1;
  static constexpr std::uint8_t forked_bit = 2;  // this process is a fork() of the one that made the tracer
  std::atomic<std::uint8_t> closed_{0};
  std::atomic<bool> fork_reported_{false};
  std::atomic<std::uint64_t> discarded_{0};  // spans ended after shutdown (or open across a fork)
  tracer_state* prev_live_ = nullptr;  // live_tracers(), under its mutex
  tracer_state* next_live_ = nullptr;
  void (*copy_record_)(span_data& to, const span_data& from) = nullptr;  // set by the constructor
};

STREAMBUS_TRACING_PROCESS_WIDE inline void register_tracer_fork_handlers() noexcept {
#if defined(STREAMBUS_TRACING_HAS_PTHREAD_ATFORK)
  keep_library_loaded(this_library);  // the handlers' code; outside the guard below (keep_loaded.hpp)
  static const bool registered = [] {
    // prepare: the list and each tracer's fork-relevant locks are held across
    // the fork; parent: released; child: every inherited tracer is marked,
    // then everything is released for this process.
    ::pthread_atfork(
        [] {
          live_tracer_list& live = live_tracers();
          live.mutex.lock();
          for (tracer_state* t = live.head; t != nullptr; t = t->next_live()) t->lock_for_fork();
        },
        [] {
          live_tracer_list& live = live_tracers();
          for (tracer_state* t = live.head; t != nullptr; t = t->next_live()) t->unlock_after_fork();
          live.mutex.unlock();
        },
        [] {
          live_tracer_list& live = live_tracers();
          for (tracer_state* t = live.head; t != nullptr; t = t->next_live()) {
            t->mark_forked();
            t->unlock_after_fork();
          }
          live.mutex.unlock();
        });
    return true;
  }();
  static_cast<void>(registered);
#endif
}

// The diagnostics of `t` if it is a live tracer, else null; for an unsampled
// span, which does not keep its tracer alive (only sampled ones are counted
// as open). Compares addresses only, so a freed tracer is never touched; a
// new one at the same address would get the report, which is harmless.
inline std::shared_ptr<diagnostics> diagnostics_if_live(const tracer_state* t) noexcept {
  live_tracer_list& live = live_tracers();
  std::lock_guard<std::mutex> lock(live.mutex);
  for (const tracer_state* it = live.head; it != nullptr; it = it->next_live())
    if (it == t) return it->diagnostics_handle();
  return nullptr;
}

}  // namespace detail

/// A span: records while alive, ends when end() is called or when it goes out
/// of scope. Move-only. A default-constructed span is a valid no-op.
class span {
 public:
  span() noexcept = default;
  span(span&& other) noexcept { *this = std::move(other); }
  span& operator=(span&& other) noexcept {
    if (this != &other) {
      end();
      state_ = std::exchange(other.state_, nullptr);
      record_ = std::exchange(other.record_, nullptr);
      context_ = std::exchange(other.context_, span_context{});  // the moved-from span has no ids, as a default one
      stack_ = std::exchange(other.stack_, nullptr);
      depth_ = other.depth_;
    }
    return *this;
  }
  span(const span&) = delete;
  span& operator=(const span&) = delete;
  ~span() {
    // Inline tests: an ended or no-op span costs nothing here. A disabled
    // tracer's span passing a parent on has no state but may be current.
    if (state_ != nullptr || stack_ != nullptr) end();
  }

  /// Ids, flags and tracestate; valid for sampled and unsampled spans alike.
  const span_context& context() const noexcept { return context_; }
  /// True while the span records (sampled and not yet ended).
  bool is_recording() const noexcept { return record_ != nullptr; }

  template <class T>
  span& set_attribute(std::string_view key, const T& value) noexcept {
    if (record_) detail::recorder::set_attribute(record_, state_->limits(), key, value);
    return *this;
  }
  template <int = 0>  // compiled where used (attribute lists)
  span& set_attributes(attribute_init attrs) noexcept {
    if (record_) detail::recorder::set_attributes(record_, state_->limits(), attrs);
    return *this;
  }
  template <int = 0>  // compiled where used (attribute lists)
  span& add_event(std::string_view name, attribute_init attrs = {}) noexcept {
    if (record_) detail::recorder::add_event(record_, state_->limits(), name, attrs);
    return *this;
  }
  /// An event that happened at `time` (e.g. a timestamp carried by a message),
  /// kept as given; at or before the epoch: now.
  // The template below covers every precision; this overload is kept so that
  // braced arguments (`add_event("x", {})`, `{}` as a time) still resolve.
  template <int = 0>  // compiled where used (attribute lists)
  span& add_event(std::string_view name, std::chrono::system_clock::time_point time, attribute_init attrs = {}) noexcept {
    if (record_) detail::recorder::add_event(record_, state_->limits(), name, attrs, {}, detail::unix_nano_of(time));
    return *this;
  }
  /// The same for a system_clock time point of another precision (seconds,
  /// C++20's sys_days, ...), range-checked in its own units: past 2262, the
  /// end of OTLP's range; at or before the epoch, now.
  template <class Duration>
  span& add_event(std::string_view name, std::chrono::time_point<std::chrono::system_clock, Duration> time,
                  attribute_init attrs = {}) noexcept {
    if (record_) detail::recorder::add_event(record_, state_->limits(), name, attrs, {}, detail::unix_nano_of(time));
    return *this;
  }
  template <int = 0>  // compiled where used (attribute lists)
  span& add_link(const span_context& linked, attribute_init attrs = {}) noexcept {
    if (record_) detail::recorder::add_link(record_, state_->limits(), linked, attrs);
    return *this;
  }
  span& set_status(status_code code, std::string_view description = {}) noexcept {
    if (record_) detail::recorder::set_status(record_, code, description, state_->limits().attribute_value_length);
    return *this;
  }
  span& set_name(std::string_view name) noexcept {
    if (record_) {
      try {
        record_->name.assign(name);
      } catch (...) {
      }
    }
    return *this;
  }

  /// Adds an `exception` event (exception.type, exception.message) and sets
  /// status ERROR with the message.
  template <int Rtti = STREAMBUS_TRACING_HAS_RTTI>  // compiled where used; one per RTTI setting
  span& record_error(const std::exception& e, attribute_init attrs = {}) noexcept {
    if (record_) {
      try {
        detail::recorder::record_exception(record_, state_->limits(), detail::dynamic_type_name<Rtti>(e), detail::what_of(e), attrs);
      } catch (...) {
      }
    }
    return *this;
  }
  /// An error code: an `exception` event of type
  /// "std::error_code:<category>:<value>" and status ERROR with its message.
  template <int = 0>  // compiled where used (attribute lists)
  span& record_error(const std::error_code& ec, attribute_init attrs = {}) noexcept {
    return record_error_code(ec, attrs);
  }
  /// The same for error-code look-alikes: std::error_condition,
  /// boost::system::error_code (category().name(), value(), message()).
  template <class ErrorCode, std::enable_if_t<detail::is_error_code_v<ErrorCode> &&
                                                  !std::is_same_v<ErrorCode, std::error_code>, int> = 0>
  span& record_error(const ErrorCode& ec, attribute_init attrs = {}) noexcept {
    return record_error_code(ec, attrs);
  }
  template <int = 0>  // compiled where used (attribute lists)
  span& record_error(std::string_view message, attribute_init attrs = {}) noexcept {
    if (record_) detail::recorder::record_exception(record_, state_->limits(), {}, message, attrs);
    return *this;
  }
  /// A null message records as "" (std::string_view would read through it).
  /// Char pointers only: a type that converts to both is a string_view.
  template <class C, std::enable_if_t<detail::is_c_string_v<C>, int> = 0>
  span& record_error(C message, attribute_init attrs = {}) noexcept {
    return record_error(detail::view_or_empty(message), attrs);
  }

  /// Ends the span (idempotent). Afterwards the span is no longer current and
  /// records nothing.
  void end() noexcept { end_at<false>(0); }
  /// Ends the span with the end time `time` instead of now (a span recorded
  /// after the fact, or ended by a timestamp the work reported). An end before
  /// the span's start is exported as its start; at or before the epoch: now.
  // (Kept beside the template below so that `end({})` still resolves.)
  void end(std::chrono::system_clock::time_point time) noexcept { end_given(detail::unix_nano_of(time)); }
  /// The same for a system_clock time point of another precision (as add_event's).
  template <class Duration>
  void end(std::chrono::time_point<std::chrono::system_clock, Duration> time) noexcept {
    end_given(detail::unix_nano_of(time));
  }

 private:
  friend class tracer;
  friend struct light::span_access;

  span(detail::tracer_state& state, const trace_id& tid, span_id sid, trace_flags flags) noexcept
      : state_(&state), context_(tid, sid, flags) {}

  // record_error(ec)'s body, for std::error_code and its look-alikes.
  template <class ErrorCode>
  span& record_error_code(const ErrorCode& ec, attribute_init attrs) noexcept {
    if (record_) {
      try {  // message() and the type's string allocate
        detail::recorder::record_exception(
            record_, state_->limits(),
            detail::error_code_exception_type(ec.category().name(), static_cast<int>(ec.value())), ec.message(),
            attrs);
      } catch (...) {
      }
    }
    return *this;
  }

  // A disabled tracer's span: no record and no tracer, only the context it
  // passes on (made current on `stack`, if not null), as OpenTelemetry's
  // no-op tracer returns the parent's context. Invalid: a no-op span.
  //
  // Its entry has its parent's span id, as may other pass-through spans'
  // entries, so the id cannot tell a late end (of a span whose entry an
  // enclosing span's end already removed) from a live entry at that depth.
  // A process-wide token tells them apart: in the entry's `owner` (never
  // dereferenced for entries without a record) and in the high half of
  // depth_, which also keeps such spans off leave_stack's fast path.
  STREAMBUS_TRACING_COLD static span passing_on(const span_context& ctx, detail::context_stack* stack) noexcept {
    span s;
    if (!ctx.valid()) return s;
    s.context_ = ctx;  // copied first: ctx may point into the stack, which the push may move
    const std::uint64_t token = next_passing_token();
    if (stack != nullptr && stack->push(s.context_, nullptr, nullptr, passing_owner(token))) {
      s.made_current_on(stack);
      s.depth_ |= token << 32;
    }
    return s;
  }
  // Process-wide, so that a late end() or notice from a thread that has
  // exited cannot match the entry of a new thread whose stack took its place.
  STREAMBUS_TRACING_PROCESS_WIDE static std::uint64_t next_passing_token() noexcept {
    static std::atomic<std::uint32_t> last{0};
    std::uint32_t token = last.fetch_add(1, std::memory_order_relaxed) + 1;
    if (token == 0) token = last.fetch_add(1, std::memory_order_relaxed) + 1;  // 0 is "not a pass-through span"
    return token;
  }
  static detail::tracer_state* passing_owner(std::uint64_t token) noexcept {
    return reinterpret_cast<detail::tracer_state*>(static_cast<std::uintptr_t>(token));
  }
  // A disabled tracer's child of the current span: its context, not pushed
  // again (it is current already).
  STREAMBUS_TRACING_COLD static span passing_on_current() noexcept {
    const detail::active_span* top = detail::thread_context_stack().top();
    return passing_on(top != nullptr ? top->context : detail::no_context, nullptr);
  }

  // After a push onto `stack` (null: the span was not made current).
  void made_current_on(detail::context_stack* stack) noexcept {
    made_current_at(stack, stack != nullptr ? stack->size() - 1 : 0);
  }
  // `depth`: where its entry was pushed, when the caller knows it.
  void made_current_at(detail::context_stack* stack, std::size_t depth) noexcept {
    stack_ = stack;
    depth_ = depth;
  }

  // Takes this span off the thread's current-span stack. False when it is
  // ended on another thread than the one it is current on.
  STREAMBUS_TRACING_ALWAYS_INLINE bool leave_stack() noexcept {
    detail::context_stack& mine = detail::thread_context_stack();
    if (stack_ != &mine) return false;
    stack_ = nullptr;
    // Usually this span is the innermost: pop it. (The owner, too: once ended
    // entries below were squeezed out, the entry at depth_ may be that of a
    // pass-through span, which has this span's id.)
    const auto at = static_cast<std::size_t>(depth_);  // depth_ itself once the first test holds (no token)
    if (depth_ + 1 == mine.size() && mine[at].context.span_id() == context_.span_id() && mine[at].owner == state_)
      mine.pop_to(at);
    else
      leave_stack_below(mine);
    return true;
  }

  // Not the innermost entry (or a pass-through span, see passing_on): takes
  // this span's entry and those above it away, if the entry is still there.
  STREAMBUS_TRACING_COLD void leave_stack_below(detail::context_stack& mine) noexcept {
    mine.remove(entry_depth(), context_.span_id(), entry_owner());
  }
  // Where its entry was pushed (depth_ without a pass-through span's token).
  std::size_t entry_depth() const noexcept { return static_cast<std::size_t>(depth_ & 0xffffffffu); }
  // Its entry's owner: its tracer, or its token (pass-through spans).
  const detail::tracer_state* entry_owner() const noexcept {
    const std::uint64_t token = depth_ >> 32;
    return token != 0 ? passing_owner(token) : state_;
  }

  // span_options::start_time, as epoch nanoseconds (0: not given).
  void give_start(std::uint64_t given) noexcept {
    if (record_ == nullptr || given == 0) return;
    record_->start_time_unix_nano = given;
    record_->time_form = static_cast<std::uint8_t>(record_->time_form | span_data::start_given);
  }
  // end(time), with epoch nanoseconds (0: now).
  void end_given(std::uint64_t given) noexcept {
    if (given != 0)
      end_at<true>(given);
    else
      end_at<false>(0);
  }
  // end() (Given: end(time), with `given` epoch nanoseconds, not 0).
  template <bool Given>
  STREAMBUS_TRACING_ALWAYS_INLINE void end_at(std::uint64_t given) noexcept {
    if (stack_ != nullptr && !leave_stack()) {
      end_elsewhere(given);
      return;
    }
    if (record_ != nullptr) {
      if constexpr (Given) {
        finish_record_at(given);
      } else {
        finish_record();
      }
    }
    state_ = nullptr;
  }

  // Ends a sampled span's record and hands it to the export pipeline.
  STREAMBUS_TRACING_NOINLINE void finish_record() noexcept {
    record_->end_time_unix_nano = detail::span_clock_ticks();  // converted off this thread
    state_->finish(std::exchange(record_, nullptr));
  }
  // The same with the end time the caller gave.
  STREAMBUS_TRACING_COLD void finish_record_at(std::uint64_t given) noexcept {
    set_given_end(*record_, given);
    state_->finish(std::exchange(record_, nullptr));
  }
  // `given`: epoch nanoseconds; 0: now.
  static void set_given_end(span_data& r, std::uint64_t given) noexcept {
    if (given == 0) {
      r.end_time_unix_nano = detail::span_clock_ticks();
      return;
    }
    r.end_time_unix_nano = given;
    r.time_form = static_cast<std::uint8_t>(r.time_form | span_data::end_given);
  }

  // end() on another thread than the one the span is current on. A sampled
  // span's record tells that thread; otherwise a notice does (see
  // detail/context_stack.hpp). `given`: as set_given_end's.
  STREAMBUS_TRACING_COLD void end_elsewhere(std::uint64_t given) noexcept {
    const detail::context_stack* origin = std::exchange(stack_, nullptr);
    report_ended_elsewhere();
    if (record_ != nullptr) {
      set_given_end(*record_, given);
      finish_ended_elsewhere(std::exchange(record_, nullptr));
    } else {
      detail::post_ended_elsewhere(origin, {entry_depth(), context_.span_id(), entry_owner()});
    }
    state_ = nullptr;
  }

  // Looked up first: an unsampled span does not keep its tracer alive (a
  // sampled one does, and its tracer stays registered while kept).
  STREAMBUS_TRACING_COLD void report_ended_elsewhere() noexcept {
    if (state_ == nullptr) return;
    if (const std::shared_ptr<detail::diagnostics> live = detail::diagnostics_if_live(state_))
      live->report(
          "a current span was ended on another thread than the one that started it; "
          "start spans that move between threads with span_options::make_current = false");
  }

  // The span was current on another thread. If that thread's stack still
  // points at the record, export a copy and leave the original for that
  // thread to free. The copy is taken before the record is marked orphaned:
  // from that moment on the origin thread may free or reuse it.
  STREAMBUS_TRACING_COLD void finish_ended_elsewhere(span_data* finished) noexcept {
    span_data* copy = detail::thread_record_pool().acquire_or_null();
    if (copy != nullptr) {
      try {
        state_->copy_record(*copy, *finished);
      } catch (...) {
        detail::thread_record_pool().release(copy);
        copy = nullptr;
      }
    }
    if (finished->stack_ref.claim(detail::stack_ref::orphaned) != detail::stack_ref::referenced) {
      // The origin thread let go of it first: the record is this thread's.
      detail::thread_record_pool().release(copy);
      state_->finish(finished);
      return;
    }
    if (copy != nullptr)
      state_->finish(copy);
    else
      state_->count_end();  // out of memory: ended, not exported
  }

  detail::tracer_state* state_ = nullptr;
  span_data* record_ = nullptr;
  span_context context_;
  detail::context_stack* stack_ = nullptr;  // set while the span is current on a thread
  std::uint64_t depth_ = 0;  // index of its entry; pass-through spans: a token in the high half
};

/// The tracer: creates spans, propagates context, owns the export pipeline.
/// Move-only. End every span before its tracer is destroyed: sampled spans
/// that are still open then end safely but are discarded (and reported).
class tracer {
 public:
  /// A disabled tracer: records nothing, but passes an incoming context on
  /// (W3C tracecontext and baggage), as a disabled tracer from create() does.
  tracer() noexcept = default;

  /// Builds a tracer from cfg and the OTEL_* environment (see config.hpp for
  /// the precedence). Throws config_error naming every invalid setting.
  /// (Templates only so that a translation unit that creates no tracer does not compile the creation path.)
  template <int = 0>
  static tracer create(const config& cfg = {}) { return create(cfg, cfg.read_environment ? process_environment() : env_reader{}); }
  template <int = 0>
  static tracer create(const config& cfg, const env_reader& env) {
    resolved_config resolved = resolve_config(cfg, env ? env : env_reader([](std::string_view) { return std::optional<std::string>{}; }));
    tracer t;
    if (resolved.enabled)
      t.state_ = std::make_unique<detail::tracer_state>(std::move(resolved), cfg.exporters, cfg.on_diagnostic);
    else  // disabled tracing still propagates (OpenTelemetry: OTEL_SDK_DISABLED "has no effect on propagators")
      t.disabled_propagation_ = std::make_unique<const detail::propagator_set>(parse_propagators(resolved.propagators));
    return t;
  }

  tracer(tracer&&) noexcept = default;
  tracer& operator=(tracer&& other) noexcept {
    if (this != &other) {
      release_state();
      state_ = std::move(other.state_);
      disabled_propagation_ = std::move(other.disabled_propagation_);
    }
    return *this;
  }
  ~tracer() { release_state(); }

  /// False when disabled by config or OTEL_SDK_DISABLED, or after shutdown.
  bool is_enabled() const noexcept { return state_ != nullptr && !state_->is_shut_down(); }

  // --- spans ---------------------------------------------------------------
  // Disabled, a span passes its parent's context on and records nothing.
  // Inline, so that a disabled tracer costs its caller a test and no call.
  STREAMBUS_TRACING_ALWAYS_INLINE span start(std::string_view name, span_kind kind = span_kind::internal) noexcept {
    if (state_ == nullptr) return detail::thread_context_stack().size() == 0 ? span() : span::passing_on_current();
    return start_enabled(name, kind);
  }
  span start(std::string_view name, const span_context& parent, span_kind kind = span_kind::internal) noexcept {
    if (state_ == nullptr) return span::passing_on(parent, &detail::thread_context_stack());
    return start_span(name, parent, parent.valid(), kind, &detail::thread_context_stack());
  }
  template <int = 0>  // compiled where used (links' attribute lists)
  span start(std::string_view name, const span_options& options) noexcept {
    if (state_ == nullptr) return start_disabled(options);
    const span_context* parent = &detail::no_context;
    if (options.parent) {
      parent = &*options.parent;
    } else if (!options.new_root) {
      if (const detail::active_span* top = detail::thread_context_stack().top()) parent = &top->context;
    }
    span s = start_span(name, *parent, parent->valid(), options.kind,
                        options.make_current ? &detail::thread_context_stack() : nullptr);
    if (s.record_ != nullptr) {
      for (const auto& l : options.links) detail::recorder::add_link(s.record_, state_->limits(), l, {});
      s.give_start(detail::unix_nano_of(options.start_time));
    }
    return s;
  }

  // --- the current span (the seed's ctx-based calls) -------------------------
  /// The current span's context on this thread, or an invalid context.
  span_context current_context() const { return current_context_ref(); }
  template <class T>
  void set_attribute(std::string_view key, const T& value) noexcept {
    if (auto* a = current_recording()) detail::recorder::set_attribute(a->record, a->owner->limits(), key, value);
  }
  template <int = 0>  // compiled where used (attribute lists)
  void set_attributes(attribute_init attrs) noexcept {
    if (auto* a = current_recording()) detail::recorder::set_attributes(a->record, a->owner->limits(), attrs);
  }
  template <int = 0>  // compiled where used (attribute lists)
  void add_event(std::string_view name, attribute_init attrs = {}) noexcept {
    if (auto* a = current_recording()) detail::recorder::add_event(a->record, a->owner->limits(), name, attrs);
  }
  template <int Rtti = STREAMBUS_TRACING_HAS_RTTI>  // compiled where used; one per RTTI setting
  void record_error(const std::exception& e, attribute_init attrs = {}) noexcept {
    if (auto* a = current_recording()) {
      try {
        detail::recorder::record_exception(a->record, a->owner->limits(), detail::dynamic_type_name<Rtti>(e), detail::what_of(e), attrs);
      } catch (...) {
      }
    }
  }
  template <int = 0>  // compiled where used (attribute lists)
  void record_error(std::string_view message, attribute_init attrs = {}) noexcept {
    if (auto* a = current_recording()) detail::recorder::record_exception(a->record, a->owner->limits(), {}, message, attrs);
  }
  template <class C, std::enable_if_t<detail::is_c_string_v<C>, int> = 0>
  void record_error(C message, attribute_init attrs = {}) noexcept {
    record_error(detail::view_or_empty(message), attrs);
  }
  void set_status(status_code code, std::string_view description = {}) noexcept {
    if (auto* a = current_recording())
      detail::recorder::set_status(a->record, code, description, a->owner->limits().attribute_value_length);
  }

  // --- propagation -----------------------------------------------------------
  // Through the configured propagators (default W3C tracecontext + baggage;
  // also b3, b3multi, jaeger: config.propagators / OTEL_PROPAGATORS).

  /// Writes the current span's context into carrier (HTTP headers, message headers, ...).
  template <class Carrier>
  void inject(Carrier& carrier) const {
    if constexpr (detail::is_standard_carrier_v<Carrier>)
      inject(current_context_ref(), carrier);  // a standard container starts no spans: read in place
    else
      inject(current_context(), carrier);  // a user adapter might (e.g. a traced logger): copy
  }
  /// The context only: the carrier's baggage headers are left as they are
  /// (a caller may have put baggage there), as OpenTelemetry's propagators
  /// leave them for empty baggage.
  template <class Carrier>
  void inject(const span_context& ctx, Carrier& carrier) const {
    inject_with(ctx, nullptr, carrier);
  }
  /// Writes a context and exactly these baggage entries (empty baggage
  /// removes a baggage header the carrier holds).
  template <class Carrier>
  void inject(const span_context& ctx, const baggage& bag, Carrier& carrier) const {
    inject_with(ctx, &bag, carrier);
  }
  /// Reads a remote parent from carrier; invalid (start a new trace) when absent or malformed.
  template <class Carrier>
  span_context extract(const Carrier& carrier) const {
    const detail::propagator_set& p = propagation();
    if (p.shape.w3c_only) return tracing::extract(carrier);  // what the composite answers then
    return extract_context_all(p.kinds, carrier);
  }
  /// Reads the remote parent and the baggage entries.
  template <class Carrier>
  std::pair<span_context, baggage> extract_with_baggage(const Carrier& carrier) const {
    return extract_all(propagation().kinds, carrier);
  }
  /// The seed's InjectTraceContext / ExtractTraceContext over message headers.
  /// (Templates so that a translation unit that does not call them does not compile the std::map carrier code.)
  template <int = 0>
  void inject_trace_context(std::map<std::string, std::string>& headers) const { inject(headers); }
  template <int = 0>
  span_context extract_trace_context(const std::map<std::string, std::string>& headers) const { return extract(headers); }

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


  // --- lifecycle -------------------------------------------------------------
  /// Exports every span ended so far; false if the timeout elapsed first.
  bool force_flush(std::chrono::milliseconds timeout = std::chrono::seconds(5)) noexcept {
    return state_ != nullptr ? state_->force_flush(detail::bounded_timeout(timeout)) : true;
  }
  /// Flushes, stops exporting and releases exporters. Idempotent, thread-safe;
  /// the destructor calls it too. Spans ended afterwards are discarded.
  bool shutdown(std::chrono::milliseconds timeout = std::chrono::seconds(5)) noexcept {
    return state_ != nullptr ? state_->shutdown(detail::bounded_timeout(timeout)) : true;
  }

  /// Counters of what happened to sampled spans (all zero when disabled).
  tracer_stats stats() const noexcept { return state_ ? state_->stats() : tracer_stats{}; }

  /// The settings in force after precedence and defaults (null when disabled).
  const resolved_config* settings() const noexcept { return state_ ? &state_->settings() : nullptr; }
  /// The exporter created for the "memory" exporter name, if any.
  std::shared_ptr<in_memory_exporter> memory_exporter() const {
    return state_ ? state_->memory_exporter() : nullptr;
  }

 private:
  // Shuts down and frees the state, unless sampled spans it started are still
  // open (they point at it: a misuse, but ending them later must not crash).
  // Then it is kept, shut down, where the fork registry still reaches it.
  void release_state() noexcept {
    if (state_ == nullptr) return;
    if (state_->forked()) {
      // A copy inherited through fork(): spans open across the fork may still
      // point at it, and its parts' locks were the parent's. Kept, untouched.
      state_->report_if_forked();
      static_cast<void>(state_.release());
      return;
    }
    shutdown();
    if (const std::uint64_t open = state_->spans_open()) {
      try {
        state_->diagnostics().report(
            "the tracer was destroyed while " + std::to_string(open) +
            " span(s) it started were still open (every span must end before its tracer is destroyed); its state "
            "is kept, not freed, so that they can still end safely; they will not be exported");
      } catch (...) {
      }
      static_cast<void>(state_.release());
      return;
    }
    state_.reset();
  }

  // inject_all over the configured propagators, with their list's shape read
  // once at creation; `bag` null leaves the carrier's baggage headers alone.
  template <class Carrier>
  void inject_with(const span_context& ctx, const baggage* bag, Carrier& carrier) const {
    const detail::propagator_set& p = propagation();
    if (!detail::pg_inject_w3c_only(p.shape, ctx, bag, carrier)) detail::pg_inject_listed(p.kinds, ctx, bag, carrier, false);
  }

  // The propagators in force, enabled or not.
  const detail::propagator_set& propagation() const noexcept {
    if (state_ != nullptr) return state_->propagation();
    return disabled_propagation_ != nullptr ? *disabled_propagation_ : detail::default_propagator_set();
  }

  // start(name, options) on a disabled tracer: passes on the parent's context.
  STREAMBUS_TRACING_COLD static span start_disabled(const span_options& options) noexcept {
    if (options.parent)
      return span::passing_on(*options.parent, options.make_current ? &detail::thread_context_stack() : nullptr);
    return options.new_root ? span() : span::passing_on_current();
  }

  // The current span's context without a copy (valid until the stack changes).
  static const span_context& current_context_ref() noexcept {
    const detail::active_span* top = detail::thread_context_stack().top();
    return top ? top->context : detail::no_context;
  }

  const detail::active_span* current_recording() const noexcept {
    if (state_ == nullptr) return nullptr;
    const detail::active_span* top = detail::thread_context_stack().top();
    return (top != nullptr && top->record != nullptr) ? top : nullptr;
  }

  // start(name, kind) on an enabled tracer: a child of the current span, if
  // any. An unsampled span is made here, without a call; a sampled one by
  // start_sampled_child or _root, which skip what was checked here; the
  // unusual cases (the tests below) by start_current, the general path.
  // (Unsampled spans took 161 instructions through start_current, 142 here.)
  STREAMBUS_TRACING_NOINLINE span start_enabled(std::string_view name, span_kind kind) noexcept {
    detail::tracer_state& st = *state_;
    detail::context_stack& stack = detail::thread_context_stack();
    detail::id_generator& rng = detail::thread_rng();
    const std::size_t depth = stack.size();  // read once: the atomic loads below would make it read again
    if (!stack.is_plain(depth) || !rng.seeded_here() || st.is_shut_down()) return start_current(name, kind);
    const sampler& policy = st.sampler();
    trace_id tid;
    std::uint64_t sid;
    trace_flags flags;
    if (depth != 0) {
      const span_context& parent = stack[depth - 1].context;
      if (!parent.trace_state().empty()) return start_current(name, kind);  // a tracestate to pass on
      tid = parent.trace_id();
      flags = parent.flags();
      if (policy.follows_parent() ? flags.sampled() : policy.samples_root(tid.randomness()))
        return start_sampled_child(name, kind, parent);
      sid = rng.next_unchecked();
    } else {
      // A new trace; its id's low half decides, drawn first so that a
      // sampled span is left to start_sampled_root with that one value.
      // An unsampled root's three draws are peeked and the generator
      // advanced once (a sampled one's first only; start_sampled_root draws on).
      const std::uint64_t low = rng.peek(1);
      if (policy.samples_root(low & trace_id::randomness_mask)) {
        rng.skip(1);
        return start_sampled_root(name, kind, low);
      }
      const std::uint64_t high = rng.peek(2);
      sid = rng.peek(3);
      rng.skip(3);
      if ((high | low) == 0) return start_current(name, kind);  // 2^-128: draws again there
      tid = trace_id::from_u64(high, low);
      flags = trace_flags(trace_flags::random_bit);
    }
    if (sid == 0) return start_current(name, kind);  // 2^-64: draws again there
    return start_unsampled(st, stack, depth, tid, span_id::from_u64(sid), flags.with_sampled(false));
  }

  // start_enabled's unsampled span, made current on `stack` (is_plain(depth)).
  STREAMBUS_TRACING_ALWAYS_INLINE static span start_unsampled(detail::tracer_state& st, detail::context_stack& stack,
                                                             std::size_t depth, const trace_id& tid, span_id sid,
                                                             trace_flags flags) noexcept {
    span s(st, tid, sid, flags);
    stack.push_unsampled(depth, tid, sid, flags, &st);
    s.made_current_at(&stack, depth);
    return s;
  }

  // start_enabled's sampled spans: a child of `parent` (the top entry of the
  // thread's stack: live, no tracestate) ...
  STREAMBUS_TRACING_NOINLINE span start_sampled_child(std::string_view name, span_kind kind,
                                                     const span_context& parent) noexcept {
    const trace_id tid = parent.trace_id();  // a copy: `parent` is in the stack the span is pushed onto
    return start_sampled(name, kind, tid, parent.flags(), parent);
  }
  // ... and a root whose trace id's low half is `trace_low`.
  STREAMBUS_TRACING_NOINLINE span start_sampled_root(std::string_view name, span_kind kind,
                                                    std::uint64_t trace_low) noexcept {
    detail::id_generator& rng = detail::thread_rng();
    std::uint64_t high = rng.next_unchecked();
    while ((high | trace_low) == 0) high = rng.next_unchecked();  // 2^-128
    return start_sampled(name, kind, trace_id::from_u64(high, trace_low), trace_flags(trace_flags::random_bit),
                         detail::no_context);
  }
  // Their common part: a span id, the span, its record and stack entry.
  STREAMBUS_TRACING_ALWAYS_INLINE span start_sampled(std::string_view name, span_kind kind, const trace_id& tid,
                                                    trace_flags flags, const span_context& parent) noexcept {
    detail::id_generator& rng = detail::thread_rng();
    std::uint64_t sid = rng.next_unchecked();
    while (sid == 0) sid = rng.next_unchecked();  // 2^-64
    flags = flags.with_sampled(true);
    span s(*state_, tid, span_id::from_u64(sid), flags);
    begin_recording_inline(s, tid, span_id::from_u64(sid), flags, nullptr, parent, name, kind,
                           &detail::thread_context_stack());
    return s;
  }

  // start(name, kind) in every case.
  STREAMBUS_TRACING_NOINLINE span start_current(std::string_view name, span_kind kind) noexcept {
    detail::context_stack& stack = detail::thread_context_stack();
    const detail::active_span* top = stack.top();
    // Entries on the stack always hold valid contexts: no need to check.
    return start_span(name, top ? top->context : detail::no_context, top != nullptr, kind, &stack);
  }

  // `stack`: where the span becomes current (null: make_current = false).
  // `parent` may point into that stack, so it is only read before the push.
  // Inlined into the caller; the sampled span's record is set up out of line
  // (begin_recording), so an unsampled span costs no call at all.
  // `has_parent`: parent.valid(), which the caller may know without testing.
  STREAMBUS_TRACING_ALWAYS_INLINE span start_span(std::string_view name, const span_context& parent, bool has_parent,
                                                 span_kind kind, detail::context_stack* stack) noexcept {
    detail::tracer_state& st = *state_;
    const sampler& policy = st.sampler();
    trace_id tid;
    std::uint64_t sid;
    trace_flags flags;
    bool sampled;
    if (has_parent) {  // continue the parent's trace, flags and tracestate
      sid = detail::draw_span_id();
      tid = parent.trace_id();
      flags = parent.flags();
      sampled = policy.follows_parent() ? parent.sampled() : policy.samples_root(tid.randomness());
    } else {
      // A new trace whose low 56 bits are random: we set the W3C Level 2
      // `random` flag on traces we create.
      const detail::root_ids ids = detail::draw_root_ids();
      sid = ids.span;
      tid = trace_id::from_u64(ids.trace_high, ids.trace_low);
      flags = trace_flags(trace_flags::random_bit);
      sampled = policy.samples_root(ids.trace_low & trace_id::randomness_mask);
    }
    span s(st, tid, span_id::from_u64(sid), flags.with_sampled(sampled));
    if (st.is_shut_down()) {  // after shutdown: a no-op span (checked here so that s is the only return: NRVO)
      s.state_ = nullptr;
      s.context_ = span_context{};
      return s;
    }
    if (has_parent && !parent.trace_state().empty()) s.context_.set_trace_state(parent.trace_state());
    if (sampled) {
      // Out of line, so that the unsampled path below needs no stack frame.
      begin_recording(s, parent, name, kind, stack);
      return s;
    }
    // The entry is built from the values at hand rather than copied from
    // s.context_, which the compiler would reload from memory. Its sampled
    // bit is the span's, not the parent's (a sampler that does not follow
    // the parent may drop a child of a sampled one).
    if (stack != nullptr && !stack->push(tid, span_id::from_u64(sid), flags.with_sampled(false),
                                         has_parent ? &s.context_.trace_state() : nullptr, nullptr, &st)) {
      s.state_ = nullptr;  // out of memory: a no-op span
      return s;
    }
    s.made_current_on(stack);
    return s;
  }

  // A sampled span in a forked child (tracer_state::mark_forked): current and
  // propagated like an unsampled one, recording nothing; the first says why.
  STREAMBUS_TRACING_COLD static void propagate_only(span& s, detail::context_stack* stack) noexcept {
    s.state_->report_if_forked();
    if (stack != nullptr && !stack->push(s.context_, nullptr, nullptr, s.state_)) {
      s.state_ = nullptr;  // out of memory: a no-op span
      return;
    }
    s.made_current_on(stack);
  }

  // Gives a sampled span its record and makes it current on `stack` (if not
  // null); out of memory, turns it into a no-op span. Out of line where
  // start_span is inlined.
  STREAMBUS_TRACING_NOINLINE static void begin_recording(span& s, const span_context& parent, std::string_view name,
                                                         span_kind kind, detail::context_stack* stack) noexcept {
    const span_context& own = s.context_;
    begin_recording_inline(s, own.trace_id(), own.span_id(), own.flags(), &own.trace_state(), parent, name, kind, stack);
  }
  // The same in line (in start_sampled_child and _root, out of line
  // themselves), with the span's ids and tracestate (null: none) passed
  // apart: read from registers, not back from the span just written.
  STREAMBUS_TRACING_ALWAYS_INLINE static void begin_recording_inline(span& s, const trace_id& tid, span_id sid,
                                                                     trace_flags flags, const trace_state* state,
                                                                     const span_context& parent, std::string_view name,
                                                                     span_kind kind, detail::context_stack* stack) noexcept {
    detail::tracer_state& st = *s.state_;
    if (st.forked()) {
      propagate_only(s, stack);
      return;
    }
    span_data* r = nullptr;
    try {
      r = detail::thread_record_pool().acquire();
      r->context = span_context(tid, sid, flags);
      if (state != nullptr && !state->empty()) r->context.set_trace_state(*state);
      const bool has_parent = parent.valid();
      r->parent_span_id = has_parent ? parent.span_id() : span_id{};
      r->parent_is_remote = has_parent && parent.is_remote();
      r->name.assign(name);
      r->kind = kind;
      r->start_time_unix_nano = detail::span_clock_ticks();  // raw: see settle_times
      r->time_form = span_data::ticks;
    } catch (...) {
      if (r != nullptr) detail::thread_record_pool().release(r);
      s.state_ = nullptr;
      return;
    }
    // `parent` may point into `stack`: not read after the push.
    if (stack != nullptr && !stack->push(tid, sid, flags, state, r, &st)) {
      detail::thread_record_pool().release(r);
      s.state_ = nullptr;
      return;
    }
    st.count_start();
    s.record_ = r;
    s.made_current_on(stack);
  }

  std::unique_ptr<detail::tracer_state> state_;
  // A disabled tracer's propagators (null: the default, tracecontext,baggage).
  std::unique_ptr<const detail::propagator_set> disabled_propagation_;
};

STREAMBUS_TRACING_END_NAMESPACE
