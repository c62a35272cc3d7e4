// The light instrumentation API: spans from translation units that should not
// pay the whole library's compile time (~2.5 s per TU at -O2 for the full
// header; this one needs eight small standard headers).
//
//   // in every instrumented source file
//   #include <streambus/tracing_light.hpp>
//   namespace light = streambus::tracing::light;
//   void handle(streambus::tracing::tracer& tracer, int order) {
//     auto span = light::start(tracer, "handle order");
//     span.set_attribute("order.id", order);
//   }
//
//   // in exactly one source file of the program (usually where the tracer is created)
//   #define STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
//   #include <streambus/tracing.hpp>
//
// A light::span wraps a tracing::span; each call is one out-of-line call into
// that one file, so a span costs a few ns more than with the inline API. Both
// kinds of span share the thread's current-span stack: light spans nest under
// tracer.start() spans and the other way round. With STREAMBUS_TRACING_DISABLED
// everything here is an empty inline function, as in the full header, except
// that trace_with_retry still retries and waits: a compiled-out program that
// calls it still needs the implementation file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "detail/c_string.hpp"
#include "detail/epoch_nanos.hpp"
#include "detail/op_outcome.hpp"
#include "header_name.hpp"
#include "span_kind.hpp"
#include "version.hpp"

// The templates below run the caller's code and record its exceptions. In a
// file compiled with -fno-exceptions nothing can reach a handler: the try
// blocks stay as plain blocks and the handlers are left out.
#if STREAMBUS_TRACING_HAS_EXCEPTIONS
#define STREAMBUS_TRACING_LIGHT_TRY try
#define STREAMBUS_TRACING_LIGHT_CATCH_ALL catch (...)
#define STREAMBUS_TRACING_LIGHT_RETHROW throw
#else
#define STREAMBUS_TRACING_LIGHT_TRY if (true)
#define STREAMBUS_TRACING_LIGHT_CATCH_ALL else
#define STREAMBUS_TRACING_LIGHT_RETHROW std::abort()  // unreachable
#endif

STREAMBUS_TRACING_BEGIN_NAMESPACE

class tracer;  // tracer.hpp (disabled.hpp when compiled out)

namespace light {

/// An attribute of the light API: a key and a bool, integer, floating-point or
/// string value. Strings are viewed, not copied; the span copies them.
class attribute {
 public:
  enum class type : std::uint8_t { boolean, signed_integer, unsigned_integer, floating, string };

  template <class T>
  attribute(std::string_view key, const T& value) noexcept : key_(key) {
    if constexpr (std::is_same_v<std::remove_cv_t<T>, bool>) {
      type_ = type::boolean;
      boolean_ = value;
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      static_assert(sizeof(T) <= sizeof(std::int64_t), "an integer attribute fits 64 bits");
      type_ = type::signed_integer;
      signed_ = value;
    } else if constexpr (std::is_integral_v<T>) {
      static_assert(sizeof(T) <= sizeof(std::uint64_t), "an integer attribute fits 64 bits");
      type_ = type::unsigned_integer;  // above INT64_MAX the span stores it as a string, as tracing::span does
      unsigned_ = value;
    } else if constexpr (std::is_floating_point_v<T>) {
      type_ = type::floating;
      floating_ = static_cast<double>(value);
    } else {
      static_assert(std::is_convertible_v<const T&, std::string_view>,
                    "a light attribute is a bool, an integer, a floating-point number or a string");
      type_ = type::string;
      if constexpr (std::is_pointer_v<T>)
        string_ = tracing::detail::view_or_empty(value);  // null: "", as tracing::span
      else if constexpr (std::is_same_v<T, std::nullptr_t>)
        string_ = std::string_view();  // a nullptr literal: "", as tracing::span
      else
        string_ = std::string_view(value);
    }
  }

  std::string_view key() const noexcept { return key_; }
  type value_type() const noexcept { return type_; }
  bool as_bool() const noexcept { return boolean_; }
  std::int64_t as_int64() const noexcept { return signed_; }
  std::uint64_t as_uint64() const noexcept { return unsigned_; }
  double as_double() const noexcept { return floating_; }
  std::string_view as_string() const noexcept { return string_; }

