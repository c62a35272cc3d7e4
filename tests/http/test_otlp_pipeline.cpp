// The whole pipeline against a real receiver: tracer -> lock-free queue ->
// export thread -> otlp_http_exporter -> cpp-httplib server on 127.0.0.1.
// Span counts are exact: every ended span is received once or counted as
// dropped or failed, across threads, batches, retries and overflow.
#include "http_test_support.hpp"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace http_test;

namespace {

struct pipeline_settings {
  std::size_t queue = 4096;
  std::size_t batch = 64;
  std::chrono::milliseconds export_timeout = 5s;
  std::chrono::milliseconds request_timeout = 2s;
};

st::config pipeline_config(const std::string& endpoint, messages& diag, const pipeline_settings& p = {}) {
  st::config cfg;
  cfg.read_environment = false;
  cfg.service_name = "pipeline-test";
  cfg.exporter = "otlp";  // registered by otlp_http_exporter.hpp
  cfg.otlp_endpoint = endpoint;
  cfg.otlp_timeout = p.request_timeout;
  st::batch_options b;
  b.schedule_delay = 50ms;
  b.max_export_batch_size = p.batch;
  b.max_queue_size = p.queue;
  b.export_timeout = p.export_timeout;
  cfg.batch = b;
  cfg.on_diagnostic = diag.sink();
  return cfg;
}

// Ends `per_thread` spans on each of `threads` threads.
void end_spans(st::tracer& tracer, int threads, int per_thread) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&tracer, t, per_thread] {
      for (int i = 0; i < per_thread; ++i) {
        auto span = tracer.start("work");
        span.set_attribute("thread", static_cast<std::int64_t>(t));
        span.set_attribute("i", static_cast<std::int64_t>(i));
      }
    });
  }
  for (auto& w : workers) w.join();
}

std::set<std::string> unique_ids(const std::vector<decoded_span>& spans) {
  std::set<std::string> ids;
  for (const auto& s : spans) ids.insert(s.span_id);
  return ids;
}

}  // namespace

TEST_CASE("pipeline: N spans ended on 4 threads arrive exactly once, in many batches") {
  receiver rx;
  REQUIRE(rx.ok());
  messages diag;
  st::config cfg = pipeline_config(rx.endpoint(), diag);
  cfg.otlp_headers = {{"x-api-key", "k3y"}};  // the tracer's settings reach the exporter
  cfg.otlp_compression = "gzip";
  auto tracer = st::tracer::create(cfg);
  constexpr int threads = 4, per_thread = 500, n = threads * per_thread;
  end_spans(tracer, threads, per_thread);
  CHECK(tracer.force_flush(10s));

  const st::tracer_stats s = tracer.stats();
  CHECK(s.spans_ended == n);
  CHECK(s.spans_dropped == 0);  // the queue holds all of them
  CHECK(s.spans_exported == n);
  CHECK(s.spans_failed == 0);
  CHECK(s.export_failures == 0);
  CHECK(s.export_retries == 0);

  const auto spans = accepted_spans(rx);
  CHECK(spans.size() == n);
  CHECK(unique_ids(spans).size() == n);
  const auto reqs = rx.requests();
  CHECK(reqs.size() >= n / 64);
  for (const auto& r : reqs) {
    CHECK(r.header("x-api-key") == "k3y");
    CHECK(r.header("Content-Encoding") == "gzip");
    std::vector<decoded_span> part;
    CHECK(decode_request(r.body, part));
    CHECK(part.size() <= 64);
    CHECK(!part.empty());
  }
  for (const auto& sp : spans) {
    CHECK(sp.name == "work");
    CHECK(sp.attributes == 2);
  }
  CHECK(tracer.shutdown(5s));
  CHECK(rx.count() == reqs.size());  // nothing left to send
  INFO(diag.joined());
  CHECK(diag.all().empty());
}

