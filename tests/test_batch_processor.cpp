// The asynchronous export pipeline: the lock-free queue, batching, flush,
// overflow accounting, shutdown deadlines, exporter selection by name.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace st = streambus::tracing;
using namespace std::chrono_literals;

namespace {

// An exporter that remembers batch sizes and can be held shut like a slow network.
class gated_exporter final : public st::span_exporter {
 public:
  st::export_result export_spans(const st::span_batch& batch) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    opened_.wait(lock, [&] { return open_ || aborted_; });
    if (aborted_) return st::export_result::failure;
    batch_sizes_.push_back(batch.size());
    for (const auto& s : batch) ids_.insert(s.context.span_id().to_hex());
    return fail_ ? st::export_result::failure : st::export_result::success;
  }
  void shutdown(std::chrono::milliseconds) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (abort_on_shutdown_) aborted_ = true;
    opened_.notify_all();
  }
  std::string_view name() const noexcept override { return "gated"; }

  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
  }
  void set_fail(bool f) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_ = f;
  }
  void set_abort_on_shutdown(bool a) {
    std::lock_guard<std::mutex> lock(mutex_);
    abort_on_shutdown_ = a;
  }
  std::vector<std::size_t> batch_sizes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return batch_sizes_;
  }
  std::size_t unique_spans() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ids_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = true;
  bool fail_ = false;
  bool aborted_ = false;
  bool abort_on_shutdown_ = true;
  std::vector<std::size_t> batch_sizes_;
  std::set<std::string> ids_;
};

st::tracer make_tracer(std::shared_ptr<st::span_exporter> exporter, st::batch_options batch,
                       std::vector<std::string>* diagnostics = nullptr) {
  st::config cfg;
  cfg.exporter = "none";
  cfg.read_environment = false;
  cfg.batch = batch;
  cfg.exporters = {std::move(exporter)};
  if (diagnostics) {
    auto mutex = std::make_shared<std::mutex>();
    cfg.on_diagnostic = [diagnostics, mutex](std::string_view m) {
      std::lock_guard<std::mutex> lock(*mutex);
      diagnostics->emplace_back(m);
    };
  }
  return st::tracer::create(cfg);
}

st::batch_options options(std::size_t queue, std::size_t batch, std::chrono::milliseconds delay = 5000ms) {
  st::batch_options o;
  o.max_queue_size = queue;
  o.max_export_batch_size = batch;
  o.schedule_delay = delay;
  return o;
}

}  // namespace

TEST_CASE("spsc_ring is FIFO, rounds capacity up to a power of two, refuses when full") {
  st::detail::spsc_ring<int> q(5);
  CHECK(q.capacity() == 8);
  int out = 0;
  CHECK_FALSE(q.try_pop(out));
  for (int i = 0; i < 8; ++i) CHECK(q.try_push(i));
  CHECK_FALSE(q.try_push(99));
  CHECK(q.size_approx() == 8);
  for (int i = 0; i < 8; ++i) {
    REQUIRE(q.try_pop(out));
    CHECK(out == i);
  }
  CHECK_FALSE(q.try_pop(out));
  CHECK(q.pushed() == 8);
  // Many laps around the ring, and a full ring that frees one slot at a time.
  for (int i = 0; i < 1000; ++i) {
    CHECK(q.try_push(i));
    REQUIRE(q.try_pop(out));
    CHECK(out == i);
  }
  for (int i = 0; i < 8; ++i) CHECK(q.try_push(i));
  for (int i = 8; i < 100; ++i) {
    REQUIRE(q.try_pop(out));
    CHECK(out == i - 8);
    CHECK(q.try_push(i));
    CHECK_FALSE(q.try_push(-1));
  }
}