 private:
  std::string_view key_;
  type type_ = type::boolean;
  union {
    bool boolean_;
    std::int64_t signed_;
    std::uint64_t unsigned_ = 0;
    double floating_;
  };
  std::string_view string_;
};

/// A time given to a span instead of now (start_options::start_time,
/// span::end(time), span::add_event(name, time)): nanoseconds since the Unix
/// epoch. Made implicitly from a std::chrono::system_clock::time_point, so
/// calls read as tracing::span's (`span.end(std::chrono::system_clock::now())`)
/// while this header does without <chrono>. Default, and for times at or
/// before the epoch: not given (now).
class unix_time {
 public:
  constexpr unix_time() noexcept = default;
  /// From a system_clock time point (the one standard clock with to_time_t,
  /// which is how it is told from clocks with other epochs). Past 2262 (the
  /// int64 nanosecond range): the range's end.
  template <class TimePoint, class Clock = typename TimePoint::clock,
            class = decltype(Clock::to_time_t(std::declval<typename Clock::time_point>()))>
  constexpr unix_time(const TimePoint& t) noexcept  // NOLINT(google-explicit-constructor): reads as tracing::span's calls
      : ns_(tracing::detail::epoch_nanos<typename TimePoint::period>(t.time_since_epoch().count())) {}
  static constexpr unix_time from_nanoseconds(std::uint64_t since_epoch) noexcept {
    unix_time t;
    t.ns_ = since_epoch > tracing::detail::max_epoch_nanos ? tracing::detail::max_epoch_nanos : since_epoch;
    return t;
  }
  /// Nanoseconds since the epoch; 0: not given.
  constexpr std::uint64_t nanoseconds() const noexcept { return ns_; }

 private:
  std::uint64_t ns_ = 0;
};

/// A span's ids as lowercase hex (NUL-terminated), e.g. for log correlation.
/// Empty strings for a no-op span.
struct span_ids {
  char trace_id[33] = {};
  char span_id[17] = {};
  bool sampled = false;
  bool valid() const noexcept { return trace_id[0] != '\0'; }
};

/// A header carrier seen through plain function pointers, so this header needs
/// no container headers. Built implicitly from any map or multimap of
/// string-like keys and values (std::map, std::unordered_map,
/// httplib::Headers, ...); a const carrier can only be read.
class headers_ref {
 public:
  using visit_fn = void (*)(void* sink, std::string_view key, std::string_view value);

  template <class Carrier>
  headers_ref(Carrier& carrier) noexcept  // NOLINT(google-explicit-constructor): the point is implicit use
      : carrier_(const_cast<std::remove_const_t<Carrier>*>(&carrier)),
        for_each_entry_(&walk<std::remove_const_t<Carrier>>) {
    if constexpr (!std::is_const_v<Carrier>) {
      set_ = &replace<Carrier>;
      erase_ = &remove<Carrier>;
    }
  }

  /// Calls visit(sink, key, value) for every entry, in carrier order.
  void for_each_entry(void* sink, visit_fn visit) const { for_each_entry_(carrier_, sink, visit); }
  /// Replaces every entry named key (in any case) by one key: value. Does nothing on a const carrier.
  void set(std::string_view key, std::string_view value) const {
    if (set_ != nullptr) set_(carrier_, key, value);
  }
  /// Removes every entry named key, in any case. Does nothing on a const carrier.
  void erase(std::string_view key) const {
    if (erase_ != nullptr) erase_(carrier_, key);
  }
  bool writable() const noexcept { return set_ != nullptr; }

 private:
  template <class C>
  static void walk(const void* carrier, void* sink, visit_fn visit) {
    for (const auto& kv : *static_cast<const C*>(carrier)) visit(sink, std::string_view(kv.first), std::string_view(kv.second));
  }
  template <class C>
  static void remove(void* carrier, std::string_view key) {
    C& c = *static_cast<C*>(carrier);
    for (auto it = c.begin(); it != c.end();) {
      if (header_name_equals(std::string_view(it->first), key))
        it = c.erase(it);
      else
        ++it;
    }
  }
  template <class C>
  static void replace(void* carrier, std::string_view key, std::string_view value) {
    remove<C>(carrier, key);
    static_cast<C*>(carrier)->emplace(typename C::key_type(key), typename C::mapped_type(value));
  }

