// A plugin whose static constructor draws an id after a pause, while the
// dynamic loader's lock is held (test_plugin_load_race.cpp).
#include <streambus/tracing.hpp>

#include <chrono>
#include <thread>

namespace {
__attribute__((constructor)) void draw_an_id_while_loading() {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  static_cast<void>(streambus::tracing::detail::random_nonzero_u64());
}
}  // namespace
