// Second TU of the two_tu_link test: see link_a.cpp.
#include <streambus/tracing.hpp>

#include <string>

std::string link_b_trace_id_hex() { return streambus::tracing::trace_id{}.to_hex(); }
const char* link_b_version() { return streambus::tracing::version_string; }