  void* carrier_;
  void (*for_each_entry_)(const void*, void*, visit_fn);
  void (*set_)(void*, std::string_view, std::string_view) = nullptr;
  void (*erase_)(void*, std::string_view) = nullptr;
};

class span;

/// How light::trace_with_retry waits between attempts: tracing::retry_backoff
/// in whole milliseconds (this header does without <chrono>). The wait after
/// failed attempt n is min(max_ms, initial_ms * multiplier^(n-1)), drawn from
/// [wait/2, wait] with jitter. The default never waits.
struct retry_backoff_ms {
  std::int64_t initial_ms = 0;
  double multiplier = 2.0;  // >= 1 and finite
  std::int64_t max_ms = 30000;
  bool jitter = false;
};

namespace impl {
// fn(span&) when it takes the span, else fn(), as instrumentation.hpp's op_call.
template <class F>
decltype(auto) op_call(F&& fn, span& s) {
  if constexpr (std::is_invocable_v<F, span&>) {
    return std::forward<F>(fn)(s);
  } else {
    static_assert(std::is_invocable_v<F>, "light::instrumented_operation: fn must be callable as fn(light::span&) or fn()");
    return std::forward<F>(fn)();
  }
}
// fn(span&, attempt), fn(attempt) or fn(), as instrumentation.hpp's retry_call.
template <class F>
decltype(auto) retry_call(F& fn, span& s, int attempt) {
  if constexpr (std::is_invocable_v<F&, span&, int>) {
    return fn(s, attempt);
  } else if constexpr (std::is_invocable_v<F&, int>) {
    return fn(attempt);
  } else {
    static_assert(std::is_invocable_v<F&>,
                  "light::trace_with_retry: fn must be callable as fn(light::span&, int attempt), fn(int attempt) or fn()");
    return fn();
  }
}
// Out of line: throws std::invalid_argument as tracing::trace_with_retry does.
void validate_retry(int max_attempts, const retry_backoff_ms& backoff);
// Out of line: sleeps for the wait after failed attempt `attempt`.
void retry_sleep(const retry_backoff_ms& backoff, int attempt) noexcept;
// Out of line, inside a handler: rethrows what is not a C++ exception, above
// all glibc's forced unwind (pthread_cancel, pthread_exit), which a handler
// that swallows it turns into an abort.
void rethrow_if_foreign();

}  // namespace impl

#if defined(STREAMBUS_TRACING_DISABLED)

/// Compiled out: a context that is never valid.
class span_context {
 public:
  bool valid() const noexcept { return false; }
  span_ids ids() const noexcept { return {}; }
};

/// Compiled out: options that are accepted and ignored.
struct start_options {
  span_kind kind = span_kind::internal;
  const span_context* parent = nullptr;
  bool new_root = false;
  bool make_current = true;
  unix_time start_time;
};

/// Compiled out: a span that records nothing.
class span {
 public:
  span() noexcept = default;
  ~span() {}  // NOLINT(modernize-use-equals-default): user-provided, so unused spans do not warn
  span(span&&) noexcept = default;
  span& operator=(span&&) noexcept = default;
  span(const span&) = delete;
  span& operator=(const span&) = delete;

