// Instrumentation helpers: an operation in a span, a retried operation with
// one span per attempt, and the spans of a message's produce -> consume hop.
//
//   auto n = instrumented_operation(tracer, "db.load", [&](span& s) { return load(s); });
//   auto r = trace_with_retry(tracer, "fetch", 3, [&](int attempt) { return fetch(); },
//                             retry_backoff{std::chrono::milliseconds(50)});
//
//   auto send = trace_produce_message(tracer, "orders", 0, key, value, message.headers);
//   ...
//   auto process = trace_consume_message(tracer, "orders", 0, offset, message.headers);
//
// Everything here uses only the API that tracer.hpp and disabled.hpp share,
// so it compiles unchanged with STREAMBUS_TRACING_DISABLED: the callables
// still run, results are still returned, exceptions still propagate and
// retries still wait; only the spans are gone.
//
// What counts as a failed operation (the span gets status ERROR, error.type
// and a status description; the result is returned unchanged):
//   - an exception: recorded with span::record_error (an `exception` event),
//     error.type = its dynamic type name (for one that is not a std::exception,
//     its type where the ABI tells it, e.g. "int"; else "_OTHER"),
//     then rethrown as is (`throw;`: same object, same type);
//   - a non-zero std::error_code (or error_condition, or a look-alike such
//     as boost::system::error_code): error.type = "<category>:<value>"
//     (e.g. "generic:111"), description = ec.message();
//   - bool false: error.type = "_OTHER", description "returned false";
//   - an expected-like result (has has_value() and error(), e.g. C++23
//     std::expected) without a value: described by its error when that is an
//     error code, std::errc (or another enum that make_error_code accepts),
//     std::exception_ptr or a string; otherwise error.type is the error's
//     type name.
// Anything else (including void) is a success. (The rules are in
// detail/op_outcome.hpp, shared with the light API.) Success leaves the status
// unset, as OpenTelemetry recommends for instrumentation: OK is for an
// application that wants to override an error decision, and it is final.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <utility>

// The tracer and span come from the umbrella header, which includes this
// file after them (here the include is a no-op); included on its own, this
// pulls in the umbrella first. Naming tracer.hpp / disabled.hpp here instead
// would make the single-header generator inline a second, guarded copy of
// the whole tracer tree.
#include "../tracing.hpp"
#include "detail/op_outcome.hpp"
#include "detail/float_class.hpp"
#include "detail/random.hpp"

#if defined(__GNUC__)
#include <cxxabi.h>  // abi::__cxa_current_exception_type (libstdc++ and libc++abi)
#endif

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// How long trace_with_retry waits between attempts. The wait after failed
/// attempt n (1-based) is min(max, initial * multiplier^(n-1)); with jitter
/// it is drawn uniformly from [wait/2, wait] so that many callers retrying
/// the same dependency spread out. The default never waits.
struct retry_backoff {
  std::chrono::milliseconds initial{0};
  double multiplier = 2.0;  // >= 1 and finite
  std::chrono::milliseconds max{std::chrono::seconds(30)};
  bool jitter = false;
};

