// What the test's two shared libraries and its plugin export. Everything else
// in them, the tracing library included, is hidden (-fvisibility=hidden,
// -fvisibility-inlines-hidden), as in a project built with CMake's
// CXX_VISIBILITY_PRESET hidden.
#pragma once

#include <streambus/tracing.hpp>

#include <memory>
#include <string>

#define SHARED_TEST_API __attribute__((visibility("default")))

namespace httplib {
class Server;
}

namespace shared_test {

namespace st = streambus::tracing;

// lib_a: a span under whatever span is current on the calling thread; its context.
SHARED_TEST_API st::span_context a_start_and_end(st::tracer& tracer);
// lib_a: keeps a span of its own current while it calls back into the caller.
SHARED_TEST_API void a_call_under_span(st::tracer& tracer, void (*callback)(void*), void* arg);
// lib_a: a span started here, to be ended by the caller (on any thread).
SHARED_TEST_API st::span a_start_open(st::tracer& tracer);
// lib_a: registers an exporter name that hands spans to `sink`.
SHARED_TEST_API void a_register_exporter(const std::string& name, std::shared_ptr<st::in_memory_exporter> sink);

// lib_a: not called; makes the library instantiate the rest of its state.
SHARED_TEST_API void a_instantiate_the_rest(httplib::Server& server);

// lib_b: a span under whatever span is current on the calling thread; its context.
SHARED_TEST_API st::span_context b_start_and_end(st::tracer& tracer);
// lib_b: a tracer made here, with its exporter chosen by name.
SHARED_TEST_API st::tracer b_create_tracer(const std::string& exporter_name);

}  // namespace shared_test

// The plugin (loaded with dlopen, RTLD_LOCAL): C linkage, found with dlsym.
extern "C" SHARED_TEST_API void shared_test_plugin_start_and_end(streambus::tracing::tracer* tracer,
                                                                 streambus::tracing::span_context* out);
