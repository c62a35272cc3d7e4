// streambus tracing — version and namespace macros.
// The version is written once, here; CMake and meson parse these three lines.
#pragma once

// C++17 or later: said once, rather than as the hundreds of errors an older
// standard gives (clang 14 and older g++ default to C++14).
#if (defined(_MSVC_LANG) ? _MSVC_LANG : __cplusplus) < 201703L
#error "streambus tracing needs C++17 or later (-std=c++17; MSVC: /std:c++17 /Zc:__cplusplus)"
#endif

// One copy of the library per file: the single headers (single_include/,
// generated from these, with STREAMBUS_TRACING_AMALGAMATING defined around
// their text) declare the same names, so a file that includes both got
// hundreds of redefinition errors. One message instead:
#if defined(STREAMBUS_TRACING_AMALGAMATING)
#if defined(STREAMBUS_TRACING_TREE_HEADERS_INCLUDED)
#error "streambus tracing: this file includes a single header (single_include/) and the headers under include/; use one of the two"
#endif
#else
#if defined(STREAMBUS_TRACING_SINGLE_HEADER_INCLUDED)
#error "streambus tracing: this file includes the headers under include/ and a single header (single_include/); use one of the two"
#endif
#define STREAMBUS_TRACING_TREE_HEADERS_INCLUDED 1
#endif

#define STREAMBUS_TRACING_VERSION_MAJOR 0
#define STREAMBUS_TRACING_VERSION_MINOR 1
#define STREAMBUS_TRACING_VERSION_PATCH 0

#define STREAMBUS_TRACING_STRINGIFY_(x) #x
#define STREAMBUS_TRACING_STRINGIFY(x) STREAMBUS_TRACING_STRINGIFY_(x)
#define STREAMBUS_TRACING_VERSION_STRING                          \
  STREAMBUS_TRACING_STRINGIFY(STREAMBUS_TRACING_VERSION_MAJOR)    \
  "." STREAMBUS_TRACING_STRINGIFY(STREAMBUS_TRACING_VERSION_MINOR) \
  "." STREAMBUS_TRACING_STRINGIFY(STREAMBUS_TRACING_VERSION_PATCH)

// A versioned inline namespace (v0_1_0 for 0.1.0) keeps two copies of the
// library from silently mixing in one program (ODR), while users write
// streambus::tracing::... as usual. Every release has its own: shared
// libraries built against different releases keep separate process-wide state
// (see STREAMBUS_TRACING_PROCESS_WIDE) rather than share one whose layout they
// disagree on, and a tracing type passed between them fails to link instead of
// crashing. The compiled-out API has its own too: a program whose files
// disagree on STREAMBUS_TRACING_DISABLED fails to link (undefined reference to
// ...v0_1_0_compiled_out::...) instead of losing spans or crashing at run time.
#define STREAMBUS_TRACING_ABI_NAME_(major, minor, patch, suffix) v##major##_##minor##_##patch##suffix
#define STREAMBUS_TRACING_ABI_NAME(major, minor, patch, suffix) STREAMBUS_TRACING_ABI_NAME_(major, minor, patch, suffix)
#if defined(STREAMBUS_TRACING_DISABLED)
#define STREAMBUS_TRACING_ABI_NAMESPACE                                                            \
  STREAMBUS_TRACING_ABI_NAME(STREAMBUS_TRACING_VERSION_MAJOR, STREAMBUS_TRACING_VERSION_MINOR, \
                             STREAMBUS_TRACING_VERSION_PATCH, _compiled_out)
#else
#define STREAMBUS_TRACING_ABI_NAMESPACE                                                            \
  STREAMBUS_TRACING_ABI_NAME(STREAMBUS_TRACING_VERSION_MAJOR, STREAMBUS_TRACING_VERSION_MINOR, \
                             STREAMBUS_TRACING_VERSION_PATCH, )
#endif
#define STREAMBUS_TRACING_BEGIN_NAMESPACE \
  namespace streambus {                   \
  namespace tracing {                     \
  inline namespace STREAMBUS_TRACING_ABI_NAMESPACE {
#define STREAMBUS_TRACING_END_NAMESPACE \
  }                                     \
  }                                     \
  }

// State that must exist once per process, not once per shared library: the
// current-span stacks, id generators, clock calibration, registries, fork
// handlers. Each function or variable holding such state is exported with
// default visibility, so that libraries built with -fvisibility=hidden
// (CMake's CXX_VISIBILITY_PRESET hidden) still share one copy; without it each
// library gets its own, and a span started in one library does not see the
// current span of another (a new trace starts there instead).
#if (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32) && !defined(__CYGWIN__)
#define STREAMBUS_TRACING_PROCESS_WIDE __attribute__((visibility("default")))
#else
#define STREAMBUS_TRACING_PROCESS_WIDE
#endif

// Exceptions: the full header needs them; the light header's templates are
// also compiled without (-fno-exceptions), their handlers left out.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define STREAMBUS_TRACING_HAS_EXCEPTIONS 1
#else
#define STREAMBUS_TRACING_HAS_EXCEPTIONS 0
#endif

// RTTI (typeid) gives exception.type and error.type their type names. Under
// -fno-rtti the library still compiles: see detail::op_type_of (op_outcome.hpp).
#if defined(__cpp_rtti) || defined(__GXX_RTTI) || defined(_CPPRTTI)
#define STREAMBUS_TRACING_HAS_RTTI 1
#else
#define STREAMBUS_TRACING_HAS_RTTI 0
#endif

// Rare paths kept out of the hot functions, so that those stay small enough
// to inline and need few registers.
#if defined(__GNUC__) || defined(__clang__)
#define STREAMBUS_TRACING_COLD __attribute__((cold, noinline))
#define STREAMBUS_TRACING_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define STREAMBUS_TRACING_COLD __declspec(noinline)
#define STREAMBUS_TRACING_NOINLINE __declspec(noinline)
#else
#define STREAMBUS_TRACING_COLD
#define STREAMBUS_TRACING_NOINLINE
#endif

// The span hot path, inlined into every call site even where the compiler
// would not (a file with many spans): it saves the call and its register
// saves, a large part of an unsampled span.
#if defined(__GNUC__) || defined(__clang__)
#define STREAMBUS_TRACING_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define STREAMBUS_TRACING_ALWAYS_INLINE __forceinline
#else
#define STREAMBUS_TRACING_ALWAYS_INLINE inline
#endif

STREAMBUS_TRACING_BEGIN_NAMESPACE
/// The library's version as "major.minor.patch".
inline constexpr const char* version_string = STREAMBUS_TRACING_VERSION_STRING;
/// Value of the resource attribute telemetry.sdk.name.
inline constexpr const char* sdk_name = "streambus-tracing";
STREAMBUS_TRACING_END_NAMESPACE
