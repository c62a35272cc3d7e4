// The light API's out-of-line functions (light.hpp). Compiled in exactly one
// translation unit: the one that defines STREAMBUS_TRACING_LIGHT_IMPLEMENTATION
// before including <streambus/tracing.hpp>. These definitions are deliberately
// not `inline`: a second such TU fails to link ("multiple definition").
#pragma once

#include <atomic>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "attributes.hpp"
#include "instrumentation.hpp"
#include "light_impl_retry.hpp"
#include "light.hpp"
#include "propagation.hpp"
#include "tracer.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE

/// Lets the configured propagators read and write a light::headers_ref.
template <>
struct carrier_traits<light::headers_ref> {
  template <class F>
  static void for_each_entry(const light::headers_ref& h, F&& f) {
    using fn = std::remove_reference_t<F>;
    void* sink = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
    h.for_each_entry(sink, [](void* s, std::string_view key, std::string_view value) { (*static_cast<fn*>(s))(key, value); });
  }
  template <class F>
  static void for_each(const light::headers_ref& h, std::string_view key, F&& f) {
    for_each_entry(h, [&](std::string_view k, std::string_view value) {
      if (header_name_equals(k, key)) f(value);
    });
  }
  static void set(light::headers_ref& h, std::string_view key, std::string_view value) { h.set(key, value); }
  static void erase(light::headers_ref& h, std::string_view key) { h.erase(key); }
};

