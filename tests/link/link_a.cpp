// Two translation units include the library and are linked together: a
// non-inline function or variable defined in any header fails this link with
// "multiple definition". Both TUs also odr-use the same inline entities.
#include <streambus/tracing.hpp>

#include <cstdio>
#include <cstring>
#include <string>

std::string link_b_trace_id_hex();
const char* link_b_version();

int main() {
  namespace st = streambus::tracing;
  const std::string here = st::trace_id{}.to_hex();
  const std::string there = link_b_trace_id_hex();
  if (std::strcmp(st::version_string, link_b_version()) != 0 || here != there) {
    std::fprintf(stderr, "two_tu_link: TUs disagree (%s vs %s)\n", here.c_str(), there.c_str());
    return 1;
  }
  std::printf("two_tu_link ok: version %s\n", st::version_string);
  return 0;
}
