// Prefetching a cache line the caller is about to write, whose last user was
// the other core (records and ring lines shared with the export thread).
#pragma once

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

/// Asks for the line holding `p` in exclusive state, so the write that
/// follows needs no second trip to the other core. __builtin_prefetch(p, 1)
/// is only a read prefetch on x86-64 unless compiled with -mprfchw;
/// PREFETCHW runs on every x86-64 CPU of the last decade (and is a no-op on
/// Intel cores before Broadwell). Measured in a period when the two vCPUs
/// were far apart: 42 ns per span against 73-102 ns with the read prefetch.
inline void prefetch_for_write(const void* p) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __asm__ volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1);
#else
  (void)p;
#endif
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
