// Out of memory on a traced thread: every allocation the span API makes may
// fail, and none may crash, throw out of a noexcept call, leak, or leave the
// thread's current-span stack unbalanced. The span API degrades to no-op spans
// and dropped attributes; once memory is back, spans record and export again.
//
// This executable replaces the global operator new (so it is its own test
// program): on the thread under test, every allocation from the n-th on
// throws std::bad_alloc, for n = 0, 1, 2, ... up to the number a whole round
// makes. The export thread is never armed, so what it receives shows which
// spans survived.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {

// Allocations left before they start failing on this thread; negative: never.
thread_local long allocations_until_failure = -1;
// Allocations made on this thread while counting.
thread_local long allocations_made = 0;

void* allocate(std::size_t size, std::size_t alignment) {
  ++allocations_made;
  if (allocations_until_failure == 0) throw std::bad_alloc();
  if (allocations_until_failure > 0) --allocations_until_failure;
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else if (::posix_memalign(&p, alignment, size) != 0) {
    p = nullptr;
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

// Out of line: where g++ sees operator delete call free() on what operator new
// returned, -Wmismatched-new-delete misfires.
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }

}  // namespace

void* operator new(std::size_t size) { return allocate(size, alignof(std::max_align_t)); }
void* operator new[](std::size_t size) { return allocate(size, alignof(std::max_align_t)); }
void* operator new(std::size_t size, std::align_val_t a) { return allocate(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return allocate(size, static_cast<std::size_t>(a)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }

namespace st = streambus::tracing;

namespace {

struct round_result {
  long allocations = 0;            // made during the armed part
  bool stack_balanced = false;     // no current span once every span ended
  bool recovered = false;          // a span started after the failures records, from the thread's own pool
  bool threw = false;              // an exception escaped the span API
  int recording_spans = 0;         // of the four started while armed
};

// One round on a fresh thread (so its thread-local state is created under the
// failures too): nested spans with attributes, an event, a link, an error and
// an injected context, with allocations failing from the n-th on (n < 0: never).
round_result run_round(st::tracer& tracer, long n, int round) {
  round_result r;
  std::thread worker([&] {
    // What the caller allocates itself is made before the failures start.
    const std::string long_value(200, 'v');
    const std::runtime_error boom("an error message longer than a small-string buffer");
    st::span_options options;
    options.kind = st::span_kind::client;
    options.links.push_back(st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(3), st::trace_flags(1)));
    st::span_options detached_options;
    detached_options.make_current = false;
    std::map<std::string, std::string> headers{{"traceparent", std::string(64, '-')}};
    const std::map<std::string, std::string> received{
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
    allocations_made = 0;
    allocations_until_failure = n;
    try {
      auto parent = tracer.start("a parent span whose name is longer than any small-string buffer");
      parent.set_attribute("round", round);
      parent.set_attribute("text", long_value);
      // Short strings in attribute lists: a long one would be copied into an
      // attribute_value by the caller's own expression, before the call.
      parent.add_event("an event with attributes", {{"k", "short"}, {"n", 2}});
      r.recording_spans += parent.is_recording() ? 1 : 0;
      {
        auto child = tracer.start("child", options);
        child.record_error(boom);
        r.recording_spans += child.is_recording() ? 1 : 0;
        auto grandchild = tracer.start("grandchild", parent.context());
        grandchild.set_attributes({{"a", 1}, {"b", "short"}});
        grandchild.set_attribute("long", long_value);
        r.recording_spans += grandchild.is_recording() ? 1 : 0;
      }
      try {
        tracer.inject(headers);  // not noexcept: writing into the caller's container may throw
      } catch (const std::bad_alloc&) {
      }
      auto detached = tracer.start("detached", detached_options);
      r.recording_spans += detached.is_recording() ? 1 : 0;
    } catch (...) {
      r.threw = true;
    }
    // The helpers let the caller's exception through, never one of their own.
    try {
      tracer.trace_with_retry("retried", 2, [&] { throw boom; });
      r.threw = true;
    } catch (const std::runtime_error& e) {
      r.threw = r.threw || e.what() != boom.what();
    } catch (...) {
      r.threw = true;
    }
    try {
      r.threw = r.threw || tracer.instrumented_operation("operation", [] { return 7; }) != 7;
    } catch (...) {
      r.threw = true;
    }
    try {  // the messaging helpers (the headers are only read here, so any throw would be theirs)
      auto produced = tracer.trace_produce_message("orders.created.v1", 3, "a key longer than sixteen bytes", "body");
      auto consumed = tracer.trace_consume_message("orders.created.v1", 3, 42, received);
    } catch (...) {
      r.threw = true;
    }
    allocations_until_failure = -1;
    r.allocations = allocations_made;
    r.stack_balanced = !tracer.current_context().valid();
    auto after = tracer.start("after");
    after.set_attribute("round", round);
    // Recording, and with a record pool of its own again (not the shared
    // one that keeps nothing, which a failed pool allocation once left the
    // thread on for good).
    r.recovered = after.is_recording() && !st::detail::thread_record_pool().retired();
  });
  worker.join();
  return r;
}

}  // namespace

// First in this program (doctest runs a file's cases in order): a
// default-constructed tracer's propagators are made on first use, here while
// every allocation fails (a throwing new once ended the process from the
// noexcept extract and inject). Nothing is propagated then; once memory is
// back, everything is.
TEST_CASE("a default-constructed tracer out of memory propagates nothing, then recovers") {
  std::thread worker([] {
    st::tracer disabled;
    const std::map<std::string, std::string> incoming{
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
    std::map<std::string, std::string> outgoing;
    allocations_until_failure = 0;
    const st::span_context failed = disabled.extract(incoming);
    {
      auto span = disabled.start("pass-through", failed);
      disabled.inject(outgoing);
    }
    allocations_until_failure = -1;
    CHECK_FALSE(failed.valid());
    CHECK(outgoing.empty());
    const st::span_context ctx = disabled.extract(incoming);
    CHECK(ctx.valid());
    auto span = disabled.start("pass-through", ctx);
    disabled.inject(outgoing);
    CHECK(outgoing["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  });
  worker.join();
}

// No thread of this program has had a record pool yet (doctest runs a
// file's cases in order; the case above records nothing), so the shared pool
// a thread falls back on is made now, while every allocation fails (it once came from operator new, whose
// bad_alloc ended the process from a noexcept function).
TEST_CASE("the first thread ever to run out of memory still starts and ends spans") {
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "oom-test";
  cfg.exporter = "none";
  auto tracer = st::tracer::create(cfg);
  const round_result r = run_round(tracer, 0, 0);
  CHECK_FALSE(r.threw);
  CHECK(r.stack_balanced);
  CHECK(r.recovered);
  CHECK(r.recording_spans == 0);
}

// Each round on a fresh tracer: the first thread of a tracer binds its span
// counters, which once leaked their slot when recording it failed (LSan).
TEST_CASE("a tracer's first thread out of memory leaks nothing") {
  for (long n = 0; n < 40; ++n) {
    CAPTURE(n);
    st::config cfg;
    cfg.read_environment = false;
    cfg.service_name = "oom-test";
    cfg.exporter = "none";
    auto tracer = st::tracer::create(cfg);
    const round_result r = run_round(tracer, n, static_cast<int>(n));
    CHECK_FALSE(r.threw);
    CHECK(r.stack_balanced);
    CHECK(r.recovered);
  }
}

TEST_CASE("every allocation of a round of spans may fail: no crash, no escape, balanced stack, recovery") {
  auto memory = std::make_shared<st::in_memory_exporter>(/*synchronous=*/false);
  std::mutex diagnostics_mutex;
  std::vector<std::string> diagnostics;
  st::config cfg;
  cfg.on_diagnostic = [&](std::string_view message) {
    std::lock_guard<std::mutex> lock(diagnostics_mutex);
    diagnostics.emplace_back(message);
  };
  cfg.read_environment = false;
  cfg.service_name = "oom-test";
  cfg.exporter = "none";
  cfg.exporters.push_back(memory);
  auto tracer = st::tracer::create(cfg);

  const round_result full = run_round(tracer, -1, -1);
  REQUIRE_FALSE(full.threw);
  REQUIRE(full.recording_spans == 4);
  REQUIRE(full.allocations > 5);  // a fresh thread: its stack, record pool and lane are allocated

  // Each n twice: a round that fell back on the shared pools must leave them
  // whole for the next (the first thread's exit once freed the shared record
  // pool, which the second then used).
  int rounds = 0, degraded = 0;
  for (long n = 0; n <= full.allocations; ++n) {
    for (int repeat = 0; repeat < 2; ++repeat) {
      CAPTURE(n);
      CAPTURE(repeat);
      const round_result r = run_round(tracer, n, static_cast<int>(n));
      CHECK_FALSE(r.threw);
      CHECK(r.stack_balanced);
      CHECK(r.recovered);
      degraded += r.recording_spans < 4 ? 1 : 0;
      ++rounds;
    }
  }
  CHECK(degraded > 0);  // the failures did reach the span API

  // Every round's "after" span reached the exporter: the pipeline survived.
  REQUIRE(tracer.force_flush(std::chrono::seconds(10)));
  int after_spans = 0;
  for (const auto& s : memory->spans())
    if (s.name == "after") ++after_spans;
  CHECK(after_spans == rounds + 1);
  // No span is lost silently: what was not exported was counted as dropped
  // (a thread that could not get its export queue drops its spans).
  const st::tracer_stats stats = tracer.stats();
  CHECK(stats.spans_ended == stats.spans_exported + stats.spans_dropped);
  CHECK(stats.spans_failed == 0);
  // Drops for want of memory are reported as such, not as a full queue.
  REQUIRE(tracer.shutdown());
  std::lock_guard<std::mutex> lock(diagnostics_mutex);
  bool said_out_of_memory = false;
  for (const auto& d : diagnostics) {
    CHECK(d.find("export queue full") == std::string::npos);
    if (d.find("out of memory") != std::string::npos) said_out_of_memory = true;
  }
  CHECK(said_out_of_memory == (stats.spans_dropped > 0));
}

// The same allocator counts: a braced attribute list with strings longer than
// any small-string buffer costs no allocation of its own in steady state
// (the strings are viewed, then copied into the span's reused storage).
TEST_CASE("attribute lists with long strings and the messaging helpers allocate nothing in steady state") {
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.sampling_rate = 1.0;
  auto tracer = st::tracer::create(cfg);
  const std::string key_value = "a value longer than sixteen bytes, held by the caller";
  std::map<std::string, std::string> headers{{"traceparent", std::string(64, '-')}};
  const std::vector<int> ids{4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<std::string> hosts{"host-one.example.internal", "host-two.example.internal"};
  const std::vector<double> ratios{0.25, 0.5};
  const std::vector<bool> bits{true, true, false};
  const auto round = [&] {
    auto s = tracer.start("op");
    s.set_attributes({{"literal", "a literal longer than sixteen bytes"}, {"lvalue", key_value}, {"n", 7}});
    s.add_event("event", {{"literal", "another literal longer than sixteen bytes"}, {"flag", true}});
    s.record_error("an error message longer than sixteen bytes", {{"extra", "one more long literal value"}});
    tracer.add_event("on the current span", {{"view", std::string_view(key_value)}});
    // Arrays: braced lists copied into the argument, vectors viewed or passed directly.
    s.set_attributes({{"ints", {1, 2, 3}}, {"names", {"a long first name, past sixteen bytes", "b"}}, {"flags", {true, false}}});
    s.set_attributes({{"ids", ids}, {"hosts", hosts}});
    s.set_attribute("ratios", ratios).set_attribute("hosts again", hosts);
    s.add_event("batch", {{"offsets", {7L, 8L, 9L, 10L}}, {"bits", bits}});
    // The messaging helpers: a topic long enough that "send <topic>" needs more than a small string.
    auto produced = tracer.trace_produce_message("orders.created.v1", 3, "order-1234567890", "body", headers);
    auto consumed = tracer.trace_consume_message("orders.created.v1", 3, 42, headers);
  };
  long made = -1;
  std::thread worker([&] {
    for (int i = 0; i < 2000; ++i) round();  // warm: records, lanes and buffers reach their sizes
    allocations_made = 0;
    for (int i = 0; i < 1000; ++i) round();
    made = allocations_made;
  });
  worker.join();
  CHECK(made == 0);
  // What was stored is what was passed (viewed strings were copied in time).
  auto memory = std::make_shared<st::in_memory_exporter>();
  st::config mcfg = cfg;
  mcfg.exporters.push_back(memory);
  auto checked = st::tracer::create(mcfg);
  {
    auto s = checked.start("op");
    s.set_attributes({{"lvalue", key_value}, {"temporary", std::string(40, 't')}, {"array", {1, 2, 3}}});
    s.set_attributes({{"ids", ids}, {"hosts", hosts}, {"names", {"x", static_cast<const char*>(nullptr)}}});
    s.set_attributes({{"long list", {1, 2, 3, 4, 5, 6, 7, 8, 9}}, {"views", {std::string_view("p"), std::string_view("q")}}});
    s.set_attribute("ratios", ratios).set_attribute("bits", bits).set_attribute("shorts", std::vector<short>{-1, 2});
    s.add_event("batch", {{"offsets", {7L, 8L}}, {"flags", {true}}, {"empty", std::vector<double>{}}});
  }
  const auto spans = memory->spans();
  REQUIRE(spans.size() == 1);
  CHECK(*spans[0].attributes.find("lvalue") == st::attribute_value(key_value));
  CHECK(*spans[0].attributes.find("temporary") == st::attribute_value(std::string(40, 't')));
  CHECK(*spans[0].attributes.find("array") == st::attribute_value(std::vector<std::int64_t>{1, 2, 3}));
  const auto& attrs = spans[0].attributes;
  CHECK(*attrs.find("ids") == st::attribute_value(std::vector<std::int64_t>{4, 5, 6, 7, 8, 9, 10, 11, 12}));
  CHECK(*attrs.find("hosts") == st::attribute_value(hosts));
  CHECK(*attrs.find("names") == st::attribute_value(std::vector<std::string>{"x", ""}));
  CHECK(*attrs.find("long list") == st::attribute_value(std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  CHECK(*attrs.find("views") == st::attribute_value(std::vector<std::string>{"p", "q"}));
  CHECK(*attrs.find("ratios") == st::attribute_value(ratios));
  CHECK(*attrs.find("bits") == st::attribute_value(bits));
  CHECK(*attrs.find("shorts") == st::attribute_value(std::vector<std::int64_t>{-1, 2}));
  REQUIRE(spans[0].events.size() == 1);
  const auto& event = spans[0].events[0].attributes;
  CHECK(*event.find("offsets") == st::attribute_value(std::vector<std::int64_t>{7, 8}));
  CHECK(*event.find("flags") == st::attribute_value(std::vector<bool>{true}));
  CHECK(*event.find("empty") == st::attribute_value(std::vector<double>{}));
}

namespace {
// Holds every export while hold() is in force, and says when it is inside one.
class held_exporter final : public st::span_exporter {
 public:
  st::export_result export_spans(const st::span_batch&) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    inside_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_; });
    inside_ = false;
    return st::export_result::success;
  }
  std::string_view name() const noexcept override { return "held"; }
  void shutdown(std::chrono::milliseconds) noexcept override { release(); }
  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = false;
    }
    changed_.notify_all();
  }
  bool wait_inside(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return inside_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool inside_ = false;
};
}  // namespace

// The export thread falls behind: it holds a batch while the lane fills up
// and spans are dropped, then gets everything back at once. Every record
// away from the traced thread (a full lane and a batch) must fit on the
// lane's return ring; when it did not, the export thread deleted the rest and
// the traced thread rebuilt them on the next burst (bench/ case 2: 0.0017
// allocations per span).
TEST_CASE("a traced thread allocates nothing in steady state while the export thread falls behind") {
  auto exporter = std::make_shared<held_exporter>();
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.sampling_rate = 1.0;
  cfg.exporters.push_back(exporter);
  st::batch_options batch;
  batch.max_queue_size = 64;
  batch.max_export_batch_size = 16;
  cfg.batch = batch;
  cfg.on_diagnostic = [](std::string_view) {};  // "export queue full"
  auto tracer = st::tracer::create(cfg);
  const std::string value(40, 'v');  // an attribute: the span goes out as its record
  long made = -1;
  bool export_held = true;
  std::thread worker([&] {
    const auto burst = [&] {
      exporter->hold();
      for (int i = 0; i < 16; ++i) tracer.start("op").set_attribute("value", value);  // a full batch wakes the export thread
      export_held = exporter->wait_inside(std::chrono::seconds(30)) && export_held;  // which holds those 16
      for (int i = 0; i < 100; ++i) tracer.start("op").set_attribute("value", value);  // fills the lane, drops the rest
      exporter->release();
      tracer.force_flush();  // every record comes back
    };
    for (int i = 0; i < 3; ++i) burst();  // records, lane and buffers reach their sizes
    allocations_made = 0;
    for (int i = 0; i < 5; ++i) burst();
    made = allocations_made;
  });
  worker.join();
  CHECK(export_held);
  CHECK(made == 0);
  const st::tracer_stats stats = tracer.stats();
  CHECK(stats.spans_dropped > 0);  // the lane did fill up
  CHECK(stats.spans_exported + stats.spans_dropped == stats.spans_ended);
}

// A tracer with two exporters starts a thread per exporter: an allocation that
// fails part-way through creating them (a thread's state, a queue) throws
// std::bad_alloc out of create(), and leaves no thread running (a joinable
// std::thread destroyed would end the process).
TEST_CASE("creating a tracer with two exporters may fail at any allocation: bad_alloc, no thread left behind") {
  const auto make = [] {
    st::config cfg;
    cfg.read_environment = false;
    cfg.exporter = "none";
    cfg.exporters = {std::make_shared<st::in_memory_exporter>(false), std::make_shared<st::in_memory_exporter>(false)};
    cfg.on_diagnostic = [](std::string_view) {};
    return cfg;
  };
  long total = 0;
  {
    const st::config cfg = make();
    allocations_made = 0;
    auto tracer = st::tracer::create(cfg);
    total = allocations_made;
  }
  REQUIRE(total > 5);
  int failed = 0;
  for (long n = 0; n <= total; ++n) {
    CAPTURE(n);
    const st::config cfg = make();
    bool threw = false;
    allocations_until_failure = n;
    try {
      auto tracer = st::tracer::create(cfg);
      allocations_until_failure = -1;
      { auto s = tracer.start("works"); }
      CHECK(tracer.shutdown(std::chrono::seconds(10)));
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    allocations_until_failure = -1;
    failed += threw ? 1 : 0;
  }
  CHECK(failed > 0);
}

// Copying attributes (a tracer's resource, a record ended on another thread,
// the copies for several exporters) may fail at any allocation: it throws
// std::bad_alloc and leaves the copy-to intact. libstdc++ 12's own copy of the
// value's std::variant crashed there.
TEST_CASE("a copy of attributes that runs out of memory throws bad_alloc, and the target stays usable") {
  st::attribute_list from;
  from.set("service.name", std::string("a value long enough for the heap, 40 bytes"));
  from.set("ports", std::vector<std::int64_t>{80, 443, 8080});
  from.set("ratios", std::vector<double>{0.5, 0.25});
  from.set("hosts", std::vector<std::string>{"first-host-name-longer-than-sso", "second-host-name-longer-than-sso"});
  from.set("flags", std::vector<bool>{true, false});
  from.set("n", 42);
  long total = 0;
  {
    allocations_made = 0;
    st::attribute_list copy(from);
    total = allocations_made;
  }
  REQUIRE(total > 5);
  int threw = 0;
  for (long n = 0; n < total; ++n) {
    CAPTURE(n);
    st::attribute_list target;
    target.set("old", std::string("an older value, also long enough for the heap"));
    allocations_until_failure = n;
    try {
      st::attribute_list copy(from);
      target = copy;
    } catch (const std::bad_alloc&) {
      ++threw;
    }
    allocations_until_failure = -1;
    target.set("after", 1);  // still a list that works
    CHECK(target.find("after") != nullptr);
  }
  CHECK(threw > 0);
}