  bool is_recording() const noexcept { return false; }
  template <class T>
  span& set_attribute(std::string_view key, const T& value) noexcept {
    static_cast<void>(attribute(key, value));  // the types the compiled-in span takes, and no others
    return *this;
  }
  span& set_attributes(std::initializer_list<attribute>) noexcept { return *this; }
  span& add_event(std::string_view, std::initializer_list<attribute> = {}) noexcept { return *this; }
  span& add_event(std::string_view, unix_time, std::initializer_list<attribute> = {}) noexcept {
    return *this;
  }
  span& set_status(status_code, std::string_view = {}) noexcept { return *this; }
  span& set_name(std::string_view) noexcept { return *this; }
  span& record_error(const std::exception&) noexcept { return *this; }
  span& record_error(std::string_view) noexcept { return *this; }
  template <class C, std::enable_if_t<tracing::detail::is_c_string_v<C>, int> = 0>
  span& record_error(C) noexcept {
    return *this;
  }
  template <class ErrorCode, std::enable_if_t<tracing::detail::is_error_code_v<ErrorCode>, int> = 0>
  span& record_error(const ErrorCode&) noexcept {
    return *this;
  }
  span& add_link(const span_context&) noexcept { return *this; }
  span_ids ids() const noexcept { return {}; }
  span_context context() const noexcept { return {}; }
  void end() noexcept {}
  void end(unix_time) noexcept {}
};

inline span start(tracer&, std::string_view, span_kind = span_kind::internal) noexcept { return {}; }
inline span start(tracer&, std::string_view, const start_options&) noexcept { return {}; }
inline span start(tracer&, std::string_view, const headers_ref&, span_kind) noexcept { return {}; }
inline void inject(const tracer&, const headers_ref&) noexcept {}
inline void inject(const tracer&, const span_context&, const headers_ref&) noexcept {}
inline span_context extract(const tracer&, const headers_ref&) noexcept { return {}; }
/// Compiled out: baggage that stays empty (nothing is read or written).
class baggage {
 public:
  bool empty() const noexcept { return true; }
  std::size_t size() const noexcept { return 0; }
  bool contains(std::string_view) const noexcept { return false; }
  std::string_view get(std::string_view) const noexcept { return {}; }
  std::string_view key_at(std::size_t) const noexcept { return {}; }
  std::string_view value_at(std::size_t) const noexcept { return {}; }
  baggage set(std::string_view, std::string_view) const noexcept { return {}; }
  baggage erase(std::string_view) const noexcept { return {}; }
};
inline baggage extract_baggage(const tracer&, const headers_ref&) noexcept { return {}; }
inline void inject(const tracer&, const span_context&, const baggage&, const headers_ref&) noexcept {}
inline span_ids current_ids(const tracer&) noexcept { return {}; }
inline span_context current_context(const tracer&) noexcept { return {}; }
inline span trace_produce_message(tracer&, std::string_view, std::int32_t, std::string_view, std::string_view) noexcept {
  return {};
}
inline span trace_produce_message(tracer&, std::string_view, std::int32_t, std::string_view, std::string_view,
                                  const headers_ref&) noexcept {
  return {};
}
inline span trace_consume_message(tracer&, std::string_view, std::int32_t, std::int64_t) noexcept { return {}; }
inline span trace_consume_message(tracer&, std::string_view, std::int32_t, std::int64_t, const headers_ref&) noexcept {
  return {};
}
/// Compiled out: fn still runs and its result (or exception) comes back unchanged.
template <class F>
decltype(auto) instrumented_operation(tracer&, std::string_view, F&& fn) {
  span s;
  return impl::op_call(std::forward<F>(fn), s);
}

/// Compiled out: fn still runs, and retries (with their waits) still happen.
template <class F>
decltype(auto) trace_with_retry(tracer&, std::string_view, int max_attempts, F&& fn,
                                const retry_backoff_ms& backoff = {}) {
  impl::validate_retry(max_attempts, backoff);
  for (int attempt = 1;; ++attempt) {
    span s;
    const bool last = attempt == max_attempts;
    using result_type = decltype(impl::retry_call(fn, s, attempt));
    if constexpr (std::is_void_v<result_type>) {
      STREAMBUS_TRACING_LIGHT_TRY {
        impl::retry_call(fn, s, attempt);
        return;
      } STREAMBUS_TRACING_LIGHT_CATCH_ALL {
        impl::rethrow_if_foreign();
        if (last) STREAMBUS_TRACING_LIGHT_RETHROW;
      }
    } else {
      STREAMBUS_TRACING_LIGHT_TRY {
        result_type result = impl::retry_call(fn, s, attempt);
        if (last || !tracing::detail::op_failed(result)) {
          if constexpr (std::is_reference_v<result_type>)
            return static_cast<result_type>(result);
          else
            return result;
        }
      } STREAMBUS_TRACING_LIGHT_CATCH_ALL {
        impl::rethrow_if_foreign();
        if (last) STREAMBUS_TRACING_LIGHT_RETHROW;
      }
    }
    impl::retry_sleep(backoff, attempt);
  }
}

#else

/// A span's context (ids, sampled flag, tracestate) as a value that outlives
/// the span: hand it to another thread or task and start children there
/// (start_options::parent), link to it (span::add_link) or inject it into
/// outgoing headers. A default-constructed one is invalid.
class span_context {
 public:
  span_context() noexcept {}  // NOLINT(modernize-use-equals-default): user-provided, so `const span_context none;` compiles
  span_context(const span_context& other) noexcept {
    if (other.live_) copy(other);
  }
  span_context& operator=(const span_context& other) noexcept {
    if (this != &other) {
      if (live_) destroy();
      if (other.live_) copy(other);
    }
    return *this;
  }
  ~span_context() {
    if (live_) destroy();
  }

  /// True for the context of a span (sampled or not) or of extracted headers.
  bool valid() const noexcept { return live_; }
  /// The ids as hex; empty strings when invalid.
  span_ids ids() const noexcept;

 private:
  friend struct span_access;
  void copy(const span_context& other) noexcept;
  void destroy() noexcept;

