// Per-thread pseudo-random generator for trace and span ids.
//
// Why not <random>: std::mt19937 is 5 KB of state and slow to seed, and
// <random> is heavy to include. wyrand is one word and a handful of
// instructions per 64 bits, and good enough for identifiers (not for crypto).
// Each thread seeds once from the OS; a fork bumps a global generation so the
// child re-seeds instead of repeating its parent's ids.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define STREAMBUS_TRACING_HAS_PTHREAD_ATFORK 1
#else
#include <random>
#endif

#include "../version.hpp"
#include "keep_loaded.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

inline std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Entropy from the OS, mixed with time, the process and the thread's identity
// so that a failing source still yields distinct seeds per thread and per
// process. (Without the pid, children forked from one thread at the same
// nanosecond, where getrandom is refused (seccomp: ENOSYS, or EAGAIN early in
// boot), drew identical ids: 2 pairs in 3000.)
inline std::uint64_t os_seed() noexcept {
  std::uint64_t seed = 0;
#if defined(__linux__)
  if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<long>(sizeof seed)) {
    seed = 0;
    const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (::read(fd, &seed, sizeof seed) != static_cast<long>(sizeof seed)) seed = 0;
      ::close(fd);
    }
  }
  seed ^= static_cast<std::uint64_t>(::getpid()) * std::uint64_t{0xd6e8feb86659fd93ULL};
#elif !defined(STREAMBUS_TRACING_HAS_PTHREAD_ATFORK)
  try {
    std::random_device rd;
    seed = (std::uint64_t{rd()} << 32) ^ rd();
  } catch (...) {
  }
#endif
  seed ^= static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  seed ^= static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())) << 1;
  int local = 0;
  std::uint64_t addr = 0;
  const void* p = &local;
  std::memcpy(&addr, &p, sizeof p < sizeof addr ? sizeof p : sizeof addr);
  return seed ^ (addr * 0x9e3779b97f4a7c15ULL);
}

// Incremented in every forked child; generators compare it with the value
// they were seeded under.
STREAMBUS_TRACING_PROCESS_WIDE inline std::atomic<std::uint32_t>& fork_generation() noexcept {
  static std::atomic<std::uint32_t> generation{0};
  return generation;
}

STREAMBUS_TRACING_PROCESS_WIDE inline void register_fork_handler() noexcept {
#if defined(STREAMBUS_TRACING_HAS_PTHREAD_ATFORK)
  keep_library_loaded(this_library);  // the handler's code; outside the guard below (keep_loaded.hpp)
  static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, [] { fork_generation().fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
#endif
}

// wyrand (Wang Yi's generator, public domain algorithm): a 64-bit state, one
// addition and one 64x64->128 multiply per draw. It passes BigCrush and
// PractRand, and costs a third of xoshiro256++'s instructions per id, which
// matters three times per root span.
class id_generator {
 public:
  // Constant-initialized, so the thread_local below needs no guard on each
  // access: the first check_fork() seeds it (the generation never matches).
  constexpr id_generator() noexcept = default;

  std::uint64_t next() noexcept {
    check_fork();
    return next_unchecked();
  }

  /// Re-seeds if the process forked since the last draw (one relaxed load).
  void check_fork() noexcept {
    if (!seeded_here()) reseed();
  }

  /// False before the first draw on this thread and after a fork (when
  /// check_fork() reseeds).
  bool seeded_here() const noexcept { return fork_generation().load(std::memory_order_relaxed) == generation_; }

  /// A draw without the fork check: call check_fork() once before a group of these.
  std::uint64_t next_unchecked() noexcept {
    state_ += increment;
    return output(state_);
  }

  /// The k-th draw from now (k >= 1) without advancing: a group of draws read
  /// the state once and skip() stores it once, where each next_unchecked()
  /// stores it again. Same values as k calls of next_unchecked().
  std::uint64_t peek(unsigned k) const noexcept {
    return output(state_ + k * increment);
  }
  /// Advances past `n` peeked draws.
  void skip(unsigned n) noexcept { state_ += n * increment; }

  void reseed() noexcept {
    register_fork_handler();
    generation_ = fork_generation().load(std::memory_order_relaxed);
    std::uint64_t x = os_seed();
    state_ = splitmix64(x);
  }

 private:
  // The draw for an advanced state.
  static std::uint64_t output(std::uint64_t s) noexcept { return mix(s, s ^ 0xe7037ed1a0b428dbULL); }

  static std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
    __extension__ using u128 = unsigned __int128;
    const u128 product = static_cast<u128>(a) * b;
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
#else
    // Portable 64x64->128 multiply from 32-bit halves.
    const std::uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32, b_lo = b & 0xffffffffULL, b_hi = b >> 32;
    const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
    const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffULL) + lo_hi;
    const std::uint64_t high = hi_hi + (hi_lo >> 32) + (cross >> 32);
    const std::uint64_t low = (cross << 32) | (lo_lo & 0xffffffffULL);
    return low ^ high;
#endif
  }

  static constexpr std::uint32_t unseeded = 0xffffffffu;  // a fork count no process reaches
  static constexpr std::uint64_t increment = 0xa0761d6478bd642fULL;

  std::uint64_t state_ = 0;
  std::uint32_t generation_ = unseeded;
};

STREAMBUS_TRACING_PROCESS_WIDE inline id_generator& thread_rng() noexcept {
  thread_local id_generator rng;
  return rng;
}

/// A random non-zero 64-bit value.
inline std::uint64_t random_nonzero_u64() noexcept {
  auto& rng = thread_rng();
  std::uint64_t v;
  do {
    v = rng.next();
  } while (v == 0);
  return v;
}

/// The ids of a new root span: a trace id in two halves and a span id. None
/// of them is zero.
struct root_ids {
  std::uint64_t trace_high = 0;
  std::uint64_t trace_low = 0;
  std::uint64_t span = 0;
};

// The 2^-64 case of draw_root_ids (a zero id): draw again, off the hot path.
STREAMBUS_TRACING_COLD inline root_ids redraw_root_ids() noexcept {
  auto& rng = thread_rng();
  root_ids ids;
  do {
    ids.trace_high = rng.next_unchecked();
    ids.trace_low = rng.next_unchecked();
  } while ((ids.trace_high | ids.trace_low) == 0);
  ids.span = random_nonzero_u64();
  return ids;
}

/// Three draws in one visit to the generator, straight-line.
STREAMBUS_TRACING_ALWAYS_INLINE root_ids draw_root_ids() noexcept {
  auto& rng = thread_rng();
  rng.check_fork();
  root_ids ids;
  ids.trace_high = rng.next_unchecked();
  ids.trace_low = rng.next_unchecked();
  ids.span = rng.next_unchecked();
  if ((ids.trace_high | ids.trace_low) == 0 || ids.span == 0) return redraw_root_ids();
  return ids;
}

/// A child span's id (non-zero).
STREAMBUS_TRACING_ALWAYS_INLINE std::uint64_t draw_span_id() noexcept {
  auto& rng = thread_rng();
  rng.check_fork();
  const std::uint64_t id = rng.next_unchecked();
  return id != 0 ? id : random_nonzero_u64();
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
