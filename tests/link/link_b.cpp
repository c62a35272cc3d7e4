// Second TU of the two_tu_link test: see link_a.cpp. It also includes the
// light header after the full one (the single headers share include guards).
#include <streambus/tracing.hpp>
#include <streambus/tracing_light.hpp>

#include <string>

std::string link_b_trace_id_hex() { return streambus::tracing::trace_id{}.to_hex(); }
const char* link_b_version() { return streambus::tracing::version_string; }
bool link_b_light_ids_valid() { return streambus::tracing::light::span_ids{}.valid(); }
