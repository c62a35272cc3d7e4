// A plugin is loaded on one thread, and its constructor draws the process's
// first id, while the main thread draws its own first id. Registering the fork
// handler pins the registering library (dladdr, dlopen: the loader's lock);
// done inside the handler's static-initialization guard, as it first was, the
// two threads deadlocked (the main thread held the guard and waited for the
// loader's lock, which the loading thread held while it waited for the guard).
// Its own executable: the first draw of the process is the point. ctest's
// timeout catches the deadlock.
#include <streambus/tracing.hpp>

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <thread>

int main() {
  bool loaded = false;
  std::thread loader([&] { loaded = ::dlopen(SHARED_TEST_RACE_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL) != nullptr; });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // inside the plugin's constructor by now
  const auto id = streambus::tracing::detail::random_nonzero_u64();
  loader.join();
  std::printf("%s: the plugin loaded while the main thread drew its first id (%s)\n", loaded ? "ok" : "FAILED",
              id != 0 ? "non-zero" : "zero");
  return loaded && id != 0 ? 0 : 1;
}