  // A valid tracing::span_context lives here while live_ (light_impl.hpp checks the size).
  alignas(8) unsigned char storage_[48];
  bool live_ = false;
};

/// How light::start(tracer, name, options) starts a span.
struct start_options {
  span_kind kind = span_kind::internal;
  /// The parent, e.g. a context handed over from another thread. Null: the
  /// thread's current span. Not null but invalid: a new trace.
  const span_context* parent = nullptr;
  /// With no parent given: ignore the current span and start a new trace.
  bool new_root = false;
  /// Make the span current on this thread until it ends (children nest under
  /// it). Set to false for a span that will end on another thread.
  bool make_current = true;
  /// When the span started, if not now (as tracing::span_options::start_time).
  /// Default (the epoch): now.
  unix_time start_time;
};

/// A tracing::span behind out-of-line calls: records while alive, ends when
/// end() is called or when it goes out of scope. Move-only; a
/// default-constructed span is a valid no-op.
class span {
 public:
  span() noexcept = default;
  span(span&& other) noexcept {
    if (other.live_) take(other);
  }
  span& operator=(span&& other) noexcept {
    if (this != &other) {
      if (live_) destroy();
      if (other.live_) take(other);
    }
    return *this;
  }
  span(const span&) = delete;
  span& operator=(const span&) = delete;
  ~span() {
    if (live_) destroy();
  }

  /// True while the span records (sampled and not yet ended).
  bool is_recording() const noexcept { return recording_; }

  template <class T>
  span& set_attribute(std::string_view key, const T& value) noexcept {
    if (recording_) set(attribute(key, value));
    return *this;
  }
  span& set_attributes(std::initializer_list<attribute> attrs) noexcept {
    if (recording_)
      for (const attribute& a : attrs) set(a);
    return *this;
  }
  span& add_event(std::string_view name, std::initializer_list<attribute> attrs = {}) noexcept;
  /// An event that happened at `time`, kept as given (as tracing::span's).
  span& add_event(std::string_view name, unix_time time,
                  std::initializer_list<attribute> attrs = {}) noexcept;
  span& set_status(status_code code, std::string_view description = {}) noexcept;
  span& set_name(std::string_view name) noexcept;
  /// An `exception` event (type, message) and status ERROR, as tracing::span::record_error.
  span& record_error(const std::exception& e) noexcept;
  span& record_error(std::string_view message) noexcept;
  /// A null message records as "" (std::string_view would read through it).
  /// Char pointers only: a type that converts to both is a string_view.
  template <class C, std::enable_if_t<tracing::detail::is_c_string_v<C>, int> = 0>
  span& record_error(C message) noexcept {
    return record_error(tracing::detail::view_or_empty(message));
  }
  /// An error code (std::error_code, or a type with category().name(),
  /// value() and message()): as tracing::span::record_error(ec), an
  /// `exception` event of type "std::error_code:<category>:<value>" and status
  /// ERROR with its message. The error reporting of code built without
  /// exceptions.
  template <class ErrorCode, std::enable_if_t<tracing::detail::is_error_code_v<ErrorCode>, int> = 0>
  span& record_error(const ErrorCode& ec) noexcept {
    if (recording_) {
      STREAMBUS_TRACING_LIGHT_TRY {  // message() allocates
        record_error_code(std::string_view(ec.category().name()), static_cast<int>(ec.value()), ec.message());
      }
      STREAMBUS_TRACING_LIGHT_CATCH_ALL {}
    }
    return *this;
  }
  /// Links this span to another one (e.g. each message of a consumed batch).
  span& add_link(const span_context& linked) noexcept;
  span_ids ids() const noexcept;
  /// This span's context, to hand to another thread or inject; invalid for a
  /// no-op span. Kept after end(), as tracing::span's.
  span_context context() const noexcept;

  /// Ends the span (idempotent).
  void end() noexcept {
    if (live_) finish();
  }
  /// Ends the span at `time` instead of now (as tracing::span::end(time)).
  void end(unix_time time) noexcept {
    if (live_) finish_at(time);
  }