TEST_CASE("spsc_ring between two threads delivers every value once and in order") {
  constexpr std::uint64_t count = 200000;
  st::detail::spsc_ring<std::uint64_t> q(64);  // small: the producer meets a full ring often
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < count; ++i)
      while (!q.try_push(i)) std::this_thread::yield();
  });
  std::uint64_t expected = 0;
  std::uint64_t v = 0;
  bool in_order = true;
  while (expected < count) {
    if (q.try_pop(v)) {
      in_order = in_order && v == expected;
      ++expected;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  CHECK(in_order);
  CHECK(q.pushed() == count);
  CHECK_FALSE(q.try_pop(v));
}

namespace {

// A tracer whose only exporter is an in-memory one behind the batch pipeline.
st::tracer batched_memory_tracer(const std::shared_ptr<st::in_memory_exporter>& exporter) {
  st::config cfg;
  cfg.exporter = "none";
  cfg.read_environment = false;
  cfg.exporters.push_back(exporter);
  return st::tracer::create(cfg);
}

}  // namespace

TEST_CASE("spans of threads that exit are all exported and their lanes' records freed") {
  auto exporter = std::make_shared<st::in_memory_exporter>(false);
  auto tracer = batched_memory_tracer(exporter);
  constexpr int rounds = 20;
  constexpr int per_thread = 300;
  for (int round = 0; round < rounds; ++round) {
    std::thread t([&] {
      for (int i = 0; i < per_thread; ++i) tracer.start("short-lived thread");
    });
    t.join();
  }
  REQUIRE(tracer.force_flush());
  const st::tracer_stats stats = tracer.stats();
  CHECK(stats.spans_queued == rounds * per_thread);
  CHECK(stats.spans_dropped == 0);
  CHECK(stats.spans_exported == rounds * per_thread);
  CHECK(exporter->spans().size() == rounds * per_thread);
}

TEST_CASE("a thread that outlives its tracer starts fresh with the next one") {
  for (int round = 0; round < 3; ++round) {
    auto exporter = std::make_shared<st::in_memory_exporter>(false);
    auto tracer = batched_memory_tracer(exporter);
    for (int i = 0; i < 100; ++i) tracer.start("op");
    REQUIRE(tracer.force_flush());
    CHECK(exporter->spans().size() == 100);
    CHECK(tracer.stats().spans_queued == 100);
  }
}

TEST_CASE("spans ended on several threads all reach the exporter in bounded batches") {
  auto exporter = std::make_shared<gated_exporter>();
  auto tracer = make_tracer(exporter, options(4096, 64));
  constexpr int threads = 3, per_thread = 1000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        auto s = tracer.start("work");
        s.set_attribute("i", i);
      }
    });
  for (auto& w : workers) w.join();
  CHECK(tracer.force_flush(10s));
  CHECK(exporter->unique_spans() == threads * per_thread);
  std::size_t total = 0;
  for (auto n : exporter->batch_sizes()) {
    CHECK(n >= 1);
    CHECK(n <= 64);
    total += n;
  }
  CHECK(total == threads * per_thread);
  const auto stats = tracer.stats();
  CHECK(stats.spans_started == threads * per_thread);  // counted per thread, threads already exited
  CHECK(stats.spans_ended == threads * per_thread);
  CHECK(stats.spans_queued == threads * per_thread);
  CHECK(stats.spans_exported == threads * per_thread);
  CHECK(stats.spans_dropped == 0);
  CHECK(stats.spans_failed == 0);
}

TEST_CASE("a full queue drops spans and counts them exactly: exported + dropped == ended") {
  auto exporter = std::make_shared<gated_exporter>();
  exporter->close();  // the export thread blocks in its first export, the queue fills
  std::vector<std::string> diagnostics;
  auto tracer = make_tracer(exporter, options(16, 4), &diagnostics);
  constexpr std::uint64_t ended = 200;
  for (std::uint64_t i = 0; i < ended; ++i) {
    auto s = tracer.start("burst");
  }
  exporter->open();
  CHECK(tracer.force_flush(10s));
  const auto stats = tracer.stats();
  CHECK(stats.spans_ended == ended);
  CHECK(stats.spans_dropped > 0);
  CHECK(stats.spans_exported + stats.spans_dropped == ended);
  CHECK(stats.spans_queued == stats.spans_exported);
  CHECK(exporter->unique_spans() == stats.spans_exported);
  tracer.shutdown();
  bool reported = false;
  for (const auto& d : diagnostics) reported = reported || d.find("span(s) dropped") != std::string::npos;
  CHECK(reported);
}

TEST_CASE("spans are exported after the schedule delay without a flush") {
  auto memory = std::make_shared<st::in_memory_exporter>(false);
  auto tracer = make_tracer(memory, options(2048, 512, 20ms));
  { auto s = tracer.start("timed"); }
  CHECK(memory->wait_for(1, 10s));  // generous bound: the delay is 20 ms
}

