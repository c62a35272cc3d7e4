// Keeps a shared library loaded once its code is part of the process-wide
// state (STREAMBUS_TRACING_PROCESS_WIDE): fork handlers (glibc drops a
// library's pthread_atfork handlers when it is unloaded, and the shared
// "registered" flag would keep any other library from adding them again) and
// exporter factories (code the shared registry calls later). A plugin that
// traced and was then dlclose()d would otherwise leave that state pointing
// into unmapped code.
#pragma once

#include <atomic>

#include "../version.hpp"

#if defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__))
#include <dlfcn.h>
#include <link.h>
#define STREAMBUS_TRACING_HAS_DLADDR1 1
#endif

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

/// One per shared library (and executable): hidden even in default-visibility
/// builds, so its address names the library whose code refers to it, and its
/// flag says that library was pinned already.
struct library_pin {
  std::atomic<bool> done{false};
};
#if defined(STREAMBUS_TRACING_HAS_DLADDR1)
__attribute__((visibility("hidden"))) inline library_pin this_library;
#else
inline library_pin this_library;
#endif

/// Pins the library holding `pin` (detail::this_library as seen by the code
/// to keep), once: RTLD_NOLOAD finds it only if it is loaded, RTLD_NODELETE
/// keeps it for the rest of the process; the handle is never closed, the
/// reference it holds is the point. Nothing for the executable (its link map
/// has an empty name; dladdr's file name for it is argv[0], not a library) and
/// outside glibc (dladdr1).
/// dladdr and dlopen take the dynamic loader's lock, which a thread running a
/// library's constructors holds while those may wait for a static's
/// initialization guard: call this outside any guard or lock.
inline void keep_library_loaded(library_pin& pin) noexcept {
  if (pin.done.load(std::memory_order_acquire)) return;
#if defined(STREAMBUS_TRACING_HAS_DLADDR1)
  Dl_info info{};
  void* extra = nullptr;
  if (::dladdr1(&pin, &info, &extra, RTLD_DL_LINKMAP) != 0 && extra != nullptr) {
    const auto* map = static_cast<const link_map*>(extra);
    if (map->l_name != nullptr && map->l_name[0] != '\0')
      static_cast<void>(::dlopen(map->l_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE));
  }
#endif
  pin.done.store(true, std::memory_order_release);
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
