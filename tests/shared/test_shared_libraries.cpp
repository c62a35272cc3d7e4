// One process, several shared libraries, each with its own copy of the
// header-only library and everything hidden (-fvisibility=hidden): spans must
// still form one trace across them. Without STREAMBUS_TRACING_PROCESS_WIDE each
// library had its own current-span stack, and a span started in one library
// began a new trace under a parent current in another.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shared_api.hpp"

namespace {

namespace st = streambus::tracing;
using namespace shared_test;

struct memory_tracer {
  std::shared_ptr<st::in_memory_exporter> sink = std::make_shared<st::in_memory_exporter>();
  st::tracer tracer;
  memory_tracer() {
    st::config cfg;
    cfg.read_environment = false;
    cfg.service_name = "shared-libraries";
    cfg.exporter = "none";
    cfg.exporters.push_back(sink);
    tracer = st::tracer::create(cfg);
  }
  const st::span_data* find(const std::vector<st::span_data>& all, std::string_view name) const {
    for (const auto& s : all)
      if (std::string_view(s.name) == name) return &s;
    return nullptr;
  }
};

struct callback_state {
  st::tracer* tracer;
  st::span_context seen_current;
  st::span_context from_b;
};

void call_b_under_a(void* arg) {
  auto& state = *static_cast<callback_state*>(arg);
  state.seen_current = state.tracer->current_context();
  state.from_b = b_start_and_end(*state.tracer);
}

}  // namespace

TEST_CASE("a span started in a library is the child of the span current in the executable") {
  memory_tracer m;
  st::span_context parent;
  st::span_context child;
  {
    auto span = m.tracer.start("executable");
    parent = span.context();
    child = a_start_and_end(m.tracer);
  }
  CHECK(child.trace_id() == parent.trace_id());
  const auto spans = m.sink->spans();
  const auto* a = m.find(spans, "lib-a");
  REQUIRE(a != nullptr);
  CHECK(a->parent_span_id == parent.span_id());
}

TEST_CASE("the executable and a second library see the span a library keeps current") {
  memory_tracer m;
  callback_state state{&m.tracer, {}, {}};
  a_call_under_span(m.tracer, call_b_under_a, &state);
  const auto spans = m.sink->spans();
  const auto* outer = m.find(spans, "lib-a-outer");
  const auto* b = m.find(spans, "lib-b");
  REQUIRE(outer != nullptr);
  REQUIRE(b != nullptr);
  CHECK(state.seen_current.span_id() == outer->context.span_id());
  CHECK(b->context.trace_id() == outer->context.trace_id());
  CHECK(b->parent_span_id == outer->context.span_id());
  // Nothing is left current once the library's span has ended.
  CHECK_FALSE(m.tracer.current_context().valid());
}

TEST_CASE("a span started in one library and ended in the executable, on the same or another thread") {
  memory_tracer m;
  {
    auto open = a_start_open(m.tracer);
    const auto under = m.tracer.start("executable-child");  // the library's span is current here
    CHECK(under.context().trace_id() == open.context().trace_id());
  }
  auto elsewhere = a_start_open(m.tracer);
  const auto id = elsewhere.context().span_id();
  std::thread([&] { elsewhere.end(); }).join();
  CHECK_FALSE(m.tracer.current_context().valid());
  const auto spans = m.sink->spans();
  CHECK(std::count_if(spans.begin(), spans.end(), [&](const st::span_data& s) { return s.context.span_id() == id; }) == 1);
  const auto* child = m.find(spans, "executable-child");
  REQUIRE(child != nullptr);
  for (const auto& s : spans) CHECK(s.end_time_unix_nano >= s.start_time_unix_nano);
}

TEST_CASE("an exporter name registered in one library is known to a tracer made in another") {
  auto sink = std::make_shared<st::in_memory_exporter>();
  a_register_exporter("shared-test-sink", sink);
  auto tracer = b_create_tracer("shared-test-sink");
  { auto span = tracer.start("through-the-registry"); }
  tracer.force_flush();
  const auto spans = sink->spans();
  REQUIRE(spans.size() == 1);
  CHECK(std::string_view(spans.front().name) == "through-the-registry");
}

TEST_CASE("ids drawn in the executable and in two libraries on one thread are all distinct") {
  memory_tracer m;
  std::set<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    auto root = m.tracer.start("executable");
    ids.insert(root.context().span_id().to_hex());
    ids.insert(a_start_and_end(m.tracer).span_id().to_hex());
    ids.insert(b_start_and_end(m.tracer).span_id().to_hex());
  }
  CHECK(ids.size() == 900);
}

TEST_CASE("a plugin loaded with dlopen(RTLD_LOCAL) joins the executable's trace") {
  // The executable exports the library's process-wide symbols (it links
  // libraries that use them, and ENABLE_EXPORTS: -rdynamic), so the plugin's
  // references bind to them.
  void* plugin = ::dlopen(SHARED_TEST_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
  REQUIRE_MESSAGE(plugin != nullptr, ::dlerror());
  using start_fn = void (*)(st::tracer*, st::span_context*);
  auto start = reinterpret_cast<start_fn>(::dlsym(plugin, "shared_test_plugin_start_and_end"));
  const bool found = start != nullptr;  // doctest cannot print a function pointer
  REQUIRE(found);
  memory_tracer m;
  st::span_context parent;
  st::span_context child;
  {
    auto span = m.tracer.start("executable");
    parent = span.context();
    start(&m.tracer, &child);
  }
  CHECK(child.trace_id() == parent.trace_id());
  const auto spans = m.sink->spans();
  const auto* c = m.find(spans, "plugin-c");
  REQUIRE(c != nullptr);
  CHECK(c->parent_span_id == parent.span_id());
  // Not dlclose()d: the plugin's code ran on this thread, whose exit hooks
  // may still refer to it.
}