namespace detail {

// Why an operation failed, as span status and error.type say it.
struct op_failure {
  bool failed = false;
  std::string type;     // error.type: low cardinality
  std::string message;  // status description
};

template <int = 0>
inline std::string op_type_name(const std::type_info& info) {
#if defined(STREAMBUS_TRACING_DISABLED)
  return info.name();  // never recorded when compiled out
#else
  return demangle(info.name());
#endif
}
template <int = 0>
inline std::string op_type_name(op_type type) {
  return type.info != nullptr ? op_type_name(*type.info) : std::string(type.name);
}

// The type of the exception being handled that is not a std::exception
// (`throw 42` gives "int"), for exception.type and error.type; "_OTHER" where
// the ABI cannot tell or memory runs out (a short string: no allocation).
// Call only inside a catch block.
template <int = 0>
inline std::string op_current_exception_type() noexcept {
  try {
#if defined(__GNUC__)
    if (const std::type_info* type = abi::__cxa_current_exception_type()) return op_type_name(*type);
#endif
  } catch (...) {
  }
  return "_OTHER";
}

// The type of the std::exception `e` being handled, for exception.type and
// error.type. From the exception-handling ABI where there is one: typeid(e)
// needs RTTI, and crashes on a class compiled with -fno-rtti (no type
// information in its vtable) where files with and without RTTI are mixed.
// Call only inside the catch block that caught e.
template <int Rtti = STREAMBUS_TRACING_HAS_RTTI>
inline std::string op_handled_exception_type(const std::exception& e) noexcept {
  static_assert(Rtti == STREAMBUS_TRACING_HAS_RTTI, "use the default argument");
#if defined(__GNUC__)
  static_cast<void>(e);
  return op_current_exception_type();
#elif STREAMBUS_TRACING_HAS_RTTI
  try {
    return op_type_name(typeid(e));
  } catch (...) {
    return "_OTHER";  // out of memory (a short string: no allocation)
  }
#else
  static_cast<void>(e);
  return "std::exception";
#endif
}

// Rethrows the exception being handled if it is not a C++ exception: above
// all glibc's forced unwind (pthread_cancel, pthread_exit), which aborts the
// process if a catch (...) swallows it, and which describing would swallow.
// Call only inside a catch block.
template <int = 0>
inline void rethrow_if_foreign() {
#if defined(__GNUC__)
  if (abi::__cxa_current_exception_type() == nullptr) throw;
#endif
}

// Describes the exception being handled; call only inside a catch block.
// Rethrowing it here is how its type is found without knowing it (the
// exception_ptr route would allocate).
template <int = 0>
inline op_failure op_describe_current_exception() noexcept {
  op_failure f;
  f.failed = true;
  try {
    try {
      throw;
    } catch (const std::exception& e) {
      f.message = what_of(e);
      f.type = op_handled_exception_type(e);
    } catch (...) {
      f.message = "unknown exception";
      f.type = op_current_exception_type();
    }
  } catch (...) {  // out of memory while describing: keep what we have
  }
  return f;
}

template <int = 0>
inline op_failure op_describe_exception(const std::exception_ptr& ep) noexcept {
  if (!ep) {
    op_failure f;
    f.failed = true;
    try {
      f.type = "_OTHER";
      f.message = "null exception_ptr";
    } catch (...) {
    }
    return f;
  }
  try {
    std::rethrow_exception(ep);
  } catch (...) {
    return op_describe_current_exception();
  }
}

// Records the exception being handled on s (event, status, error.type);
// call only inside a catch block.
template <int = 0>
inline void op_record_current_exception(span& s) noexcept {
  if (!s.is_recording()) return;
  try {
    throw;
  } catch (const std::exception& e) {
    const std::string type = op_handled_exception_type(e);
    s.record_error(what_of(e), {{"exception.type", type}});
    s.set_attribute("error.type", type);
  } catch (...) {
    const std::string type = op_current_exception_type();
    s.record_error("unknown exception", {{"exception.type", type}});
    s.set_attribute("error.type", type);
  }
}

// Writes a failure's description (detail/op_outcome.hpp's sink) into an op_failure.
struct op_failure_text {
  op_failure& out;
  void error_code(std::string_view category, int value, std::string_view message) {
    out.type = std::string(category) + ":" + std::to_string(value);
    out.message = std::string(message);
  }
  void other(std::string_view message) {
    out.type = "_OTHER";
    out.message = std::string(message);
  }
  void error_type(op_type type, std::string_view message) {
    out.type = op_type_name(type);
    out.message = std::string(message);
  }
  void exception(const std::exception_ptr& e) { out = op_describe_exception(e); }
};

// Whether a result says the operation failed, and why.
template <class R>
op_failure op_classify(const R& r) noexcept {
  op_failure f;
  f.failed = op_failed(r);
  if (!f.failed) return f;
  try {
    op_failure_text text{f};
    op_describe(r, text);
  } catch (...) {  // a description is best effort; the failure stands
  }
  return f;
}

template <int = 0>
inline void op_mark_failed(span& s, const op_failure& f) noexcept {
  if (!f.failed || !s.is_recording()) return;
  s.set_attribute("error.type", f.type);
  s.set_status(status_code::error, f.message);
}

// fn(span&) when it takes the span, else fn().
template <class F>
decltype(auto) op_call(F&& fn, span& s) {
  if constexpr (std::is_invocable_v<F, span&>) {
    return std::invoke(std::forward<F>(fn), s);
  } else {
    static_assert(std::is_invocable_v<F>,
                  "instrumented_operation: fn must be callable as fn(span&) or fn()");
    return std::invoke(std::forward<F>(fn));
  }
}

// fn(span&, attempt) when it takes the span, else fn(attempt), else fn().
template <class F>
decltype(auto) retry_call(F& fn, span& s, int attempt) {
  if constexpr (std::is_invocable_v<F&, span&, int>) {
    return std::invoke(fn, s, attempt);
  } else if constexpr (std::is_invocable_v<F&, int>) {
    return std::invoke(fn, attempt);
  } else {
    static_assert(std::is_invocable_v<F&>,
                  "trace_with_retry: fn must be callable as fn(span&, int attempt), fn(int attempt) or fn()");
    return std::invoke(fn);
  }
}

template <int = 0>
inline void validate_retry(int max_attempts, const retry_backoff& b) {
  if (max_attempts < 1)
    throw std::invalid_argument("trace_with_retry: max_attempts must be at least 1 (got " +
                                std::to_string(max_attempts) + ")");
  if (b.initial.count() < 0 || b.max.count() < 0)
    throw std::invalid_argument("trace_with_retry: retry_backoff durations must not be negative");
  if (!is_finite_double(b.multiplier) || b.multiplier < 1.0)  // not std::isfinite: -ffast-math folds it
    throw std::invalid_argument("trace_with_retry: retry_backoff::multiplier must be finite and >= 1 (got " +
                                std::to_string(b.multiplier) + ")");
}

// The wait after failed attempt `failed_attempt` (1-based).
template <int = 0>
inline std::chrono::milliseconds retry_delay(const retry_backoff& b, int failed_attempt) noexcept {
  if (b.initial.count() <= 0 || b.max.count() <= 0) return std::chrono::milliseconds(0);
  // Below 2^63 ms: double(INT64_MAX) rounds up to 2^63, which does not
  // convert back (UB; with max = milliseconds::max() it gave -2^63 ms).
  const double cap = std::min(static_cast<double>(b.max.count()), 9.0e18);
  // pow may overflow to infinity; the cap takes care of it.
  double wait = static_cast<double>(b.initial.count()) * std::pow(b.multiplier, failed_attempt - 1);
  if (is_nan_double(wait) || !(wait <= cap)) wait = cap;
  if (b.jitter) {
    const double unit = static_cast<double>(random_nonzero_u64() >> 11) * 0x1.0p-53;  // [0, 1)
    wait = wait / 2 + wait / 2 * unit;
  }
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(wait));
}

