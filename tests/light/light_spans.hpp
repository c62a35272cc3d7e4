// What light_spans.cpp (light header only) offers test_light.cpp.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <streambus/tracing_light.hpp>

streambus::tracing::light::span_ids light_plain_span(streambus::tracing::tracer& tracer);
streambus::tracing::light::span_ids light_full_span(streambus::tracing::tracer& tracer);
streambus::tracing::light::span_ids light_error_span(streambus::tracing::tracer& tracer);
// A span named "light.error_code" that records std::errc::connection_refused.
void light_error_code_span(streambus::tracing::tracer& tracer);
// "light.edges": a nullptr attribute and event attribute, record_error with a
// null message; true if its ids stayed the same, and valid, after end().
bool light_edges_and_ids_after_end(streambus::tracing::tracer& tracer);
streambus::tracing::light::span_ids light_parent_of(streambus::tracing::tracer& tracer,
                                                    void (*child)(streambus::tracing::tracer&));
void light_inject(streambus::tracing::tracer& tracer, std::map<std::string, std::string>& headers);
streambus::tracing::light::span_ids light_server_span(streambus::tracing::tracer& tracer,
                                                      const std::map<std::string, std::string>& headers);
bool light_moves_and_ends(streambus::tracing::tracer& tracer);
bool light_current_ids_match(streambus::tracing::tracer& tracer);
// A parent here, its context handed to a new thread, a child started there.
void light_handoff_to_thread(streambus::tracing::tracer& tracer);
// A span that is not current, started here and ended on another thread.
void light_span_ended_on_another_thread(streambus::tracing::tracer& tracer);
// Under a current span: a new root, and a child of an extracted context.
void light_new_root_and_explicit_parent(streambus::tracing::tracer& tracer, const std::map<std::string, std::string>& headers);
// A producer span that is not current injects its own context into headers;
// an invalid context injects nothing into `untouched`.
void light_produce(streambus::tracing::tracer& tracer, std::map<std::string, std::string>& headers,
                   std::map<std::string, std::string>& untouched);
// A consumer span linked to the context of each message.
void light_consume_batch(streambus::tracing::tracer& tracer, const std::vector<std::map<std::string, std::string>>& messages);
// Contexts copied, assigned and kept past their span's end; returns
// "ok" or what went wrong.
std::string light_context_values(streambus::tracing::tracer& tracer);
// The messaging helpers: a message produced into `headers` and consumed from
// them, a message consumed without headers, and one produced without them
// (partition -1, empty key and value). Written again with the full helpers in
// test_light.cpp, whose spans these must match.
void light_messaging(streambus::tracing::tracer& tracer, std::map<std::string, std::string>& headers);
// scenario::operations (operations_scenario.hpp) through light::instrumented_operation.
std::string light_operations(streambus::tracing::tracer& tracer);
// scenario::retries (operations_scenario.hpp) through light::trace_with_retry.
std::string light_retries(streambus::tracing::tracer& tracer);
// A server span from `incoming`, its baggage passed on to `outgoing` with
// "hop" = "light" added and "drop-me" removed; returns what the baggage read
// and built say of itself ("ok" or what went wrong).
std::string light_forward_baggage(streambus::tracing::tracer& tracer, const std::map<std::string, std::string>& incoming,
                                  std::map<std::string, std::string>& outgoing);
// "light.given_times": started at `start` with an event "sent" at `sent`
// ({"k": 1}), a measured event "measured", ended at `end`.
void light_given_times(streambus::tracing::tracer& tracer, std::chrono::system_clock::time_point start,
                       std::chrono::system_clock::time_point sent, std::chrono::system_clock::time_point end);
