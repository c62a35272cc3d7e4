// The library's own voice: warnings and errors go to a user hook, by default
// a line on stderr, rate-limited so a broken collector cannot flood the log.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "../clock.hpp"
#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

class diagnostics {
 public:
  using handler = std::function<void(std::string_view)>;

  explicit diagnostics(handler h = {}) : handler_(std::move(h)) {}
  diagnostics(const diagnostics&) = delete;
  diagnostics& operator=(const diagnostics&) = delete;
  // The last window's count, which no later report would print.
  ~diagnostics() { print_suppressed(); }

  /// Reports a message. With the default handler at most `burst` lines per
  /// window reach stderr; the rest are counted and summarised. `limited`
  /// false (the configuration's warnings, a bounded list given once at
  /// startup): printed whatever the window holds, and not counted in it.
  void report(std::string_view message, bool limited = true) noexcept {
    try {
      if (handler_) {
        handler_(message);
        return;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (!limited) {
        print(message);
        return;
      }
      const std::int64_t now = steady_now_ns();
      if (now - window_start_ns_ > window_ns) {
        print_suppressed();
        window_start_ns_ = now;
        in_window_ = 0;
        suppressed_ = 0;
      }
      if (in_window_ < burst) {
        ++in_window_;
        print(message);
      } else {
        ++suppressed_;
      }
    } catch (...) {
      // A diagnostics hook must never take the application down.
    }
  }

  // Held across fork() (tracer.hpp's atfork handlers), so that a child never
  // inherits it locked by a thread that it does not have.
  void lock_for_fork() noexcept { mutex_.lock(); }
  void unlock_after_fork() noexcept { mutex_.unlock(); }

 private:
  static void print(std::string_view message) noexcept {
    std::fprintf(stderr, "[streambus-tracing] %.*s\n", static_cast<int>(message.size()), message.data());
  }
  void print_suppressed() const noexcept {
    if (suppressed_ > 0)
      std::fprintf(stderr, "[streambus-tracing] %llu similar messages suppressed\n",
                   static_cast<unsigned long long>(suppressed_));
  }

  static constexpr std::int64_t window_ns = 10'000'000'000;  // 10 s
  static constexpr std::uint32_t burst = 5;

  handler handler_;
  std::mutex mutex_;
  std::int64_t window_start_ns_ = 0;
  std::uint32_t in_window_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