// Attribute keys that no semantic convention defines (documented at trace_with_retry).
inline constexpr std::string_view retry_attempt_key = "retry.attempt";
inline constexpr std::string_view retry_attempt_count_key = "retry.attempt_count";
inline constexpr std::string_view retry_max_attempts_key = "retry.max_attempts";

// The steps of trace_with_retry's loop that the light API's loop shares.

// In a catch block, for an attempt that threw: recorded on its span; the
// last attempt's exception is also recorded on the parent and rethrown, an
// earlier one is kept in `failure` for the retry event.
template <int = 0>
inline void retry_attempt_threw(span& attempt_span, span& parent, bool last, op_failure& failure) {
  rethrow_if_foreign();
  op_record_current_exception(attempt_span);
  if (last) {
    op_record_current_exception(parent);
    throw;
  }
  if (parent.is_recording()) failure = op_describe_current_exception();
  failure.failed = true;
}

// After failed attempt `attempt`: the parent's `retry` event, then the wait.
template <int = 0>
inline void retry_pause(span& parent, int attempt, const retry_backoff& backoff, const op_failure& failure) {
  const std::chrono::milliseconds delay = retry_delay(backoff, attempt);
  if (parent.is_recording()) {
    // The list views failure's strings (attribute_arg): building it cannot throw.
    parent.add_event("retry", {{retry_attempt_key, attempt},
                               {"retry.delay_ms", static_cast<std::int64_t>(delay.count())},
                               {"error.type", failure.type},
                               {"error.message", failure.message}});
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

// "<name> attempt", the attempt spans' name (empty when nothing is traced).
template <int = 0>
inline std::string retry_attempt_name(const tracer& t, std::string_view name) {
  std::string attempt_name;
  if (t.is_enabled()) {
    attempt_name.reserve(name.size() + 8);
    attempt_name.append(name.data(), name.size());
    attempt_name += " attempt";
  }
  return attempt_name;
}

}  // namespace detail

/// Runs fn in a span named `name` (a child of the current span, current
/// while fn runs) and returns what fn returns, exactly: values, references
/// and void alike. fn is called as fn(span&) when it accepts the span, else
/// as fn(). Failures (see the top of this file) mark the span ERROR; an
/// exception is recorded and rethrown unchanged.
template <class F>
decltype(auto) instrumented_operation(tracer& t, std::string_view name, F&& fn) {
  using result_type = decltype(detail::op_call(std::forward<F>(fn), std::declval<span&>()));
  span s = t.start(name);
  if constexpr (std::is_void_v<result_type>) {
    try {
      detail::op_call(std::forward<F>(fn), s);
    } catch (...) {
      detail::rethrow_if_foreign();
      detail::op_record_current_exception(s);
      throw;
    }
  } else {
    try {
      result_type result = detail::op_call(std::forward<F>(fn), s);
      detail::op_mark_failed(s, detail::op_classify(result));
      if constexpr (std::is_reference_v<result_type>)
        return static_cast<result_type>(result);
      else
        return result;
    } catch (...) {
      detail::rethrow_if_foreign();
      detail::op_record_current_exception(s);
      throw;
    }
  }
}

/// Runs fn up to max_attempts times until it succeeds (success and failure
/// as for instrumented_operation), tracing it as:
///
///   `name`                  retry.max_attempts, retry.attempt_count;
///   |                       status, error.type: the last attempt's
///   |                       one `retry` event per retry: retry.attempt (the
///   |                       failed one), retry.delay_ms, error.type, error.message
///   +-- `name attempt`      retry.attempt = 1; status ERROR if it failed
///   +-- `name attempt`      retry.attempt = 2 ...
///
/// No semantic convention covers generic retries, so these retry.* keys are
/// ours (for HTTP client spans the convention is http.request.resend_count
/// = attempt - 1, which the caller can set from the attempt span).
///
/// fn is called as fn(span& attempt_span, int attempt), fn(int attempt) or
/// fn(), attempt being 1-based. Returns the last attempt's result; if the
/// last attempt threw, that exception is rethrown unchanged (earlier ones are
/// recorded on their attempt spans and swallowed). Between attempts the
/// calling thread sleeps as `backoff` says (without one: not at all).
///
/// Throws std::invalid_argument, before calling fn, if max_attempts < 1 or
/// backoff is invalid (negative durations, multiplier < 1 or not finite).
template <class F>
decltype(auto) trace_with_retry(tracer& t, std::string_view name, int max_attempts, F&& fn,
                                const retry_backoff& backoff) {
  using result_type = decltype(detail::retry_call(fn, std::declval<span&>(), 1));
  detail::validate_retry(max_attempts, backoff);

  span parent = t.start(name);
  parent.set_attribute(detail::retry_max_attempts_key, max_attempts);
  const std::string attempt_name = detail::retry_attempt_name(t, name);

  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == max_attempts;
    parent.set_attribute(detail::retry_attempt_count_key, attempt);
    detail::op_failure failure;
    {
      span child = t.start(attempt_name);
      child.set_attribute(detail::retry_attempt_key, attempt);
      if constexpr (std::is_void_v<result_type>) {
        try {
          detail::retry_call(fn, child, attempt);
        } catch (...) {
          detail::retry_attempt_threw(child, parent, last, failure);
        }
        if (!failure.failed) return;
      } else {
        try {
          result_type result = detail::retry_call(fn, child, attempt);
          failure = detail::op_classify(result);
          detail::op_mark_failed(child, failure);
          if (!failure.failed || last) {
            detail::op_mark_failed(parent, failure);
            if constexpr (std::is_reference_v<result_type>)
              return static_cast<result_type>(result);
            else
              return result;
          }
        } catch (...) {
          detail::retry_attempt_threw(child, parent, last, failure);
        }
      }
    }  // the attempt span ends before the wait
    detail::retry_pause(parent, attempt, backoff, failure);
  }
}

