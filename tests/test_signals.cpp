// The library's own threads take no asynchronous signal: a service that
// blocks SIGTERM and waits for it with sigwait() in a thread of its own must
// get it there, even when it blocks it after creating its tracer (the export
// thread was then the one thread left to take it, and its default action
// ended the process without a flush).
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#if defined(__unix__) || defined(__APPLE__)

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "support/child_process.hpp"
#include "support/counting_exporter.hpp"

namespace st = streambus::tracing;
using namespace std::chrono_literals;

namespace {

// In a child process: what the service does. Exit status 0 when the waiting
// thread got the signal and the span was exported.
[[noreturn]] void run_service() {
  auto exporter = std::make_shared<counting_exporter>();
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.exporters.push_back(exporter);
  auto tracer = st::tracer::create(cfg);  // the export thread starts here
  { auto s = tracer.start("work"); }
  // The export thread has run: past its start, where glibc briefly blocks
  // every signal in a new thread.
  const bool exported_before = tracer.force_flush(5s) && exporter->spans.load() == 1;

  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // after create(): the export thread did not inherit it
  // Sent before the waiting thread exists: a library thread that does not
  // block it is then the only one that can take it.
  ::kill(::getpid(), SIGUSR1);  // to the process, as `kill <pid>` sends it
  int received = 0;
  std::thread waiter([&] { sigwait(&term, &received); });
  waiter.join();
  const bool flushed = tracer.shutdown(5s);
  ::_exit(exported_before && received == SIGUSR1 && flushed && exporter->spans.load() == 1 ? 0 : 1);
}

}  // namespace

TEST_CASE("a signal sent to the process reaches the service's sigwait thread, not the export thread") {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) run_service();
  const int status = wait_or_kill(pid, 60s);
  REQUIRE(status != -1);
  CHECK_MESSAGE(!WIFSIGNALED(status), "the child was ended by signal ", WTERMSIG(status), " (taken by a library thread)");
  CHECK(WIFEXITED(status));
  if (WIFEXITED(status)) CHECK(WEXITSTATUS(status) == 0);
}

#endif
