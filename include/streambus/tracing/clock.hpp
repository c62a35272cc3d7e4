// Timestamps: wall-clock nanoseconds since the Unix epoch for export, derived
// from a monotonic clock so that a span's duration never goes negative or
// jumps when the system clock is stepped.
//
// The monotonic "span clock" is the CPU's time-stamp counter where it is
// invariant (x86 with the invariant-TSC CPUID bit): one rdtsc (~9 ns here)
// instead of clock_gettime (~21 ns), twice per span. Ticks are converted to
// nanoseconds with a ratio calibrated against std::chrono::steady_clock when
// the clock is first used (5 ms) and refined by clock_resync(), which the
// export thread calls: each refinement re-bases the conversion where it is,
// so the mapping stays continuous and durations never jump. Elsewhere, or with
// STREAMBUS_TRACING_CLOCK=steady in the environment, steady_clock is used.
//
// wall = span clock + offset; the offset is re-measured by clock_resync() too.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define STREAMBUS_TRACING_HAS_TSC 1
#endif

#include "detail/epoch_nanos.hpp"
#include "version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

inline std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t system_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

#if defined(STREAMBUS_TRACING_HAS_TSC)
// The compiler builtin rather than <x86intrin.h>'s __rdtsc: that header costs
// ~0.3 s of compile time in every translation unit that includes us.
inline std::uint64_t read_tsc() noexcept { return __builtin_ia32_rdtsc(); }

// TSC ticks -> steady-clock nanoseconds: ns = base_ns + (tsc - base_tsc) * ns_per_tick.
// The three parameters change together under a sequence lock: readers retry
// if a writer was active (odd sequence) or finished in between.
class tsc_clock {
 public:
  STREAMBUS_TRACING_PROCESS_WIDE static tsc_clock& instance() noexcept {
    static tsc_clock clock;
    return clock;
  }

  bool usable() const noexcept { return usable_; }

  std::int64_t now_ns() const noexcept { return to_ns(read_tsc()); }

  /// Steady nanoseconds of a tick count read earlier (current calibration).
  std::int64_t to_ns(std::uint64_t tsc) const noexcept {
    for (;;) {
      // Acquire on every field: a field written by a newer publish() makes
      // that publish's odd sequence visible to the check below (no fences,
      // which g++'s ThreadSanitizer does not support).
      const std::uint64_t seq = seq_.load(std::memory_order_acquire);
      const std::uint64_t base_tsc = base_tsc_.load(std::memory_order_acquire);
      const std::int64_t base_ns = base_ns_.load(std::memory_order_acquire);
      const double ratio = ns_per_tick_.load(std::memory_order_acquire);
      if ((seq & 1) == 0 && seq_.load(std::memory_order_relaxed) == seq) {
        const auto delta = static_cast<std::int64_t>(tsc - base_tsc);  // may be slightly negative
        return base_ns + static_cast<std::int64_t>(static_cast<double>(delta) * ratio);
      }
    }
  }

  // Refines the ratio over the whole time since calibration and re-bases at
  // the current point of the old mapping (continuity).
  void recalibrate() noexcept {
    if (!usable_) return;
    std::lock_guard<std::mutex> lock(writer_);
    std::uint64_t tsc = 0;
    std::int64_t steady = 0;
    sample(tsc, steady);
    if (tsc <= first_tsc_ || steady <= first_ns_) return;
    const double ratio = static_cast<double>(steady - first_ns_) / static_cast<double>(tsc - first_tsc_);
    if (!(ratio > 0.01 && ratio < 100.0)) return;  // nonsense: keep what we have
    const std::int64_t here = now_ns();
    publish(tsc, here, ratio);
  }

 private:
  tsc_clock() noexcept {
    const char* forced = std::getenv("STREAMBUS_TRACING_CLOCK");
    if (forced != nullptr && std::strcmp(forced, "steady") == 0) return;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return;
    if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0 || (edx & (1u << 8)) == 0) return;  // invariant TSC
    // Calibrate against steady_clock over ~5 ms. Each end point is the TSC
    // read bracketed by two clock reads, keeping the tightest of a few tries,
    // so a preemption in between does not skew the ratio.
    std::uint64_t t0 = 0, t1 = 0;
    std::int64_t s0 = 0, s1 = 0;
    sample(t0, s0);
    while (steady_now_ns() - s0 < 5'000'000) {
    }
    sample(t1, s1);
    if (t1 <= t0 || s1 <= s0) return;
    const double ratio = static_cast<double>(s1 - s0) / static_cast<double>(t1 - t0);
    if (!(ratio > 0.01 && ratio < 100.0)) return;
    first_tsc_ = t0;
    first_ns_ = s0;
    publish(t1, s1, ratio);
    usable_ = true;
  }

  // A (tsc, steady) pair read as close together as we can manage.
  static void sample(std::uint64_t& tsc, std::int64_t& steady) noexcept {
    std::int64_t best = -1;
    for (int i = 0; i < 8; ++i) {
      const std::int64_t before = steady_now_ns();
      const std::uint64_t t = read_tsc();
      const std::int64_t after = steady_now_ns();
      if (best < 0 || after - before < best) {
        best = after - before;
        tsc = t;
        steady = before + (after - before) / 2;
      }
    }
  }

  void publish(std::uint64_t base_tsc, std::int64_t base_ns, double ratio) noexcept {
    const std::uint64_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    // Release stores: the odd sequence above is visible before any new field.
    base_tsc_.store(base_tsc, std::memory_order_release);
    base_ns_.store(base_ns, std::memory_order_release);
    ns_per_tick_.store(ratio, std::memory_order_release);
    seq_.store(seq + 2, std::memory_order_release);  // pairs with the readers' acquire of seq
  }

  bool usable_ = false;
  std::uint64_t first_tsc_ = 0;
  std::int64_t first_ns_ = 0;
  std::mutex writer_;
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<std::uint64_t> base_tsc_{0};
  std::atomic<std::int64_t> base_ns_{0};
  std::atomic<double> ns_per_tick_{1.0};
};
#endif