TEST_CASE("a full batch wakes the export thread before the schedule delay") {
  auto memory = std::make_shared<st::in_memory_exporter>(false);
  auto tracer = make_tracer(memory, options(2048, 8, std::chrono::milliseconds(3600'000)));
  for (int i = 0; i < 8; ++i) {
    auto s = tracer.start("batch");
  }
  CHECK(memory->wait_for(8, 10s));  // an hour-long delay: only the wake-up can deliver
}

TEST_CASE("export failures are counted and reported") {
  auto exporter = std::make_shared<gated_exporter>();
  exporter->set_fail(true);
  std::vector<std::string> diagnostics;
  auto tracer = make_tracer(exporter, options(64, 8), &diagnostics);
  for (int i = 0; i < 10; ++i) {
    auto s = tracer.start("failing");
  }
  tracer.force_flush(10s);
  const auto stats = tracer.stats();
  CHECK(stats.spans_failed == 10);
  CHECK(stats.export_failures >= 2);  // at least two batches of at most 8
  CHECK(stats.spans_exported == 0);
  tracer.shutdown();
  REQUIRE_FALSE(diagnostics.empty());
  CHECK(diagnostics.front().find("'gated' failed to export") != std::string::npos);
}

TEST_CASE("shutdown exports what is pending, then ignores later spans") {
  auto memory = std::make_shared<st::in_memory_exporter>(false);
  auto tracer = make_tracer(memory, options(2048, 512));
  for (int i = 0; i < 100; ++i) {
    auto s = tracer.start("pending");
  }
  CHECK(tracer.shutdown(10s));
  CHECK(memory->size() == 100);
  { auto late = tracer.start("late"); }
  CHECK(tracer.shutdown());
  CHECK(memory->size() == 100);
  CHECK(tracer.stats().spans_ended == 100);
}

TEST_CASE("shutdown with an exporter stuck in I/O returns by its deadline") {
  auto exporter = std::make_shared<gated_exporter>();
  exporter->close();  // stuck until shutdown() aborts it
  auto tracer = make_tracer(exporter, options(64, 1));
  { auto s = tracer.start("stuck"); }
  const auto start = std::chrono::steady_clock::now();
  tracer.shutdown(200ms);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 10s);  // a hang would be minutes; the bound is deliberately loose
  CHECK_FALSE(tracer.is_enabled());
}

TEST_CASE("an exporter that ignores shutdown is left behind safely") {
  auto exporter = std::make_shared<gated_exporter>();
  exporter->close();
  exporter->set_abort_on_shutdown(false);
  {
    auto tracer = make_tracer(exporter, options(64, 1));
    { auto s = tracer.start("never-finishes-in-time"); }
    CHECK_FALSE(tracer.shutdown(50ms));
  }  // the tracer is gone; the export thread still holds its shared state
  exporter->open();  // let the detached thread finish
  for (int i = 0; i < 200 && exporter->unique_spans() == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(exporter->unique_spans() == 1);
}

TEST_CASE("exporter names: explicit otlp without the HTTP transport is a clear error") {
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "otlp";
  if (!st::find_exporter_factory("otlp")) {
    CHECK_THROWS_WITH_AS(st::tracer::create(cfg), doctest::Contains("otlp_http_exporter.hpp"), st::config_error);
  }
  cfg.exporter = "jaeger";
  CHECK_THROWS_AS(st::tracer::create(cfg), st::config_error);
}

TEST_CASE("exporter names: the defaulted otlp warns instead of failing when not compiled in") {
  if (st::find_exporter_factory("otlp")) return;  // a build with the HTTP transport
  std::vector<std::string> diagnostics;
  st::config cfg;
  cfg.read_environment = false;
  cfg.on_diagnostic = [&](std::string_view m) { diagnostics.emplace_back(m); };
  auto tracer = st::tracer::create(cfg);
  CHECK(tracer.is_enabled());
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0].find("no exporter configured") != std::string::npos);
}

TEST_CASE("registered exporter factories are used by name") {
  auto memory = std::make_shared<st::in_memory_exporter>(false);
  st::register_exporter("zipkin", [memory](const st::exporter_environment& env) {
    CHECK(env.settings.zipkin_endpoint == "http://localhost:9411/api/v2/spans");
    CHECK(env.retries != nullptr);
    return memory;
  });
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "zipkin";
  auto tracer = st::tracer::create(cfg);
  { auto s = tracer.start("via-registry"); }
  CHECK(tracer.force_flush(10s));
  CHECK(memory->size() == 1);
  st::register_exporter("zipkin", nullptr);  // leave the registry as found
}

TEST_CASE("spans_started counts open spans and spans of several tracers separately") {
  auto a = make_tracer(std::make_shared<st::in_memory_exporter>(false), options(64, 8));
  auto b = make_tracer(std::make_shared<st::in_memory_exporter>(false), options(64, 8));
  auto open_a = a.start("open");
  { auto x = b.start("b1"); }
  { auto y = a.start("a2"); }
  { auto z = b.start("b2"); }
  std::thread([&] { auto t = a.start("other-thread"); }).join();
  CHECK(a.stats().spans_started == 3);
  CHECK(b.stats().spans_started == 2);
  CHECK(a.force_flush(10s));
  CHECK(a.stats().spans_ended == 2);
}

TEST_CASE("a newly registered exporter name is accepted by config and OTEL_TRACES_EXPORTER") {
  auto memory = std::make_shared<st::in_memory_exporter>(false);
  st::register_exporter("audit-log", [memory](const st::exporter_environment&) { return memory; });
  st::config cfg;
  cfg.exporter = "audit-log";
  auto tracer = st::tracer::create(cfg, [](std::string_view) { return std::optional<std::string>{}; });
  { auto s = tracer.start("registered-by-name"); }
  CHECK(tracer.force_flush(10s));
  CHECK(memory->size() == 1);

  st::config from_env;
  auto env = [](std::string_view name) {
    return name == "OTEL_TRACES_EXPORTER" ? std::optional<std::string>("audit-log") : std::nullopt;
  };
  auto tracer2 = st::tracer::create(from_env, env);
  { auto s = tracer2.start("via-env"); }
  CHECK(tracer2.force_flush(10s));
  CHECK(memory->size() == 2);
  st::register_exporter("audit-log", nullptr);
}
