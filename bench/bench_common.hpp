// Shared by the bench/*.cpp executables (each one includes it once): a
// counting global operator new, and the exporter and tracer set-up the cases
// have in common.
//
// Allocation counting: every operator new (plain, array, nothrow, aligned)
// bumps a thread-local counter of calls and bytes, and a process-wide one.
// "allocs/span" is the thread-local figure of the thread that creates the
// spans (the "on the caller thread"); "proc_allocs/span" also counts
// the export thread. Net live heap bytes (malloc_usable_size of what is
// allocated minus what is freed) measure the memory a span holds.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <malloc.h>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unistd.h>

// ----------------------------------------------------------------- counting new

namespace bench {

struct thread_alloc_counts {
  std::uint64_t calls;
  std::uint64_t bytes;
};
// Plain zero-initialised thread_local: no constructor runs, so using it from
// operator new on a thread that is still being set up is safe.
inline thread_local thread_alloc_counts t_allocs{0, 0};
inline std::atomic<std::uint64_t> g_alloc_calls{0};
inline std::atomic<std::uint64_t> g_alloc_bytes{0};
inline std::atomic<std::int64_t> g_live_bytes{0};

inline void* counted(void* p, std::size_t n) {
  if (p == nullptr) return nullptr;
  t_allocs.calls += 1;
  t_allocs.bytes += n;
  g_alloc_calls.fetch_add(1, std::memory_order_relaxed);
  g_alloc_bytes.fetch_add(n, std::memory_order_relaxed);
  g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}

// Out of line: where g++ sees operator delete call free() on what operator new
// returned, -Wmismatched-new-delete misfires.
[[gnu::noinline]] inline void uncounted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}

inline void* aligned(std::size_t n, std::align_val_t al) {
  std::size_t a = static_cast<std::size_t>(al);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  if (::posix_memalign(&p, a, n ? n : 1) != 0) return nullptr;
  return counted(p, n);
}

}  // namespace bench

void* operator new(std::size_t n) {
  if (void* p = bench::counted(std::malloc(n ? n : 1), n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return bench::counted(std::malloc(n ? n : 1), n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return bench::counted(std::malloc(n ? n : 1), n); }
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = bench::aligned(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) { return ::operator new(n, al); }
void operator delete(void* p) noexcept { bench::uncounted_free(p); }
void operator delete[](void* p) noexcept { bench::uncounted_free(p); }
void operator delete(void* p, std::size_t) noexcept { bench::uncounted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { bench::uncounted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { bench::uncounted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { bench::uncounted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { bench::uncounted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { bench::uncounted_free(p); }

namespace bench {

/// Reports heap allocations and bytes per iteration between construction and
/// destruction: on this thread ("allocs/span", "alloc_B/span") and in the whole
/// process ("proc_allocs/span"). Construct it after the warm-up, right before
/// the timed loop.
class alloc_counter {
 public:
  explicit alloc_counter(benchmark::State& state, std::uint64_t items_per_iteration = 1)
      : state_(state),
        per_(items_per_iteration),
        calls_(t_allocs.calls),
        bytes_(t_allocs.bytes),
        proc_calls_(g_alloc_calls.load()) {}
  ~alloc_counter() {
    // Read every counter before the first counters[] insertion allocates.
    const auto calls = t_allocs.calls - calls_;
    const auto bytes = t_allocs.bytes - bytes_;
    const auto proc_calls = g_alloc_calls.load() - proc_calls_;
    const double n = static_cast<double>(state_.iterations() * per_);
    if (n <= 0) return;
    state_.counters["allocs/span"] = static_cast<double>(calls) / n;
    state_.counters["alloc_B/span"] = static_cast<double>(bytes) / n;
    state_.counters["proc_allocs/span"] = static_cast<double>(proc_calls) / n;
  }
  alloc_counter(const alloc_counter&) = delete;
  alloc_counter& operator=(const alloc_counter&) = delete;

 private:
  benchmark::State& state_;
  std::uint64_t per_;
  std::uint64_t calls_, bytes_, proc_calls_;
};

/// CPU time of the whole process (every thread), in nanoseconds.
inline std::int64_t process_cpu_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Resident set size of this process, in bytes (from /proc/self/statm).
inline std::int64_t rss_bytes() noexcept {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long pages_total = 0, pages_resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &pages_total, &pages_resident);
  std::fclose(f);
  if (n != 2) return -1;
  return static_cast<std::int64_t>(pages_resident) * static_cast<std::int64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace bench
