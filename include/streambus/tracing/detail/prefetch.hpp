// Prefetching a cache line the caller is about to write, whose last user was
// the other core (records and ring lines shared with the export thread).
#pragma once

#include "../version.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define STREAMBUS_TRACING_X86_PREFETCHW 1
#endif

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

#if defined(STREAMBUS_TRACING_X86_PREFETCHW)
// PREFETCHW (CPUID 0x80000001 ECX bit 8) is on every x86-64 CPU of the last
// decade but not guaranteed by the baseline, so it is used only where the
// CPU reports it. Read once at start-up; before that (static initialisation
// order) it reads false and the read prefetch is used.
inline bool cpu_has_prefetchw() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & (1u << 8)) != 0;
}
STREAMBUS_TRACING_PROCESS_WIDE inline const bool has_prefetchw = cpu_has_prefetchw();
#endif

/// Asks for the line holding `p` in exclusive state, so the write that
/// follows needs no second trip to the other core. __builtin_prefetch(p, 1)
/// is only a read prefetch on x86-64 unless compiled with -mprfchw. Measured
/// in periods when the two vCPUs were far apart: 36-47 ns per span against
/// 73-102 ns with the read prefetch (bench/README.md, "Two modes").
inline void prefetch_for_write(const void* p) noexcept {
#if defined(STREAMBUS_TRACING_X86_PREFETCHW)
  if (has_prefetchw) {
    __asm__ volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
    return;
  }
  __builtin_prefetch(p, 1);
#elif defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1);
#else
  (void)p;
#endif
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
