// What orders.cpp (light header only) offers main.cpp.
#pragma once

#include <map>
#include <string>

#include <streambus/tracing_light.hpp>

void pack_order(streambus::tracing::tracer& tracer, int order_id, int items);  // one thread per item
void ship_order(streambus::tracing::tracer& tracer, int order_id, std::map<std::string, std::string>& headers);
std::string receive_order(streambus::tracing::tracer& tracer, const std::map<std::string, std::string>& headers);
