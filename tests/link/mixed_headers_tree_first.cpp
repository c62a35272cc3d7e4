// Must not compile, with version.hpp's one message: the headers under include/
// and then a single header (two copies of every name). Built only by the test
// mixed_headers_tree_first_fails.
#include "../../include/streambus/tracing.hpp"
#include "../../single_include/streambus/tracing.hpp"

int main() { return 0; }