 private:
  friend struct span_access;
  void take(span& other) noexcept;
  void finish() noexcept;   // ends it; its context stays
  void finish_at(unix_time time) noexcept;
  void destroy() noexcept;  // ends it if need be, and lets go of it
  // One out-of-line call per attribute, typed: the switch is resolved here,
  // where the value's type is known at compile time.
  void set(const attribute& a) noexcept {
    switch (a.value_type()) {
      case attribute::type::boolean: set_bool(a.key(), a.as_bool()); return;
      case attribute::type::signed_integer: set_int64(a.key(), a.as_int64()); return;
      case attribute::type::unsigned_integer: set_uint64(a.key(), a.as_uint64()); return;
      case attribute::type::floating: set_double(a.key(), a.as_double()); return;
      case attribute::type::string: set_string(a.key(), a.as_string()); return;
    }
  }
  void set_bool(std::string_view key, bool value) noexcept;
  void set_int64(std::string_view key, std::int64_t value) noexcept;
  void set_uint64(std::string_view key, std::uint64_t value) noexcept;
  void set_double(std::string_view key, double value) noexcept;
  void set_string(std::string_view key, std::string_view value) noexcept;
  void record_error_code(std::string_view category, int value, std::string_view message) noexcept;

  // A tracing::span lives here while live_ (tracing/light_impl.hpp checks the size).
  alignas(8) unsigned char storage_[96];
  bool live_ = false;
  bool recording_ = false;
};

/// W3C baggage: application key/value pairs that travel with a request in the
/// `baggage` header, apart from the trace context. An immutable value: set()
/// and erase() return a new one, and copies share the entries (no allocation).
/// Read from incoming headers with extract_baggage(), passed on with
/// inject(tracer, context, baggage, headers). Empty when default-constructed.
class baggage {
 public:
  baggage() noexcept = default;
  baggage(const baggage& other) noexcept : impl_(other.impl_) { retain(); }
  baggage(baggage&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
  baggage& operator=(baggage other) noexcept {  // copy or move, then swap
    std::swap(impl_, other.impl_);
    return *this;
  }
  ~baggage() { release(); }

  bool empty() const noexcept { return size() == 0; }
  std::size_t size() const noexcept;
  bool contains(std::string_view key) const noexcept;
  /// The value of `key` (a view into this baggage), empty when absent.
  std::string_view get(std::string_view key) const noexcept;
  /// The i-th entry (i < size()), in header order; views into this baggage.
  std::string_view key_at(std::size_t i) const noexcept;
  std::string_view value_at(std::size_t i) const noexcept;
  /// A new baggage with key = value (replacing an existing key's value, and
  /// dropping its properties: `;`-metadata the light API cannot express). An
  /// unchanged copy if the key is not an RFC 7230 token, or out of memory.
  /// At most 64 entries and 8192 bytes are sent (W3C limits; entries past
  /// them are left out of the header, whole).
  baggage set(std::string_view key, std::string_view value) const noexcept;
  /// A new baggage without `key`.
  baggage erase(std::string_view key) const noexcept;

 private:
  friend struct baggage_access;
  void retain() const noexcept;
  void release() noexcept;
  void* impl_ = nullptr;  // the shared entries (light_impl.hpp); null when empty
};

/// Starts a span under the thread's current span (a new trace if none).
span start(tracer& t, std::string_view name, span_kind kind = span_kind::internal) noexcept;
/// Starts a span as `options` say: explicit parent, new root, not current.
span start(tracer& t, std::string_view name, const start_options& options) noexcept;
/// Starts a span whose parent is read from incoming headers with the tracer's
/// propagators (a new trace if they carry none), e.g. a server or consumer span.
span start(tracer& t, std::string_view name, const headers_ref& incoming, span_kind kind) noexcept;
/// Writes the current span's context into outgoing headers with the tracer's
/// propagators (traceparent, tracestate, ...).
void inject(const tracer& t, const headers_ref& outgoing) noexcept;
/// Writes `context` (e.g. a producer span's that is not current) into
/// outgoing headers; an invalid context writes no trace headers.
void inject(const tracer& t, const span_context& context, const headers_ref& outgoing) noexcept;
/// Reads a context from incoming headers (invalid when they carry none), e.g.
/// to link a batch consumer's span to each message.
span_context extract(const tracer& t, const headers_ref& incoming) noexcept;
/// Reads the baggage of incoming headers (empty when they carry none, or the
/// tracer's propagators do not include `baggage`).
baggage extract_baggage(const tracer& t, const headers_ref& incoming) noexcept;
/// Writes `context` and exactly these baggage entries into outgoing headers
/// (empty baggage removes a baggage header they hold), e.g. to pass a
/// request's baggage on to the services it calls. Through the tracer's
/// propagators: without `baggage` among them (OTEL_PROPAGATORS), no W3C
/// baggage header is written or removed. An invalid context writes no trace
/// headers (and leaves those the headers hold).
void inject(const tracer& t, const span_context& context, const baggage& bag, const headers_ref& outgoing) noexcept;
/// The ids of the thread's current span (light or not), e.g. for log lines
/// written far from the span itself; empty strings when there is none.
span_ids current_ids(const tracer& t) noexcept;
/// The thread's current span's context (light or not); invalid when there is none.
span_context current_context(const tracer& t) noexcept;

/// The messaging helpers of the full header (instrumentation.hpp), with the
/// same spans, names and attributes. A PRODUCER span "send <topic>", current
/// until it ends; with `headers`, its context is written into the message's
/// headers so that the consumer continues the trace.
span trace_produce_message(tracer& t, std::string_view topic, std::int32_t partition, std::string_view key,
                           std::string_view value) noexcept;
span trace_produce_message(tracer& t, std::string_view topic, std::int32_t partition, std::string_view key,
                           std::string_view value, const headers_ref& headers) noexcept;
/// A CONSUMER span "process <topic>": the child of (and linked to) the
/// producer's context read from `headers`; without headers, or when they
/// carry no valid context, a new trace.
span trace_consume_message(tracer& t, std::string_view topic, std::int32_t partition, std::int64_t offset) noexcept;
span trace_consume_message(tracer& t, std::string_view topic, std::int32_t partition, std::int64_t offset,
                           const headers_ref& headers) noexcept;

namespace impl {
// Out of line (light_impl.hpp): how a failure reaches the span, as
// instrumentation.hpp's instrumented_operation records it.
void mark_failed_code(span& s, std::string_view category, int value, std::string_view message) noexcept;
void mark_failed_other(span& s, std::string_view message) noexcept;
void mark_failed_type(span& s, tracing::detail::op_type type, std::string_view message) noexcept;
void mark_failed_exception(span& s, const std::exception_ptr& e) noexcept;
// In a catch block: records the exception being handled on s. A foreign
// exception (a thread's forced unwind) is rethrown at once, unrecorded.
void record_current_exception(span& s);

// detail/op_outcome.hpp's sink: hands the description to `to`'s describe_* calls.
template <class Target>
struct failure_sink {
  Target& to;
  bool described = false;
  void error_code(std::string_view category, int value, std::string_view message) noexcept {
    to.describe_code(category, value, message);
    described = true;
  }
  void other(std::string_view message) noexcept {
    to.describe_other(message);
    described = true;
  }
  void error_type(tracing::detail::op_type type, std::string_view message) noexcept {
    to.describe_type(type, message);
    described = true;
  }
  void exception(const std::exception_ptr& e) noexcept {
    to.describe_exception(e);
    described = true;
  }
};

// Describes a failed result to `to` (out of memory describing it, the failure stands).
template <class Target, class R>
void describe_failure(Target& to, const R& result) noexcept {
  failure_sink<Target> sink{to};
  STREAMBUS_TRACING_LIGHT_TRY {
    tracing::detail::op_describe(result, sink);
  }
  STREAMBUS_TRACING_LIGHT_CATCH_ALL {}
  if (!sink.described) to.describe_other({});
}

// A failure described straight onto a span.
struct span_failure {
  span& s;
  void describe_code(std::string_view category, int value, std::string_view message) noexcept {
    mark_failed_code(s, category, value, message);
  }
  void describe_other(std::string_view message) noexcept { mark_failed_other(s, message); }
  void describe_type(tracing::detail::op_type type, std::string_view message) noexcept {
    mark_failed_type(s, type, message);
  }
  void describe_exception(const std::exception_ptr& e) noexcept { mark_failed_exception(s, e); }
};

template <class R>
void mark_if_failed(span& s, const R& result) noexcept {
  if (!tracing::detail::op_failed(result)) return;
  span_failure to{s};
  describe_failure(to, result);
}

// One trace_with_retry call (light_impl.hpp): the parent span, the attempt
// spans' name and the last failure, kept out of line.
class retry_run {
 public:
  /// Validates (std::invalid_argument, as tracing::trace_with_retry), then
  /// starts the parent span.
  retry_run(tracer& t, std::string_view name, int max_attempts, const retry_backoff_ms& backoff);
  ~retry_run();
  retry_run(const retry_run&) = delete;
  retry_run& operator=(const retry_run&) = delete;

