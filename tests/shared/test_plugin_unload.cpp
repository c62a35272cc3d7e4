// A plugin that registered an exporter, made the process's first tracer and
// drew its first ids is unloaded; the process must go on as if it were not:
// the registered name still works, fork() still gives the child fresh ids and
// marks inherited tracers, and exit does not crash. The library keeps such a
// plugin loaded (detail/keep_loaded.hpp); before, this crashed (exporter code
// and the registry's destructor in unmapped memory) or silently lost the fork
// handlers (the child repeated the parent's span ids).
// Its own executable, without doctest: the plugin must come first.
#include <streambus/tracing.hpp>

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace st = streambus::tracing;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

}  // namespace

int main() {
  void* plugin = ::dlopen(SHARED_TEST_UNLOAD_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
  if (plugin == nullptr) {
    std::printf("FAILED: dlopen: %s\n", ::dlerror());
    return 1;
  }
  using first_use_fn = void (*)(std::shared_ptr<st::in_memory_exporter>*);
  auto first_use = reinterpret_cast<first_use_fn>(::dlsym(plugin, "shared_test_plugin_first_use"));
  if (first_use == nullptr) {
    std::printf("FAILED: dlsym\n");
    return 1;
  }
  std::shared_ptr<st::in_memory_exporter> sink;
  first_use(&sink);
  check(sink != nullptr && sink->size() == 1, "the plugin's tracer exported its span");
  ::dlclose(plugin);
  check(::dlopen(SHARED_TEST_UNLOAD_PLUGIN_PATH, RTLD_NOW | RTLD_NOLOAD) != nullptr,
        "the plugin stays loaded after dlclose (its code is in the shared state)");

  // The exporter name the plugin registered, used after its dlclose.
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "host";
  cfg.exporter = "plugin-sink";
  auto tracer = st::tracer::create(cfg);
  { auto span = tracer.start("in-host"); }
  tracer.force_flush();
  check(sink->size() == 2, "a tracer made after the dlclose exports through the plugin's exporter");

  // fork(): the id generator's handler and the tracers' handlers were
  // registered by the plugin's code.
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return 1;
  struct child_report {
    std::uint64_t id;
    bool recording;
  };
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    child_report out{};
    out.id = st::detail::random_nonzero_u64();
    auto span = tracer.start("in-child");  // the inherited tracer: marked forked, records nothing
    out.recording = span.is_recording();
    const bool written = ::write(pipe_fds[1], &out, sizeof out) == static_cast<ssize_t>(sizeof out);
    ::_exit(written ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  const std::uint64_t parent_id = st::detail::random_nonzero_u64();
  child_report in{};
  const bool got = ::read(pipe_fds[0], &in, sizeof in) == static_cast<ssize_t>(sizeof in);
  int status = 0;
  ::waitpid(child, &status, 0);
  check(got && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child reported");
  check(in.id != parent_id, "the child draws other ids than the parent (the fork handler survived)");
  check(!in.recording, "the child's inherited tracer is marked forked (the tracers' fork handlers survived)");
  tracer.shutdown();
  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;  // and exit must not crash (the registry is never destroyed)
}
