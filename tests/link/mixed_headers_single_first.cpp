// Must not compile, with version.hpp's one message: a single header and then
// the headers under include/. Built only by the test mixed_headers_single_first_fails.
#include "../../single_include/streambus/tracing_light.hpp"
#include "../../include/streambus/tracing.hpp"

int main() { return 0; }