  /// The span of attempt `attempt` (1-based), current until it ends.
  span start_attempt(int attempt) noexcept;
  /// Whether a result failed; a failure marks the attempt span and is kept.
  template <class R>
  bool judge(span& attempt_span, const R& result) noexcept {
    if (!tracing::detail::op_failed(result)) return false;
    describe_failure(*this, result);
    mark_attempt_failed(attempt_span);
    return true;
  }
  /// The last attempt's kept failure marks the parent too.
  void mark_parent_failed() noexcept;
  /// In a catch block: as instrumentation.hpp's retry_attempt_threw (rethrows
  /// the last attempt's exception, and a foreign one at once).
  void attempt_threw(span& attempt_span, bool last);
  /// After a failed attempt: the parent's retry event, then the wait.
  void pause(int attempt) noexcept;

  // failure_sink's calls, into the kept failure.
  void describe_code(std::string_view category, int value, std::string_view message) noexcept;
  void describe_other(std::string_view message) noexcept;
  void describe_type(tracing::detail::op_type type, std::string_view message) noexcept;
  void describe_exception(const std::exception_ptr& e) noexcept;

 private:
  void mark_attempt_failed(span& attempt_span) noexcept;
  struct state;
  state* state_;
};
}  // namespace impl

/// Runs fn in a span named `name` (a child of the current span, current while
/// fn runs) and returns what fn returns, exactly, as the full header's
/// instrumented_operation does, with the same rules for failures (an
/// exception, a non-zero error code, false, an expected-like result without a
/// value: see detail/op_outcome.hpp). fn is called as fn(light::span&) when
/// it accepts the span, else as fn(). An exception is recorded and rethrown
/// unchanged.
template <class F>
decltype(auto) instrumented_operation(tracer& t, std::string_view name, F&& fn) {
  using result_type = decltype(impl::op_call(std::forward<F>(fn), std::declval<span&>()));
  span s = start(t, name);
  if constexpr (std::is_void_v<result_type>) {
    STREAMBUS_TRACING_LIGHT_TRY {
      impl::op_call(std::forward<F>(fn), s);
    } STREAMBUS_TRACING_LIGHT_CATCH_ALL {
      impl::record_current_exception(s);
      STREAMBUS_TRACING_LIGHT_RETHROW;
    }
  } else {
    STREAMBUS_TRACING_LIGHT_TRY {
      result_type result = impl::op_call(std::forward<F>(fn), s);
      if (s.is_recording()) impl::mark_if_failed(s, result);
      if constexpr (std::is_reference_v<result_type>)
        return static_cast<result_type>(result);
      else
        return result;
    } STREAMBUS_TRACING_LIGHT_CATCH_ALL {
      impl::record_current_exception(s);
      STREAMBUS_TRACING_LIGHT_RETHROW;
    }
  }
}

/// The full header's trace_with_retry, with the same spans, events and rules:
/// runs fn up to max_attempts times until it succeeds, under a parent span
/// `name` with one child span `name attempt` per attempt. fn is called as
/// fn(light::span&, int attempt), fn(int attempt) or fn(). Returns the last
/// attempt's result, or rethrows its exception. Waits between attempts as
/// `backoff` says (by default not at all). Throws std::invalid_argument,
/// before calling fn, if max_attempts < 1 or backoff is invalid.
template <class F>
decltype(auto) trace_with_retry(tracer& t, std::string_view name, int max_attempts, F&& fn,
                                const retry_backoff_ms& backoff = {}) {
  using result_type = decltype(impl::retry_call(fn, std::declval<span&>(), 1));
  impl::retry_run run(t, name, max_attempts, backoff);
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == max_attempts;
    {
      span child = run.start_attempt(attempt);
      if constexpr (std::is_void_v<result_type>) {
        STREAMBUS_TRACING_LIGHT_TRY {
          impl::retry_call(fn, child, attempt);
          return;
        } STREAMBUS_TRACING_LIGHT_CATCH_ALL {
          run.attempt_threw(child, last);
        }
      } else {
        STREAMBUS_TRACING_LIGHT_TRY {
          result_type result = impl::retry_call(fn, child, attempt);
          const bool failed = run.judge(child, result);
          if (!failed || last) {
            if (failed) run.mark_parent_failed();
            if constexpr (std::is_reference_v<result_type>)
              return static_cast<result_type>(result);
            else
              return result;
          }
        } STREAMBUS_TRACING_LIGHT_CATCH_ALL {
          run.attempt_threw(child, last);
        }
      }
    }  // the attempt span ends before the wait
    run.pause(attempt);
  }
}

#endif

}  // namespace light

STREAMBUS_TRACING_END_NAMESPACE
