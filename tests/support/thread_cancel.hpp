// Cancelling a thread inside the instrumentation helpers (glibc).
//
// pthread_cancel unwinds the cancelled thread with a "forced unwind" exception
// that must not be swallowed: a catch (...) that does not rethrow it aborts the
// process ("FATAL: exception not rethrown"). The helpers' catch blocks rethrow
// it before describing the failure or retrying. (glibc only. Not under TSan or
// gcc's ASan: both fail on pthread_cancel even in a program without this
// library, e.g. ASan's "CHECK failed: asan_thread.cpp:371".)
#pragma once

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define STREAMBUS_TEST_SANITIZER_WITHOUT_CANCEL 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STREAMBUS_TEST_SANITIZER_WITHOUT_CANCEL 1
#endif
#endif
#if defined(__linux__) && defined(__GLIBC__) && !defined(STREAMBUS_TEST_SANITIZER_WITHOUT_CANCEL)
#define STREAMBUS_TEST_CAN_CANCEL 1

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace cancel_support {

struct cancel_case {
  std::function<void(const std::function<void()>&)> body;  // called with wait_for_cancel
  std::atomic<bool> started{false};
};

inline void* run_until_cancelled(void* arg) {
  auto* c = static_cast<cancel_case*>(arg);
  const std::function<void()> wait_for_cancel = [c] {
    c->started = true;
    for (;;) {
      ::pthread_testcancel();  // a cancellation point: unwinds from here once cancelled
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  c->body(wait_for_cancel);
  return nullptr;
}

// Runs body(wait_for_cancel) on a new thread and cancels it once
// wait_for_cancel runs. True if the thread ended cancelled; without the
// rethrow the process aborts before this returns.
template <class Body>
bool cancelled_inside(Body body) {
  cancel_case c;
  c.body = std::move(body);
  pthread_t thread;
  if (::pthread_create(&thread, nullptr, &run_until_cancelled, &c) != 0) return false;
  while (!c.started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ::pthread_cancel(thread);
  void* result = nullptr;
  return ::pthread_join(thread, &result) == 0 && result == PTHREAD_CANCELED;
}

}  // namespace cancel_support
#endif