/// As above, with no wait between attempts. (An overload rather than a
/// default argument, so that the declaration works with retry_backoff
/// incomplete, e.g. forward-declared for tracer's member wrappers.)
template <class F>
decltype(auto) trace_with_retry(tracer& t, std::string_view name, int max_attempts, F&& fn) {
  return trace_with_retry(t, name, max_attempts, std::forward<F>(fn), retry_backoff{});
}

// --- messaging ---------------------------------------------------------------

/// The messaging.system value of these helpers.
inline constexpr std::string_view messaging_system = "streambus";

namespace detail {

// A span name "<first> <second>" (just <first> when second is empty), built
// on the stack when it fits: the span copies it into its own buffer, so
// naming a span per message or request costs no allocation. Messaging spans
// use it for "{messaging.operation.name} {destination}" (the destination left
// out when unknown), http.hpp for "<method> <route>".
class joined_name {
 public:
  joined_name(std::string_view first, std::string_view second) {
    const std::size_t size = first.size() + (second.empty() ? 0 : 1 + second.size());
    char* out = stack_;
    if (size > sizeof stack_) {
      heap_.resize(size);
      out = &heap_[0];
    }
    std::memcpy(out, first.data(), first.size());
    if (!second.empty()) {
      out[first.size()] = ' ';
      std::memcpy(out + first.size() + 1, second.data(), second.size());
    }
    name_ = std::string_view(out, size);
  }
  joined_name(const joined_name&) = delete;  // name_ may point into stack_
  joined_name& operator=(const joined_name&) = delete;

