// The library's own threads (export, exporters', HTTP watchdog) start with
// asynchronous signals blocked.
//
// A process-directed signal goes to any thread that does not block it. A
// service that blocks SIGTERM in main() and waits for it with sigwait() in a
// thread of its own (after creating its tracer, say) would otherwise have it
// delivered to an export thread, whose default action ends the process
// without a flush. Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS)
// and SIGABRT stay deliverable: they belong to the thread that raises them.
#pragma once

#include <thread>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <signal.h>
#endif

#include "../version.hpp"

STREAMBUS_TRACING_BEGIN_NAMESPACE
namespace detail {

template <class F>
std::thread start_background_thread(F&& body) {
#if defined(__unix__) || defined(__APPLE__)
  sigset_t blocked, previous;
  sigfillset(&blocked);
  for (const int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&blocked, fault);
  // The new thread inherits the calling thread's mask; the caller's is restored at once.
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  struct restore_mask {
    const sigset_t* mask;
    ~restore_mask() { pthread_sigmask(SIG_SETMASK, mask, nullptr); }
  } restore{&previous};
#endif
  return std::thread(std::forward<F>(body));
}

}  // namespace detail
STREAMBUS_TRACING_END_NAMESPACE
