// A span that is current on one thread and ended on another (moved into a
// callback, handed to a worker): its thread must stop treating it as
// current, whether it was sampled, unsampled or a disabled tracer's
// pass-through span, and its stack must not grow without bound.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "support/memory_tracer.hpp"

namespace st = streambus::tracing;

namespace {

// Ending a current span elsewhere is reported; counted here, not printed.
std::atomic<int> reports{0};

st::config quiet(st::config cfg = {}) {
  cfg.on_diagnostic = [](std::string_view) { ++reports; };
  return cfg;
}

st::config with_ratio(double ratio) {
  st::config cfg;
  cfg.sampler = "traceidratio";
  cfg.sampling_rate = ratio;
  return quiet(cfg);
}

// Ends `s` on a thread of its own, and waits.
void end_on_another_thread(st::span&& s) {
  std::thread([moved = std::move(s)]() mutable { moved.end(); }).join();
}

// Forks; the child runs `in_child` and reports whether a span is current
// there afterwards. -1 if the child did not exit normally.
template <class F>
int current_in_child(const st::tracer& t, F&& in_child) {
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    in_child();
    _exit(t.current_context().valid() ? 1 : 0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

const std::map<std::string, std::string> remote_headers{
    {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}};

}  // namespace

TEST_CASE("an unsampled current span ended on another thread stops being current") {
  memory_tracer f(with_ratio(0.0));
  auto moved = f.tracer.start("moved-away");
  const st::trace_id moved_trace = moved.context().trace_id();
  REQUIRE_FALSE(moved.is_recording());
  const int reported = reports;
  end_on_another_thread(std::move(moved));
  CHECK(reports == reported + 1);  // still a misuse, and said so

  CHECK_FALSE(f.tracer.current_context().valid());
  auto next = f.tracer.start("next");
  CHECK(next.context().trace_id() != moved_trace);  // a new trace, not the ended span's
  std::map<std::string, std::string> out;
  next.end();
  f.tracer.inject(out);
  CHECK(out.count("traceparent") == 0);  // nothing current any more
}

TEST_CASE("an unsampled span ended elsewhere does not cut sampling off on its thread") {
  // Parent-based: the children of an unsampled span are unsampled. Were the
  // ended span still current, no later span on this thread would record.
  memory_tracer f(quiet());  // parentbased_always_on
  auto moved = f.tracer.start("unsampled-remote-child", f.tracer.extract(remote_headers));
  REQUIRE_FALSE(moved.is_recording());
  end_on_another_thread(std::move(moved));
  auto next = f.tracer.start("next-request");
  CHECK(next.is_recording());
  CHECK_FALSE(next.context().trace_id() == f.tracer.extract(remote_headers).trace_id());
}

TEST_CASE("an ended-elsewhere span under a live one goes when the live one ends") {
  memory_tracer f(with_ratio(0.0));
  auto outer = f.tracer.start("outer");
  auto moved = f.tracer.start("moved-away");
  auto inner = f.tracer.start("inner");  // current, above the span that moves
  const st::span_id inner_id = inner.context().span_id();
  end_on_another_thread(std::move(moved));
  CHECK(f.tracer.current_context().span_id() == inner_id);  // still current
  inner.end();
  // The moved span's entry is now on top, and is dropped: outer is current.
  CHECK(f.tracer.current_context().span_id() == outer.context().span_id());
  outer.end();
  CHECK_FALSE(f.tracer.current_context().valid());
}

TEST_CASE("a notice for an entry already gone marks nothing") {
  memory_tracer f(with_ratio(0.0));
  auto outer = f.tracer.start("outer");
  auto moved = f.tracer.start("moved-away");
  outer.end();  // removes moved's entry as well
  auto replacement = f.tracer.start("replacement");  // takes the same depth
  end_on_another_thread(std::move(moved));
  CHECK(f.tracer.current_context().span_id() == replacement.context().span_id());
}

TEST_CASE("a disabled tracer's pass-through span ended elsewhere stops being current") {
  st::config cfg;
  cfg.enabled = false;
  cfg.read_environment = false;
  auto disabled = st::tracer::create(cfg);
  auto passing = disabled.start("handler", disabled.extract(remote_headers));
  REQUIRE(disabled.current_context().valid());
  end_on_another_thread(std::move(passing));
  CHECK_FALSE(disabled.current_context().valid());
  std::map<std::string, std::string> out;
  disabled.inject(out);
  CHECK(out.count("traceparent") == 0);
}

TEST_CASE("a thread whose spans all end elsewhere keeps a small stack") {
  // A consumer loop: each message's span is started under the message's
  // context and handed to a worker, so this thread never looks at its top
  // entry. Sampled and unsampled spans alike.
  for (const double ratio : {0.0, 1.0}) {
    CAPTURE(ratio);
    memory_tracer f(with_ratio(ratio));
    const st::span_context parent = f.tracer.extract(remote_headers);
    for (int i = 0; i < 2000; ++i) end_on_another_thread(f.tracer.start("consume", parent));
    CHECK(st::detail::thread_context_stack().size() <= 32);
    CHECK_FALSE(f.tracer.current_context().valid());
    if (ratio == 1.0) CHECK(f.spans().size() == 2000);
  }
}

TEST_CASE("spans ended elsewhere while their thread starts and ends others (threads, TSan)") {
  memory_tracer f(with_ratio(0.0));
  constexpr int rounds = 300;
  std::atomic<bool> stop{false};
  std::vector<st::span> handed;
  std::mutex handed_mutex;
  std::thread ender([&] {
    while (!stop.load()) {
      std::vector<st::span> batch;
      {
        std::lock_guard<std::mutex> lock(handed_mutex);
        batch.swap(handed);
      }
      batch.clear();  // ends them here
      std::this_thread::yield();
    }
  });
  for (int i = 0; i < rounds; ++i) {
    auto kept = f.tracer.start("kept");
    {
      std::lock_guard<std::mutex> lock(handed_mutex);
      handed.push_back(f.tracer.start("handed"));
    }
    auto child = f.tracer.start("child");  // under "handed" or, once it ended, "kept"
    child.end();
    kept.end();  // removes whatever is still above it
    CHECK_FALSE(f.tracer.current_context().valid());
  }
  stop = true;
  ender.join();
  CHECK(st::detail::thread_context_stack().size() == 0);
}

TEST_CASE("a span ended after its thread exited, and a thread exiting with notices pending") {
  memory_tracer f(with_ratio(0.0));
  st::span from_exited;
  std::thread([&] { from_exited = f.tracer.start("from-exited-thread"); }).join();
  from_exited.end();  // its stack is gone: no notice, nothing touched

  std::atomic<bool> posted{false};
  st::span handed;
  std::thread origin([&] {
    handed = f.tracer.start("handed");
    std::thread([&] {
      handed.end();
      posted = true;
    }).join();
    // exits with the notice unread
  });
  origin.join();
  CHECK(posted.load());
}

TEST_CASE("in a fork()ed child, spans ended on another thread stop being current") {
  memory_tracer f(with_ratio(0.0));
  auto before = f.tracer.start("before-fork");  // this thread's stack is registered
  before.end();
  const int current = current_in_child(f.tracer, [&] { end_on_another_thread(f.tracer.start("moved-in-child")); });
  CHECK(current == 0);
}

TEST_CASE("a notice still unread at fork() is read in the child") {
  memory_tracer f(with_ratio(0.0));
  auto moved = f.tracer.start("ended-before-fork");
  end_on_another_thread(std::move(moved));  // its notice waits for this thread's next look
  REQUIRE(st::detail::thread_context_stack().unread_notices() == 1);
  CHECK(current_in_child(f.tracer, [] {}) == 0);
  CHECK_FALSE(f.tracer.current_context().valid());
}

TEST_CASE("a notice unread at fork() survives even while other threads are posting notices") {
  // Other threads keep taking the registry's lock (a producer's spans ended
  // by a consumer thread); a child forked while one holds it must still see
  // this thread's notice.
  memory_tracer f(with_ratio(0.0));
  std::atomic<bool> stop{false};
  std::mutex queue_mutex;
  std::vector<st::span> queue;
  std::thread producer([&] {
    while (!stop.load()) {
      auto s = f.tracer.start("background");
      std::lock_guard<std::mutex> lock(queue_mutex);
      if (queue.size() < 1000) queue.push_back(std::move(s));
    }
  });
  std::thread consumer([&] {
    while (!stop.load()) {
      std::vector<st::span> batch;
      std::lock_guard<std::mutex> lock(queue_mutex);
      batch.swap(queue);  // ended here, once the lock is released
    }
  });
  int stale_children = 0;
  for (int i = 0; i < 40; ++i) {
    end_on_another_thread(f.tracer.start("moved"));
    REQUIRE(st::detail::thread_context_stack().unread_notices() == 1);
    const int current = current_in_child(f.tracer, [] {});
    REQUIRE(current >= 0);
    stale_children += current;
    CHECK_FALSE(f.tracer.current_context().valid());
  }
  stop = true;
  producer.join();
  consumer.join();
  CHECK(stale_children == 0);
}

TEST_CASE("a late end from an exited thread leaves a new thread's pass-through span alone") {
  // A new thread may get the exited thread's stack address (glibc reuses
  // thread stacks, and the static TLS in them). Pass-through spans with the
  // same parent have the same span id, and each is its thread's first at
  // depth 0: only a process-wide token tells them apart.
  st::config cfg;
  cfg.enabled = false;
  cfg.read_environment = false;
  auto disabled = st::tracer::create(cfg);
  st::span from_exited;
  std::thread([&] { from_exited = disabled.start("handler", disabled.extract(remote_headers)); }).join();
  std::atomic<bool> started{false}, ended{false};
  bool current_after = false;
  std::thread live([&] {
    auto mine = disabled.start("handler", disabled.extract(remote_headers));
    started = true;
    while (!ended.load()) std::this_thread::yield();
    current_after = disabled.current_context().valid();
  });
  while (!started.load()) std::this_thread::yield();
  from_exited.end();
  ended = true;
  live.join();
  CHECK(current_after);
}

TEST_CASE("notices for entries an enclosing span already removed are read, not kept") {
  // A consumer loop under explicit parents: it never looks at its top entry.
  memory_tracer f(with_ratio(0.0));
  const st::span_context message = f.tracer.extract(remote_headers);
  for (int i = 0; i < 1000; ++i) {
    auto poll = f.tracer.start("poll", message);
    end_on_another_thread(f.tracer.start("process", poll.context()));
    poll.end();  // takes the handed span's entry too, and reads the notice
  }
  CHECK(st::detail::thread_context_stack().unread_notices() == 0);
  CHECK(st::detail::thread_context_stack().size() == 0);
}

TEST_CASE("a thread whose newest span is always live keeps a small stack") {
  // A worker one message behind: span i ends elsewhere when span i+1 has
  // started, so the top entry is always live and the ended ones lie below.
  for (const double ratio : {0.0, 1.0}) {
    CAPTURE(ratio);
    memory_tracer f(with_ratio(ratio));
    const st::span_context message = f.tracer.extract(remote_headers);
    st::span previous;
    for (int i = 0; i < 2000; ++i) {
      auto next = f.tracer.start("consume", message);
      end_on_another_thread(std::move(previous));
      previous = std::move(next);
    }
    CHECK(st::detail::thread_context_stack().size() <= 32);
    previous.end();
    CHECK_FALSE(f.tracer.current_context().valid());
    if (ratio == 1.0) CHECK(f.spans().size() == 2000);
  }
}

TEST_CASE("a span whose entry moved down ends its own entry, not a pass-through span's with its id") {
  // Eight ended entries below a span x are squeezed out when the stack
  // grows: x moves from depth 8 to 0, and the pass-through spans above it
  // (which carry x's span id) move down too, the newest to depth 8.
  memory_tracer f(with_ratio(0.0));
  st::config off;
  off.enabled = false;
  off.read_environment = false;
  auto disabled = st::tracer::create(off);
  const st::span_context message = f.tracer.extract(remote_headers);
  for (int i = 0; i < 8; ++i) end_on_another_thread(f.tracer.start("ended", message));  // explicit parent: no look at the top
  auto x = f.tracer.start("x", message);
  std::vector<st::span> passing;
  for (int i = 0; i < 8; ++i) passing.push_back(disabled.start("pass", x.context()));  // the 8th push grows the stack
  REQUIRE(st::detail::thread_context_stack().size() == 9);
  x.end();  // takes x's entry and the pass-through ones above it
  CHECK_FALSE(f.tracer.current_context().valid());
  CHECK(st::detail::thread_context_stack().size() == 0);
}