  std::string_view view() const noexcept { return name_; }

 private:
  char stack_[128];
  std::string heap_;
  std::string_view name_;
};

template <int = 0>
inline void set_messaging_attributes(span& s, std::string_view operation, std::string_view topic,
                                     std::int32_t partition) {
  s.set_attribute("messaging.system", messaging_system);
  s.set_attribute("messaging.operation.type", operation);
  s.set_attribute("messaging.operation.name", operation);
  if (!topic.empty()) s.set_attribute("messaging.destination.name", topic);
  if (partition >= 0) s.set_attribute("messaging.destination.partition.id", std::to_string(partition));
}

template <int = 0>
inline span start_consume_span(tracer& t, std::string_view topic, std::int32_t partition, std::int64_t offset,
                               const span_context& producer) {
  // An invalid producer context starts a new trace: the consuming thread's
  // current span is not the message's cause.
  span s = t.start(joined_name("process", topic).view(), producer, span_kind::consumer);
  if (producer.valid()) s.add_link(producer);  // into the record's reused storage, not options.links
  if (s.is_recording()) {
    set_messaging_attributes(s, "process", topic, partition);
    s.set_attribute("messaging.streambus.message.offset", offset);
  }
  return s;
}

}  // namespace detail

/// Starts the PRODUCER span of sending one message: named "send <topic>"
/// (OpenTelemetry messaging: "{messaging.operation.name} {destination}"),
/// current until it ends, with messaging.system = "streambus",
/// messaging.operation.type = messaging.operation.name = "send",
/// messaging.destination.name, messaging.destination.partition.id (when
/// partition >= 0), messaging.message.body.size = value.size() and, when key
/// is not empty, messaging.streambus.message.key (as Kafka's
/// messaging.kafka.message.key; an empty key counts as no key).
template <int = 0>
inline span trace_produce_message(tracer& t, std::string_view topic, std::int32_t partition, std::string_view key,
                                  std::string_view value) {
  span s = t.start(detail::joined_name("send", topic).view(), span_kind::producer);
  if (s.is_recording()) {
    detail::set_messaging_attributes(s, "send", topic, partition);
    s.set_attribute("messaging.message.body.size", static_cast<std::int64_t>(value.size()));
    if (!key.empty()) s.set_attribute("messaging.streambus.message.key", key);
  }
  return s;
}

