// fork(): a child process inherits the tracer object but not its export
// thread, and shares the parent's collector connections. In the child the
// inherited tracer must record nothing (context still propagates), say why
// once, and return from flush, shutdown and its destructor at once instead of
// waiting for a thread that is not there; a new tracer must work there, and
// the parent must not notice.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#if defined(__unix__) || defined(__APPLE__)

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "support/child_process.hpp"
#include "support/counting_exporter.hpp"
#include "support/diagnostics_log.hpp"

#if defined(__SANITIZE_THREAD__)
#define STREAMBUS_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STREAMBUS_TEST_TSAN 1
#endif
#endif

namespace st = streambus::tracing;
using namespace std::chrono_literals;

namespace {

st::tracer make_tracer(const std::shared_ptr<counting_exporter>& exporter, diagnostics_log& diagnostics) {
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.exporters.push_back(exporter);
  cfg.on_diagnostic = diagnostics.callback();
  return st::tracer::create(cfg);
}

// What the child checks, as bits of its exit status (no doctest there).
enum child_failure : int {
  no_propagation = 1,
  records_spans = 2,
  flush_claimed_success = 4,
  shutdown_claimed_success = 8,
  no_diagnostic = 16,
  new_tracer_failed = 32,
};

[[noreturn]] void run_child(st::tracer& inherited, st::span& across, diagnostics_log& diagnostics) {
  int failures = 0;
  across.end();  // started before the fork: discarded here, no crash
  {
    auto s = inherited.start("in.child");  // sampled, so it would record
    if (s.is_recording()) failures |= records_spans;
    // Still a span with ids, current, for the context of outgoing requests.
    if (!s.context().valid() || inherited.current_context() != s.context()) failures |= no_propagation;
  }
  // Would wait a minute each if they waited for the (absent) export thread.
  if (inherited.force_flush(60s)) failures |= flush_claimed_success;
  if (inherited.shutdown(60s)) failures |= shutdown_claimed_success;
  if (!diagnostics.mentions("fork()")) failures |= no_diagnostic;
  { st::tracer gone = std::move(inherited); }  // the destructor must not wait either
#if !defined(STREAMBUS_TEST_TSAN)  // TSan cannot start threads after a multi-threaded fork
  {
    auto exporter = std::make_shared<counting_exporter>();
    diagnostics_log quiet;
    auto fresh = make_tracer(exporter, quiet);
    { auto s = fresh.start("fresh.in.child"); }
    if (!fresh.force_flush(30s) || exporter->spans.load() != 1) failures |= new_tracer_failed;
  }
#endif
  ::_exit(failures);
}

}  // namespace

TEST_CASE("fork: the inherited tracer records nothing in the child and does not wait there; the parent keeps exporting") {
  auto exporter = std::make_shared<counting_exporter>();
  diagnostics_log diagnostics;
  auto tracer = make_tracer(exporter, diagnostics);
  { auto before = tracer.start("before.fork"); }
  REQUIRE(tracer.force_flush());
  REQUIRE(exporter->spans.load() == 1);

  auto across = tracer.start("across.fork");  // open while the process forks
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) run_child(tracer, across, diagnostics);

  // Bounded wait: a child stuck on the parent's export thread is killed.
  const int status = wait_or_kill(pid, 60s);
  if (status == -1) FAIL("the child did not finish within 60 s: it waited for the parent's export thread");
  REQUIRE(WIFEXITED(status));
  const int failures = WEXITSTATUS(status);
  CHECK_MESSAGE((failures & no_propagation) == 0, "a child span had no context, or was not current");
  CHECK_MESSAGE((failures & records_spans) == 0, "a span recorded in the child");
  CHECK_MESSAGE((failures & flush_claimed_success) == 0, "force_flush() claimed success in the child");
  CHECK_MESSAGE((failures & shutdown_claimed_success) == 0, "shutdown() claimed success in the child");
  CHECK_MESSAGE((failures & no_diagnostic) == 0, "no diagnostic naming fork() in the child");
  CHECK_MESSAGE((failures & new_tracer_failed) == 0, "a tracer created in the child did not export");

  // The parent lost nothing and was told nothing.
  across.end();
  { auto after = tracer.start("after.fork"); }
  REQUIRE(tracer.force_flush());
  CHECK(exporter->spans.load() == 3);
  CHECK(tracer.is_enabled());
  CHECK_FALSE(diagnostics.mentions("fork()"));
}


// A parent thread reads stats() in a loop, so it holds the span-count lock a
// good part of the time. A child forked meanwhile reads stats() and starts a
// span: with that lock inherited locked it would hang. The atfork handlers
// hold it across the fork, so it never does.
TEST_CASE("fork: a child never inherits a tracer lock that a parent thread held at the fork") {
  auto exporter = std::make_shared<counting_exporter>();
  diagnostics_log diagnostics;
  auto tracer = make_tracer(exporter, diagnostics);
  { auto warm = tracer.start("warm"); }  // this thread's span-count slot exists
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) static_cast<void>(tracer.stats());
  });
  int hung = 0, failed = 0;
  for (int round = 0; round < 20; ++round) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      static_cast<void>(tracer.stats());
      { auto s = tracer.start("in.child"); }
      ::_exit(0);
    }
    const int status = wait_or_kill(pid, 10s);
    if (status == -1)
      ++hung;
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      ++failed;
  }
  stop.store(true);
  reader.join();
  CHECK(hung == 0);
  CHECK(failed == 0);
}

#endif