/// The span clock's raw reading, as spans record it: TSC ticks where the TSC
/// is usable, steady nanoseconds otherwise. Converting to epoch time is left
/// to the export side (settle_times), off the traced thread.
inline std::uint64_t span_clock_ticks() noexcept {
#if defined(STREAMBUS_TRACING_HAS_TSC)
  const tsc_clock& tsc = tsc_clock::instance();
  if (tsc.usable()) return read_tsc();
#endif
  return static_cast<std::uint64_t>(steady_now_ns());
}

/// Span-clock nanoseconds (steady-clock based) of a reading of span_clock_ticks.
inline std::int64_t span_clock_ticks_to_ns(std::uint64_t ticks) noexcept {
#if defined(STREAMBUS_TRACING_HAS_TSC)
  const tsc_clock& tsc = tsc_clock::instance();
  if (tsc.usable()) return tsc.to_ns(ticks);
#endif
  return static_cast<std::int64_t>(ticks);
}

/// The monotonic clock spans are timed with, in nanoseconds.
inline std::int64_t span_clock_ns() noexcept { return span_clock_ticks_to_ns(span_clock_ticks()); }

// wall = span clock + offset. One atomic word, read relaxed on the hot path.
STREAMBUS_TRACING_PROCESS_WIDE inline std::atomic<std::int64_t>& wall_offset_ns() noexcept {
  // The span clock first: its first use calibrates (milliseconds), which
  // must not fall between the two reads.
  static std::atomic<std::int64_t> offset{[] {
    const std::int64_t span = span_clock_ns();
    return system_now_ns() - span;
  }()};
  return offset;
}

/// Refines the TSC calibration and re-measures the wall-clock offset, so a
/// stepped system clock is picked up by later spans without touching durations.
inline void clock_resync() noexcept {
#if defined(STREAMBUS_TRACING_HAS_TSC)
  tsc_clock::instance().recalibrate();
#endif
  const std::int64_t span = span_clock_ns();
  wall_offset_ns().store(system_now_ns() - span, std::memory_order_relaxed);
}

/// clock_resync(), at most once a second: for threads that convert times
/// themselves (synchronous exporters), where no export thread resyncs, so
/// that a stepped system clock is picked up and the TSC ratio keeps being
/// refined there too (without it, ~1 ppm of drift accumulated for good).
STREAMBUS_TRACING_PROCESS_WIDE inline void clock_resync_if_due() noexcept {
  static std::atomic<std::int64_t> next_ns{0};
  const std::int64_t now = steady_now_ns();
  std::int64_t due = next_ns.load(std::memory_order_relaxed);
  if (now < due || !next_ns.compare_exchange_strong(due, now + 1'000'000'000, std::memory_order_relaxed)) return;
  clock_resync();
}

/// Epoch nanoseconds of a span-clock time in nanoseconds (0 before the epoch).
inline std::uint64_t span_clock_ns_to_unix_nano(std::int64_t span_ns) noexcept {
  const std::int64_t wall = span_ns + wall_offset_ns().load(std::memory_order_relaxed);
  return wall > 0 ? static_cast<std::uint64_t>(wall) : 0;
}

/// Epoch nanoseconds now, on the span clock.
inline std::uint64_t unix_now_ns() noexcept { return span_clock_ns_to_unix_nano(span_clock_ns()); }

/// Epoch nanoseconds of a time the caller gives (span_options::start_time,
/// span::end(time), add_event(name, time)), a system_clock time point of any
/// precision: 0, "not given", for the epoch and before, which OTLP cannot
/// carry; past 2262 (the int64 nanosecond range), its end. The range is
/// checked in the time point's own units (epoch_nanos), before a conversion
/// that could overflow: a time point in seconds of the year 2603 once wrapped
/// to 2019.
template <class Rep, class Period>
constexpr std::uint64_t unix_nano_of(
    std::chrono::time_point<std::chrono::system_clock, std::chrono::duration<Rep, Period>> t) noexcept {
  return epoch_nanos<Period>(t.time_since_epoch().count());
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
