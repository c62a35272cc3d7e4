// Keeps a shared library loaded once its code is part of the process-wide
// state (STREAMBUS_TRACING_PROCESS_WIDE): fork handlers (glibc drops a
// library's pthread_atfork handlers when it is unloaded, and the shared
// "registered" flag would keep any other library from adding them again) and
// exporter factories (code the shared registry calls later). A plugin that
// traced and was then dlclose()d would otherwise leave that state pointing
// into unmapped code.
#pragma once

#include "../version.hpp"

#if (defined(__unix__) || defined(__APPLE__)) && (defined(__GNUC__) || defined(__clang__))
#include <dlfcn.h>
#define STREAMBUS_TRACING_HAS_DLADDR 1
#endif

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

#if defined(STREAMBUS_TRACING_HAS_DLADDR)
/// One per shared library (and executable): hidden even in default-visibility
/// builds, so its address names the library whose code refers to it.
__attribute__((visibility("hidden"))) inline const char library_anchor = 0;
#else
inline const char library_anchor = 0;
#endif

/// Pins the library holding `anchor` (detail::library_anchor as seen by the
/// code to keep): RTLD_NOLOAD finds it only if it is loaded, RTLD_NODELETE
/// keeps it for the rest of the process. The handle is never closed: the
/// reference it holds is the point. Nothing happens for the executable (its
/// name is not a loaded library's) or where dladdr is missing.
inline void keep_library_loaded(const void* anchor) noexcept {
#if defined(STREAMBUS_TRACING_HAS_DLADDR)
  Dl_info info{};
  if (::dladdr(anchor, &info) != 0 && info.dli_fname != nullptr && info.dli_fname[0] != '\0')
    static_cast<void>(::dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE));
#else
  static_cast<void>(anchor);
#endif
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
