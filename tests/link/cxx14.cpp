// Must not compile, with version.hpp's one message: the library under C++14
// (clang 14's default). Built only by the test cxx14_stops_with_one_message.
#include <streambus/tracing.hpp>

int main() { return 0; }