namespace light {

struct span_access {
  static tracing::span& real(light::span& s) noexcept { return *std::launder(reinterpret_cast<tracing::span*>(s.storage_)); }
  static const tracing::span& real(const light::span& s) noexcept {
    return *std::launder(reinterpret_cast<const tracing::span*>(s.storage_));
  }
  // Starts a span straight in a light span's storage: start() returns a
  // prvalue, so it is constructed there, with no move and no second object.
  template <class Start>
  static light::span wrap(Start&& start) noexcept {
    static_assert(sizeof(tracing::span) <= sizeof(light::span::storage_), "light::span's storage is too small");
    static_assert(alignof(tracing::span) <= 8, "light::span's storage is under-aligned");
    light::span out;
    const tracing::span* s = ::new (static_cast<void*>(out.storage_)) tracing::span(start());
    out.recording_ = s->is_recording();
    out.live_ = true;
    return out;
  }
  // Takes over a span that the full API built (a helper's result).
  static light::span adopt(tracing::span&& s) noexcept {
    return wrap([&]() noexcept { return std::move(s); });
  }
  // Writes ctx into outgoing headers; out of memory, the message or request goes out untraced.
  static void inject(const tracer& t, const tracing::span_context& ctx, const headers_ref& outgoing) noexcept {
    if (!outgoing.writable()) return;
    try {
      headers_ref writable = outgoing;
      t.inject(ctx, writable);
    } catch (...) {
    }
  }
  static bool is_live(const light::span& s) noexcept { return s.live_; }
  static void record_exception(tracing::span& s, std::string_view type, std::string_view message) noexcept {
    if (s.record_ != nullptr) detail::recorder::record_exception(s.record_, s.state_->limits(), type, message, {});
  }
  static const tracing::span_context& context_of(const light::span& s) noexcept {
    return s.live_ ? real(s).context() : detail::no_context;
  }
  static const tracing::span_context& real(const light::span_context& c) noexcept {
    return c.live_ ? *std::launder(reinterpret_cast<const tracing::span_context*>(c.storage_)) : detail::no_context;
  }
  static light::span_context make_context(const tracing::span_context& ctx) noexcept {
    static_assert(sizeof(tracing::span_context) <= sizeof(light::span_context::storage_),
                  "light::span_context's storage is too small");
    static_assert(alignof(tracing::span_context) <= 8, "light::span_context's storage is under-aligned");
    static_assert(std::is_nothrow_copy_constructible_v<tracing::span_context>, "copying a context must not throw");
    light::span_context out;
    if (ctx.valid()) hold(out, ctx);
    return out;
  }
  // Stores a valid context in a light one that holds none.
  static void hold(light::span_context& to, const tracing::span_context& from) noexcept {
    ::new (static_cast<void*>(to.storage_)) tracing::span_context(from);
    to.live_ = true;
  }
  static span_ids ids_of(const tracing::span_context& ctx) noexcept {
    span_ids out;
    if (!ctx.valid()) return out;
    ctx.trace_id().to_hex(out.trace_id);
    ctx.span_id().to_hex(out.span_id);
    out.sampled = ctx.sampled();
    return out;
  }
  // Calls fn(key, value) with the attribute's value as its own C++ type, so
  // strings go straight into the event's recycled storage (no temporary
  // std::string, no allocation in steady state).
  template <class F>
  static void visit(const attribute& a, F&& fn) {
    switch (a.value_type()) {
      case attribute::type::boolean: fn(a.key(), a.as_bool()); return;
      case attribute::type::signed_integer: fn(a.key(), a.as_int64()); return;
      case attribute::type::unsigned_integer: fn(a.key(), a.as_uint64()); return;
      case attribute::type::floating: fn(a.key(), a.as_double()); return;
      case attribute::type::string: fn(a.key(), a.as_string()); return;
    }
  }
  static void give_start(tracing::span& s, std::uint64_t given) noexcept { s.give_start(given); }
  static void end_given(light::span& s, std::uint64_t given) noexcept { real(s).end_given(given); }
  // `given_time`: as recorder::add_event_with's.
  static void add_event(light::span& s, std::string_view name, std::initializer_list<attribute> attrs,
                        std::uint64_t given_time) noexcept {
    tracing::span& real = span_access::real(s);
    if (real.record_ == nullptr) return;
    const span_limits& limits = real.state_->limits();
    detail::recorder::add_event_with(
        real.record_, limits, name,
        [&](attribute_list& out) {
          for (const attribute& a : attrs)
            visit(a, [&](std::string_view key, const auto& value) {
              out.set(key, value, limits.attributes_per_event, limits.attribute_value_length);
            });
        },
        given_time);
  }
};

void span::take(span& other) noexcept {
  tracing::span& from = span_access::real(other);
  ::new (static_cast<void*>(storage_)) tracing::span(std::move(from));
  from.~span();
  live_ = true;
  recording_ = other.recording_;
  other.live_ = false;
  other.recording_ = false;
}

void span::finish() noexcept {
  span_access::real(*this).end();
  recording_ = false;
}

void span::finish_at(unix_time time) noexcept {
  span_access::end_given(*this, time.nanoseconds());
  recording_ = false;
}

void span::destroy() noexcept {
  span_access::real(*this).~span();  // ends it, if end() did not
  live_ = false;
  recording_ = false;
}

void span::set_bool(std::string_view key, bool value) noexcept { span_access::real(*this).set_attribute(key, value); }
void span::set_int64(std::string_view key, std::int64_t value) noexcept { span_access::real(*this).set_attribute(key, value); }
void span::set_uint64(std::string_view key, std::uint64_t value) noexcept { span_access::real(*this).set_attribute(key, value); }
void span::set_double(std::string_view key, double value) noexcept { span_access::real(*this).set_attribute(key, value); }
void span::set_string(std::string_view key, std::string_view value) noexcept {
  span_access::real(*this).set_attribute(key, value);
}

span& span::add_event(std::string_view name, std::initializer_list<attribute> attrs) noexcept {
  if (recording_) span_access::add_event(*this, name, attrs, 0);
  return *this;
}

span& span::add_event(std::string_view name, unix_time time, std::initializer_list<attribute> attrs) noexcept {
  if (recording_) span_access::add_event(*this, name, attrs, time.nanoseconds());
  return *this;
}

span& span::set_status(status_code code, std::string_view description) noexcept {
  if (recording_) span_access::real(*this).set_status(code, description);
  return *this;
}

span& span::set_name(std::string_view name) noexcept {
  if (recording_) span_access::real(*this).set_name(name);
  return *this;
}

span& span::record_error(const std::exception& e) noexcept {
  if (recording_) span_access::real(*this).record_error(e);
  return *this;
}

span& span::record_error(std::string_view message) noexcept {
  if (recording_) span_access::real(*this).record_error(message);
  return *this;
}

void span::record_error_code(std::string_view category, int value, std::string_view message) noexcept {
  try {
    // tracing::span::record_error(ec)'s event: the same two attributes.
    span_access::record_exception(span_access::real(*this), detail::error_code_exception_type(category, value), message);
  } catch (...) {  // out of memory: nothing recorded
  }
}

span& span::add_link(const span_context& linked) noexcept {
  if (recording_) span_access::real(*this).add_link(span_access::real(linked));
  return *this;
}

span_ids span::ids() const noexcept {
  return live_ ? span_access::ids_of(span_access::real(*this).context()) : span_ids();
}

span_context span::context() const noexcept {
  return live_ ? span_access::make_context(span_access::real(*this).context()) : span_context();
}

void span_context::copy(const span_context& other) noexcept { span_access::hold(*this, span_access::real(other)); }
void span_context::destroy() noexcept {
  std::launder(reinterpret_cast<tracing::span_context*>(storage_))->~span_context();
  live_ = false;
}
span_ids span_context::ids() const noexcept { return span_access::ids_of(span_access::real(*this)); }

// A disabled tracer still passes the current context on (tracer.hpp), and
// the current context may be another tracer's: these read it either way.
span_context current_context(const tracer& t) noexcept { return span_access::make_context(t.current_context()); }

span_ids current_ids(const tracer& t) noexcept { return span_access::ids_of(t.current_context()); }

span start(tracer& t, std::string_view name, span_kind kind) noexcept {
  if (!t.is_enabled() && tracing::detail::thread_context_stack().size() == 0) return span();  // nothing to pass on
  return span_access::wrap([&] { return t.start(name, kind); });
}

span start(tracer& t, std::string_view name, const start_options& options) noexcept {
  tracing::span_options o;  // no links: nothing here allocates
  o.kind = options.kind;
  if (options.parent != nullptr) o.parent.emplace(span_access::real(*options.parent));  // not operator=: g++ 12 -O1 with sanitizers warned (maybe-uninitialized) in its never-taken assign path
  o.new_root = options.new_root;
  o.make_current = options.make_current;
  return span_access::wrap([&] {
    tracing::span s = t.start(name, o);
    span_access::give_start(s, options.start_time.nanoseconds());  // nanoseconds: exact whatever system_clock's period
    return s;
  });
}

span start(tracer& t, std::string_view name, const headers_ref& incoming, span_kind kind) noexcept {
  tracing::span_context parent;
  try {
    parent = t.extract(incoming);
  } catch (...) {
    // Out of memory reading the headers: a new trace, as for absent ones.
  }
  return span_access::wrap([&] { return t.start(name, parent, kind); });  // an invalid parent starts a new trace
}

span_context extract(const tracer& t, const headers_ref& incoming) noexcept {
  try {
    return span_access::make_context(t.extract(incoming));
  } catch (...) {
    return span_context();  // out of memory reading the headers: as if they carried none
  }
}

void inject(const tracer& t, const span_context& context, const headers_ref& outgoing) noexcept {
  span_access::inject(t, span_access::real(context), outgoing);
}

// Baggage: entries shared by copies, freed with the last one.
namespace {
struct shared_baggage {
  std::atomic<long> references{1};
  tracing::baggage entries;
};
// Null for empty baggage (no static empty one: baggage may outlive statics).
const tracing::baggage* entries_of(const void* impl) noexcept {
  return impl != nullptr ? &static_cast<const shared_baggage*>(impl)->entries : nullptr;
}
}  // namespace

struct baggage_access {
  // `fallback` out of memory.
  static light::baggage make(tracing::baggage&& entries, const light::baggage& fallback) noexcept {
    light::baggage out;
    if (entries.empty()) return out;
    auto* shared = new (std::nothrow) shared_baggage;
    if (shared == nullptr) return fallback;
    shared->entries = std::move(entries);
    out.impl_ = shared;
    return out;
  }
  static const tracing::baggage* entries(const light::baggage& b) noexcept { return entries_of(b.impl_); }
};

void baggage::retain() const noexcept {
  if (impl_ != nullptr) static_cast<shared_baggage*>(impl_)->references.fetch_add(1, std::memory_order_relaxed);
}
void baggage::release() noexcept {
  auto* shared = static_cast<shared_baggage*>(std::exchange(impl_, nullptr));
  if (shared != nullptr && shared->references.fetch_sub(1, std::memory_order_acq_rel) == 1) delete shared;
}
std::size_t baggage::size() const noexcept {
  const tracing::baggage* all = entries_of(impl_);
  return all != nullptr ? all->size() : 0;
}
bool baggage::contains(std::string_view key) const noexcept {
  const tracing::baggage* all = entries_of(impl_);
  return all != nullptr && all->find(key) != nullptr;
}
std::string_view baggage::get(std::string_view key) const noexcept {
  const tracing::baggage* all = entries_of(impl_);
  const tracing::baggage::entry* e = all != nullptr ? all->find(key) : nullptr;
  return e != nullptr ? std::string_view(e->value) : std::string_view();
}
std::string_view baggage::key_at(std::size_t i) const noexcept {
  const tracing::baggage* all = entries_of(impl_);
  return all != nullptr && i < all->size() ? std::string_view(all->entries()[i].key) : std::string_view();
}
std::string_view baggage::value_at(std::size_t i) const noexcept {
  const tracing::baggage* all = entries_of(impl_);
  return all != nullptr && i < all->size() ? std::string_view(all->entries()[i].value) : std::string_view();
}
baggage baggage::set(std::string_view key, std::string_view value) const noexcept {
  if (!tracing::baggage::valid_key(key)) return *this;
  try {
    const tracing::baggage* all = entries_of(impl_);
    return baggage_access::make(all != nullptr ? all->set(key, value) : tracing::baggage().set(key, value), *this);
  } catch (...) {
    return *this;  // out of memory: unchanged
  }
}
baggage baggage::erase(std::string_view key) const noexcept {
  if (!contains(key)) return *this;
  try {
    return baggage_access::make(entries_of(impl_)->erase(key), *this);
  } catch (...) {
    return *this;
  }
}

baggage extract_baggage(const tracer& t, const headers_ref& incoming) noexcept {
  try {
    return baggage_access::make(t.extract_with_baggage(incoming).second, baggage());
  } catch (...) {
    return baggage();  // out of memory reading the headers: as if they carried none
  }
}

void inject(const tracer& t, const span_context& context, const baggage& bag, const headers_ref& outgoing) noexcept {
  if (!outgoing.writable()) return;
  try {
    headers_ref writable = outgoing;
    const tracing::baggage* entries = baggage_access::entries(bag);
    t.inject(span_access::real(context), entries != nullptr ? *entries : tracing::baggage(), writable);
  } catch (...) {
    // Out of memory while writing headers: the request goes out untraced.
  }
}

void inject(const tracer& t, const headers_ref& outgoing) noexcept {
  if (!outgoing.writable()) return;
  try {
    headers_ref writable = outgoing;
    t.inject(writable);
  } catch (...) {
    // Out of memory while writing headers: the request goes out untraced.
  }
}

// The messaging helpers: the full header's, adopted into light spans. They
// only throw out of memory (naming the span), which leaves the message untraced.
span trace_produce_message(tracer& t, std::string_view topic, std::int32_t partition, std::string_view key,
                           std::string_view value) noexcept {
  try {
    return span_access::adopt(tracing::trace_produce_message(t, topic, partition, key, value));
  } catch (...) {
    return span();
  }
}

span trace_produce_message(tracer& t, std::string_view topic, std::int32_t partition, std::string_view key,
                           std::string_view value, const headers_ref& headers) noexcept {
  span s = light::trace_produce_message(t, topic, partition, key, value);
  span_access::inject(t, span_access::context_of(s), headers);  // an invalid context writes no trace headers
  return s;
}

span trace_consume_message(tracer& t, std::string_view topic, std::int32_t partition, std::int64_t offset) noexcept {
  try {
    return span_access::adopt(tracing::trace_consume_message(t, topic, partition, offset));
  } catch (...) {
    return span();
  }
}

span trace_consume_message(tracer& t, std::string_view topic, std::int32_t partition, std::int64_t offset,
                           const headers_ref& headers) noexcept {
  try {
    return span_access::adopt(tracing::trace_consume_message(t, topic, partition, offset, headers));
  } catch (...) {
    return span();
  }
}

// instrumented_operation's failures, recorded by the full header's rules.
namespace impl {

// Writes a failure's description into the full API's op_failure with
// describe(text); out of memory, the failure stands, described or not.
template <class Describe>
void describe_into(tracing::detail::op_failure& f, Describe&& describe) noexcept {
  try {
    tracing::detail::op_failure_text text{f};
    describe(text);
  } catch (...) {
  }
}

// Describes the failure, then marks the span as instrumentation.hpp does.
template <class Describe>
void mark_failed_with(span& s, Describe&& describe) noexcept {
  if (!s.is_recording()) return;
  tracing::detail::op_failure f;
  describe_into(f, std::forward<Describe>(describe));
  f.failed = true;
  tracing::detail::op_mark_failed(span_access::real(s), f);
}

void mark_failed_code(span& s, std::string_view category, int value, std::string_view message) noexcept {
  mark_failed_with(s, [&](auto& text) { text.error_code(category, value, message); });
}

void mark_failed_other(span& s, std::string_view message) noexcept {
  mark_failed_with(s, [&](auto& text) { text.other(message); });
}

void mark_failed_type(span& s, tracing::detail::op_type type, std::string_view message) noexcept {
  mark_failed_with(s, [&](auto& text) { text.error_type(type, message); });
}

void mark_failed_exception(span& s, const std::exception_ptr& e) noexcept {
  if (s.is_recording()) tracing::detail::op_mark_failed(span_access::real(s), tracing::detail::op_describe_exception(e));
}

void record_current_exception(span& s) {
  tracing::detail::rethrow_if_foreign();
  if (s.is_recording()) tracing::detail::op_record_current_exception(span_access::real(s));
}

// trace_with_retry's state and steps: instrumentation.hpp's, on a light span.
struct retry_run::state {
  tracer& t;
  retry_backoff backoff;
  tracing::span parent;
  std::string attempt_name;
  tracing::detail::op_failure failure;
};

retry_run::retry_run(tracer& t, std::string_view name, int max_attempts, const retry_backoff_ms& backoff) {
  const retry_backoff b = to_retry_backoff(backoff);
  tracing::detail::validate_retry(max_attempts, b);
  state_ = new state{t, b, t.start(name), tracing::detail::retry_attempt_name(t, name), {}};
  state_->parent.set_attribute(tracing::detail::retry_max_attempts_key, max_attempts);
}

retry_run::~retry_run() { delete state_; }

span retry_run::start_attempt(int attempt) noexcept {
  state_->parent.set_attribute(tracing::detail::retry_attempt_count_key, attempt);
  state_->failure = tracing::detail::op_failure{};
  span child = span_access::wrap([&] { return state_->t.start(state_->attempt_name); });
  span_access::real(child).set_attribute(tracing::detail::retry_attempt_key, attempt);
  return child;
}

void retry_run::describe_code(std::string_view category, int value, std::string_view message) noexcept {
  describe_into(state_->failure, [&](auto& text) { text.error_code(category, value, message); });
}

void retry_run::describe_other(std::string_view message) noexcept {
  describe_into(state_->failure, [&](auto& text) { text.other(message); });
}

void retry_run::describe_type(tracing::detail::op_type type, std::string_view message) noexcept {
  describe_into(state_->failure, [&](auto& text) { text.error_type(type, message); });
}

void retry_run::describe_exception(const std::exception_ptr& e) noexcept {
  state_->failure = tracing::detail::op_describe_exception(e);
}

void retry_run::mark_attempt_failed(span& attempt_span) noexcept {
  state_->failure.failed = true;
  if (attempt_span.is_recording()) tracing::detail::op_mark_failed(span_access::real(attempt_span), state_->failure);
}

void retry_run::mark_parent_failed() noexcept { tracing::detail::op_mark_failed(state_->parent, state_->failure); }

void retry_run::attempt_threw(span& attempt_span, bool last) {
  tracing::span none;  // fn(light::span&, int) may have moved the attempt span away
  tracing::span& attempt = span_access::is_live(attempt_span) ? span_access::real(attempt_span) : none;
  tracing::detail::retry_attempt_threw(attempt, state_->parent, last, state_->failure);
}

void retry_run::pause(int attempt) noexcept {
  try {
    tracing::detail::retry_pause(state_->parent, attempt, state_->backoff, state_->failure);
  } catch (...) {
  }
}

}  // namespace impl

}  // namespace light

STREAMBUS_TRACING_END_NAMESPACE