TEST_CASE("pipeline: queue overflow drops an exact count (received + dropped == ended)") {
  receiver rx([](std::size_t, const httplib::Request&, httplib::Response&) {
    std::this_thread::sleep_for(20ms);  // a slow collector: the queue fills up
  });
  REQUIRE(rx.ok());
  messages diag;
  pipeline_settings p;
  p.queue = 64;
  p.batch = 32;
  auto tracer = st::tracer::create(pipeline_config(rx.endpoint(), diag, p));
  constexpr int threads = 2, per_thread = 2000, n = threads * per_thread;
  end_spans(tracer, threads, per_thread);
  CHECK(tracer.force_flush(10s));

  const st::tracer_stats s = tracer.stats();
  const auto spans = accepted_spans(rx);
  CHECK(s.spans_ended == n);
  CHECK(s.spans_dropped > 0);
  CHECK(s.spans_failed == 0);
  CHECK(s.spans_exported == spans.size());
  CHECK(unique_ids(spans).size() == spans.size());
  CHECK(spans.size() + s.spans_dropped == s.spans_ended);
  CHECK(diag.any_contains("dropped"));
}

TEST_CASE("pipeline: retried requests are counted in stats and deliver every span once") {
  receiver rx([](std::size_t index, const httplib::Request&, httplib::Response& res) {
    if (index < 2) {
      res.status = index == 0 ? 503 : 429;
      res.set_header("Retry-After", "0");
    }
  });
  REQUIRE(rx.ok());
  messages diag;
  // Retry-After: 0 still waits the default backoff (0.5-1.5 s, then 1-3 s):
  // room for both in the export's time limit.
  pipeline_settings p;
  p.export_timeout = 10s;
  p.request_timeout = 10s;
  auto tracer = st::tracer::create(pipeline_config(rx.endpoint(), diag, p));
  constexpr int n = 100;
  end_spans(tracer, 1, n);
  CHECK(tracer.force_flush(20s));

  const st::tracer_stats s = tracer.stats();
  CHECK(s.export_retries == 2);
  CHECK(s.spans_exported == n);
  CHECK(s.spans_failed == 0);
  const auto spans = accepted_spans(rx);
  CHECK(spans.size() == n);
  CHECK(unique_ids(spans).size() == n);
}

TEST_CASE("pipeline: no collector at all: every span counted as failed, flush and shutdown bounded") {
  const refusing_port refusing;  // held, so that no test running in parallel listens there
  const int port = refusing.port();
  REQUIRE(port > 0);
  messages diag;
  pipeline_settings p;
  // The first backoff wait (0.5 s .. 1.5 s by default) fits in the 1.6 s
  // that both timeouts give one export (the OTLP timeout bounds the whole
  // export, retries included); a refused connection fails at once.
  p.export_timeout = 1600ms;
  p.request_timeout = 1600ms;
  const auto start = steady::now();
  {
    auto tracer = st::tracer::create(
        pipeline_config("http://127.0.0.1:" + std::to_string(port) + "/v1/traces", diag, p));
    constexpr int n = 10;
    end_spans(tracer, 1, n);
    tracer.force_flush(5s);
    const st::tracer_stats s = tracer.stats();
    CHECK(s.spans_ended == n);
    CHECK(s.spans_exported == 0);
    CHECK(s.spans_failed == n);
    CHECK(s.export_failures >= 1);
    CHECK(s.export_retries >= 1);
    tracer.shutdown(2s);
  }
  CHECK(since(start) < 5s);
  CHECK(diag.any_contains("Connection"));
}

TEST_CASE("pipeline: tracer shutdown does not hang on a collector that never answers") {
  receiver* self = nullptr;
  receiver rx([&self](std::size_t, const httplib::Request&, httplib::Response&) { self->hold(20s); });
  self = &rx;
  REQUIRE(rx.ok());
  messages diag;
  pipeline_settings p;
  p.export_timeout = 30s;
  p.request_timeout = 30s;
  auto tracer = st::tracer::create(pipeline_config(rx.endpoint(), diag, p));
  end_spans(tracer, 1, 10);
  tracer.force_flush(0ms);  // wake the export thread now
  REQUIRE(rx.wait_for(1, 5s));

  const auto start = steady::now();
  tracer.shutdown(1s);
  CHECK(since(start) < 3s);
  const st::tracer_stats s = tracer.stats();
  CHECK(s.spans_exported == 0);
  CHECK(s.spans_ended == 10);
  rx.release();
}