/// As above, and writes the new span's context (traceparent, tracestate)
/// into the message's headers (any carrier inject accepts), so that the
/// consumer continues this trace.
template <class Headers>
span trace_produce_message(tracer& t, std::string_view topic, std::int32_t partition, std::string_view key,
                           std::string_view value, Headers& headers) {
  span s = trace_produce_message(t, topic, partition, key, value);
  t.inject(s.context(), headers);
  return s;
}

/// Starts the CONSUMER span of processing one message: named
/// "process <topic>", current until it ends, with messaging.system,
/// messaging.operation.type = messaging.operation.name = "process",
/// messaging.destination.name, messaging.destination.partition.id (when
/// partition >= 0) and messaging.streambus.message.offset (the offset being
/// per message, it goes under messaging.{system}.message.*).
///
/// The producer's context is read from the headers. When it is valid the
/// span is its child (one trace per message, end to end) AND links to it:
/// the messaging conventions ask "process" spans to link to the message's
/// creation context, and the link keeps the relation visible to tools that
/// split traces at message boundaries. Without a valid context the span
/// starts a new trace; it never silently joins whatever span happens to be
/// current on the consumer thread.
template <class Headers>
span trace_consume_message(tracer& t, std::string_view topic, std::int32_t partition, std::int64_t offset,
                           const Headers& headers) {
  return detail::start_consume_span(t, topic, partition, offset, t.extract(headers));
}

/// For a message without headers: always a new trace.
template <int = 0>
inline span trace_consume_message(tracer& t, std::string_view topic, std::int32_t partition, std::int64_t offset) {
  return detail::start_consume_span(t, topic, partition, offset, span_context{});
}

// --- tracer's member wrappers (declared in tracer.hpp and disabled.hpp) ---------

template <class F>
decltype(auto) tracer::instrumented_operation(std::string_view name, F&& fn) {
  return streambus::tracing::instrumented_operation(*this, name, std::forward<F>(fn));
}

template <class F>
decltype(auto) tracer::trace_with_retry(std::string_view name, int max_attempts, F&& fn) {
  return streambus::tracing::trace_with_retry(*this, name, max_attempts, std::forward<F>(fn));
}

template <class F>
decltype(auto) tracer::trace_with_retry(std::string_view name, int max_attempts, F&& fn,
                                        const retry_backoff& backoff) {
  return streambus::tracing::trace_with_retry(*this, name, max_attempts, std::forward<F>(fn), backoff);
}

template <int>
inline span tracer::trace_produce_message(std::string_view topic, std::int32_t partition, std::string_view key,
                                          std::string_view value) {
  return streambus::tracing::trace_produce_message(*this, topic, partition, key, value);
}

template <class Headers>
span tracer::trace_produce_message(std::string_view topic, std::int32_t partition, std::string_view key,
                                   std::string_view value, Headers& headers) {
  return streambus::tracing::trace_produce_message(*this, topic, partition, key, value, headers);
}

template <class Headers>
span tracer::trace_consume_message(std::string_view topic, std::int32_t partition, std::int64_t offset,
                                   const Headers& headers) {
  return streambus::tracing::trace_consume_message(*this, topic, partition, offset, headers);
}

template <int>
inline span tracer::trace_consume_message(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  return streambus::tracing::trace_consume_message(*this, topic, partition, offset);
}


STREAMBUS_TRACING_END_NAMESPACE
