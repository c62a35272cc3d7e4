// What light_spans.cpp (light header only) offers test_light.cpp.
#pragma once

#include <map>
#include <string>

#include <streambus/tracing_light.hpp>

streambus::tracing::light::span_ids light_plain_span(streambus::tracing::tracer& tracer);
streambus::tracing::light::span_ids light_full_span(streambus::tracing::tracer& tracer);
streambus::tracing::light::span_ids light_error_span(streambus::tracing::tracer& tracer);
streambus::tracing::light::span_ids light_parent_of(streambus::tracing::tracer& tracer,
                                                    void (*child)(streambus::tracing::tracer&));
void light_inject(streambus::tracing::tracer& tracer, std::map<std::string, std::string>& headers);
streambus::tracing::light::span_ids light_server_span(streambus::tracing::tracer& tracer,
                                                      const std::map<std::string, std::string>& headers);
bool light_moves_and_ends(streambus::tracing::tracer& tracer);
bool light_current_ids_match(streambus::tracing::tracer& tracer);
