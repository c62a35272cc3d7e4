// otlp_http_exporter against real cpp-httplib receivers on 127.0.0.1: what
// goes on the wire, which answers are retried and how, and that nothing
// hangs. Every receiver is stopped by its destructor; every wait is bounded.
#include "http_test_support.hpp"
#include "../support/tls_files.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <limits>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

using namespace http_test;

namespace {

std::string user_agent_prefix() { return std::string(st::sdk_name) + "/" + st::version_string; }

}  // namespace

// ============================================================ what is sent

TEST_CASE("otlp/http protobuf: one POST per batch to the endpoint path, every span decoded, keep-alive") {
  receiver rx;
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(5);

  st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag));
  CHECK(exporter.name() == "otlp");
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);

  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 2);
  for (const auto& r : reqs) {
    CHECK(r.method == "POST");
    CHECK(r.path == "/v1/traces");
    CHECK(r.header("Content-Type") == "application/x-protobuf");
    CHECK(!r.has_header("Content-Encoding"));
    CHECK(r.header("Content-Length") == std::to_string(r.body.size()));
  }
  // The same connection carried both requests.
  CHECK(reqs[0].remote_port == reqs[1].remote_port);

  std::vector<decoded_span> spans;
  REQUIRE(decode_request(reqs[0].body, spans));
  REQUIRE(spans.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(spans[i].span_id == f.span_id_bytes(i));
    CHECK(spans[i].name == "span-" + std::to_string(i + 1));
    CHECK(spans[i].attributes == 1);
  }
  // Exactly the encoder's bytes.
  std::string expected;
  st::otlp::encode_protobuf(f.batch(), expected);
  CHECK(reqs[1].body == expected);
  CHECK(diag.all().empty());
}

TEST_CASE("otlp/http json: Content-Type application/json and the OTLP/JSON encoding") {
  receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(3);
  auto o = options_for(rx.endpoint(), diag);
  o.otlp.protocol = "http/json";
  st::otlp_http_exporter exporter(o);
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);

  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].header("Content-Type") == "application/json");
  std::string expected;
  st::otlp::encode_json(f.batch(), expected);
  CHECK(reqs[0].body == expected);
  CHECK(reqs[0].body.find("\"spanId\":\"0000000000000003\"") != std::string::npos);
  CHECK(diag.all().empty());
}

TEST_CASE("otlp/http gzip: compressed on the wire when asked, plain otherwise") {
  receiver rx;
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(50);  // repetitive: compresses well
  std::string plain;
  st::otlp::encode_protobuf(f.batch(), plain);

  SUBCASE("gzip") {
    auto o = options_for(rx.endpoint(), diag);
    o.otlp.compression = "gzip";
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    const auto reqs = rx.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].header("Content-Encoding") == "gzip");
    // httplib inflated the body; the length on the wire was the compressed one.
    const auto wire = std::stoul(reqs[0].header("Content-Length"));
    CHECK(wire < plain.size() / 2);
    CHECK(reqs[0].body == plain);
    std::vector<decoded_span> spans;
    CHECK(decode_request(reqs[0].body, spans));
    CHECK(spans.size() == 50);
  }
  SUBCASE("none") {
    auto o = options_for(rx.endpoint(), diag);
    o.otlp.compression = "none";
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    const auto reqs = rx.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(!reqs[0].has_header("Content-Encoding"));
    CHECK(reqs[0].header("Content-Length") == std::to_string(plain.size()));
    CHECK(reqs[0].body == plain);
  }
}

TEST_CASE("otlp/http sends the configured headers and a User-Agent naming the library and version") {
  receiver rx;
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(1);

  SUBCASE("default User-Agent") {
    auto o = options_for(rx.endpoint(), diag);
    o.otlp.headers = {{"api-key", "s3cr3t=value"}, {"X-Tenant", "blue"}, {"Content-Type", "text/plain"}};
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    const auto reqs = rx.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].header("api-key") == "s3cr3t=value");
    CHECK(reqs[0].header("x-tenant") == "blue");
    CHECK(reqs[0].header("User-Agent").rfind(user_agent_prefix() + " ", 0) == 0);
    // The exporter owns Content-Type: the configured one is ignored, and said so (by name only).
    CHECK(reqs[0].headers.count("Content-Type") == 1);
    CHECK(reqs[0].header("Content-Type") == "application/x-protobuf");
    CHECK(diag.any_contains("\"Content-Type\""));
    CHECK(!diag.any_contains("s3cr3t"));
  }
  SUBCASE("a configured User-Agent wins") {
    auto o = options_for(rx.endpoint(), diag);
    o.otlp.headers = {{"user-agent", "my-app/2"}};
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    const auto reqs = rx.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].headers.count("User-Agent") == 1);
    CHECK(reqs[0].header("User-Agent") == "my-app/2");
  }
}

TEST_CASE("otlp/http endpoint credentials become Basic auth and never appear in diagnostics") {
  receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) { res.status = 400; });
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(1);
  auto o = options_for("http://user:p%40ss@127.0.0.1:" + std::to_string(rx.port()) + "/v1/traces?key=t0ken", diag);
  st::otlp_http_exporter exporter(o);
  CHECK(exporter.endpoint() == rx.endpoint());  // shown without credentials nor query
  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].path == "/v1/traces");
  CHECK(reqs[0].header("Authorization") == "Basic dXNlcjpwQHNz");  // base64("user:p@ss")
  REQUIRE(!diag.all().empty());
  CHECK(!diag.any_contains("p%40ss"));
  CHECK(!diag.any_contains("p@ss"));
  CHECK(!diag.any_contains("t0ken"));
}

TEST_CASE("otlp/http sends nothing for an empty batch") {
  receiver rx;
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag));
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  f.add_many(1);
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  CHECK(rx.count() == 1);  // only the non-empty one
}

// ============================================================ retries

TEST_CASE("otlp/http 503 with Retry-After: 1 is retried once, after a second, spans not duplicated") {
  receiver rx([](std::size_t index, const httplib::Request&, httplib::Response& res) {
    if (index == 0) {
      res.status = 503;
      res.set_header("Retry-After", "1");
    }
  });
  REQUIRE(rx.ok());
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  batch_fixture f;
  f.add_many(4);
  auto o = options_for(rx.endpoint(), diag, &retries);
  o.initial_backoff = 5ms;  // Retry-After must win over the (shorter) backoff
  st::otlp_http_exporter exporter(o);

  const auto start = steady::now();
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  CHECK(since(start) >= 900ms);
  CHECK(retries.load() == 1);
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].status == 503);
  CHECK(reqs[1].status == 200);
  CHECK(reqs[0].body == reqs[1].body);
  const auto spans = accepted_spans(rx);
  CHECK(spans.size() == 4);
  CHECK(diag.all().empty());
}

TEST_CASE("otlp/http 429, 502 and 504 without Retry-After are retried with backoff") {
  for (const int status : {429, 502, 504}) {
    CAPTURE(status);
    receiver rx([status](std::size_t index, const httplib::Request&, httplib::Response& res) {
      if (index < 2) res.status = status;
    });
    REQUIRE(rx.ok());
    messages diag;
    std::atomic<std::uint64_t> retries{0};
    batch_fixture f;
    f.add_many(2);
    st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag, &retries));
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    CHECK(retries.load() == 2);
    CHECK(rx.count() == 3);
    CHECK(accepted_spans(rx).size() == 2);
  }
}

TEST_CASE("otlp/http 400 and 413 are final: not retried, reported with the status message") {
  // 300: only 2xx delivers; a 3xx without Location is a failure like any other.
  for (const int status : {300, 400, 401, 413, 500}) {
    CAPTURE(status);
    receiver rx([status](std::size_t, const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(rpc_status(3, "span name too long"), "application/x-protobuf");
    });
    REQUIRE(rx.ok());
    messages diag;
    std::atomic<std::uint64_t> retries{0};
    batch_fixture f;
    f.add_many(3);
    auto o = options_for(rx.endpoint(), diag, &retries);
    o.otlp.headers = {{"Authorization", "Bearer top-secret"}};
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(rx.count() == 1);
    CHECK(retries.load() == 0);
    CHECK(diag.any_contains("HTTP " + std::to_string(status) + ": span name too long"));
    CHECK(diag.any_contains("export of 3 spans failed"));
    CHECK(!diag.any_contains("top-secret"));
  }
}

TEST_CASE("otlp/http a redirect is reported, not followed") {
  receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
    res.status = 307;
    res.set_header("Location", "http://user:secret@127.0.0.1:1/elsewhere?token=secret");
  });
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(1);
  st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag));
  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  CHECK(rx.count() == 1);
  CHECK(diag.any_contains("HTTP 307 (redirected to \"http://***@127.0.0.1:1/elsewhere\": set the endpoint"));
  CHECK(!diag.any_contains("secret"));
}

TEST_CASE("otlp/http Retry-After: 0, or a date already past, still waits the backoff: no request storm") {
  // A server that keeps answering so (a fixed maintenance date that has
  // passed, say) once drew thousands of back-to-back requests per second.
  for (const char* retry_after : {"0", "Sun, 06 Nov 1994 08:49:37 GMT"}) {
    CAPTURE(retry_after);
    receiver rx([retry_after](std::size_t, const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_header("Retry-After", retry_after);
    });
    REQUIRE(rx.ok());
    messages diag;
    std::atomic<std::uint64_t> retries{0};
    batch_fixture f;
    f.add_many(2);
    auto o = options_for(rx.endpoint(), diag, &retries);
    o.otlp.timeout = 1s;  // bounds the whole export: retries and waits included
    o.initial_backoff = 50ms;
    o.max_backoff = 200ms;
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    // Backoff waits of at least 25, 50, then 100 ms fit at most ~12 attempts in 1 s.
    CHECK(rx.count() >= 2);
    CHECK(rx.count() <= 15);
    CHECK(retries.load() == rx.count() - 1);  // a retry counts when it is sent
    CHECK(diag.any_contains("HTTP 503"));
  }
}

TEST_CASE("otlp/http answers are asked for uncompressed; a compressed one is reported, not inflated") {
  SUBCASE("a 200 whose body claims gzip: delivered, the body not read") {
    receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
      // Not even valid gzip: inflating it would fail the request.
      res.set_content(std::string("\x1f\x8b\x08\x00garbage", 11), "application/x-protobuf");
      res.set_header("Content-Encoding", "gzip");
    });
    REQUIRE(rx.ok());
    messages diag;
    std::atomic<std::uint64_t> retries{0};
    batch_fixture f;
    f.add_many(3);
    st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag, &retries));
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    CHECK(rx.count() == 1);
    CHECK(retries.load() == 0);
    const auto reqs = rx.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].header("Accept-Encoding") == "identity");
    CHECK(diag.any_contains("HTTP 200 with a body compressed with gzip, which was not asked for and is not read"));
  }
  SUBCASE("an error status with a compressed body: the status, not the bytes") {
    receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
      res.status = 400;
      res.set_content(std::string("\x1f\x8b\x08\x00garbage", 11), "text/plain");
      res.set_header("Content-Encoding", "gzip");
    });
    REQUIRE(rx.ok());
    messages diag;
    batch_fixture f;
    f.add_many(1);
    st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag));
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(diag.any_contains("HTTP 400 (a body compressed with gzip, not read)"));
  }
  SUBCASE("a configured Accept-Encoding is refused") {
    receiver rx;
    REQUIRE(rx.ok());
    messages diag;
    batch_fixture f;
    f.add_many(1);
    auto o = options_for(rx.endpoint(), diag);
    o.otlp.headers = {{"Accept-Encoding", "gzip"}};
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    const auto reqs = rx.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].header("Accept-Encoding") == "identity");
    CHECK(diag.any_contains("header \"Accept-Encoding\" is set by the exporter itself"));
  }
}

TEST_CASE("otlp/http connection refused, then the receiver starts: delivered by a retry, once") {
  refusing_port refusing;  // held until the receiver starts: no parallel test can take the port meanwhile
  const int port = refusing.port();
  REQUIRE(port > 0);
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  batch_fixture f;
  f.add_many(6);
  auto o = options_for("http://127.0.0.1:" + std::to_string(port) + "/v1/traces", diag, &retries);
  o.initial_backoff = 100ms;
  o.max_backoff = 100ms;
  st::otlp_http_exporter exporter(o);

  auto result = std::async(std::launch::async, [&] { return exporter.export_spans(f.batch()); });
  // Let a few attempts fail before the receiver appears.
  const auto start = steady::now();
  while (retries.load() < 2 && since(start) < 4s) std::this_thread::sleep_for(5ms);
  CHECK(retries.load() >= 2);
  refusing.release();
  receiver rx({}, port);
  REQUIRE(rx.ok());
  REQUIRE(result.wait_for(10s) == std::future_status::ready);
  CHECK(result.get() == st::export_result::success);
  const auto spans = accepted_spans(rx);
  CHECK(rx.count() == 1);
  CHECK(spans.size() == 6);
}

TEST_CASE("otlp/http nothing listening: retried until the export timeout, then failure") {
  const refusing_port refusing;  // held, so that no test running in parallel listens there
  REQUIRE(refusing.port() > 0);
  const int port = refusing.port();
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  batch_fixture f;
  f.add_many(1);
  auto o = options_for("http://127.0.0.1:" + std::to_string(port) + "/v1/traces", diag, &retries);
  o.export_timeout = 600ms;
  st::otlp_http_exporter exporter(o);
  const auto start = steady::now();
  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  CHECK(since(start) < 2s);
  CHECK(retries.load() >= 1);
  std::string all_diagnostics;  // shown if a check below fails
  for (const auto& line : diag.all()) all_diagnostics += line + "\n";
  INFO(all_diagnostics);
  CHECK(diag.any_contains("Connection"));
  CHECK(diag.any_contains("export timeout"));
}

TEST_CASE("otlp/http a Retry-After beyond the export timeout fails at once instead of waiting") {
  receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "3600");
  });
  REQUIRE(rx.ok());
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  batch_fixture f;
  f.add_many(1);
  st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag, &retries));
  const auto start = steady::now();
  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  CHECK(since(start) < 2s);
  CHECK(rx.count() == 1);
  CHECK(retries.load() == 0);
  CHECK(diag.any_contains("HTTP 503"));
  CHECK(diag.any_contains("3600000 ms"));
}

TEST_CASE("otlp/http a receiver slower than the request timeout: failure within the export timeout") {
  receiver* self = nullptr;
  receiver rx([&self](std::size_t, const httplib::Request&, httplib::Response&) { self->hold(5s); });
  self = &rx;
  REQUIRE(rx.ok());
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  batch_fixture f;
  f.add_many(2);
  auto o = options_for(rx.endpoint(), diag, &retries);
  o.otlp.timeout = 200ms;
  o.export_timeout = 700ms;
  st::otlp_http_exporter exporter(o);
  const auto start = steady::now();
  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  const auto took = since(start);
  CHECK(took >= 150ms);  // the 200 ms OTLP timeout, less what encoding took
  CHECK(took < 2500ms);
  CHECK(rx.count() >= 1);  // it was sent (and retried: a timeout is transient)
  // The read timeout and the watchdog's deadline fall together: either says so.
  CHECK((diag.any_contains("Read") || diag.any_contains("cut off")));
  rx.release();
}

TEST_CASE("otlp/http an answer trickled byte by byte is cut off at the OTLP timeout; the next export gets through") {
  // 66 bytes at 150 ms each: ~10 s per answer, though no single read waits
  // longer than the OTLP timeout. The first connection trickles, the next
  // answers at once.
  trickling_receiver rx(1, 150ms);
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(2);
  auto o = options_for(rx.endpoint(), diag);
  o.otlp.timeout = 400ms;  // for the whole export, retries included
  o.export_timeout = 8s;
  st::otlp_http_exporter exporter(o);
  const auto start = steady::now();
  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  INFO(diag.joined());
  CHECK(since(start) < 3s);  // before: ~10 s, the whole trickle (and then success)
  CHECK(diag.any_contains("cut off after"));
  // The client stopped under the request is usable again: a new connection.
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  CHECK(rx.connections() == 2);
  CHECK(rx.answered() == 1);
}

TEST_CASE("otlp/http answers that always trickle: failure when the export timeout runs out, not later") {
  trickling_receiver rx(1000, 150ms);
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(1);
  auto o = options_for(rx.endpoint(), diag);
  o.otlp.timeout = 300ms;
  o.export_timeout = 1s;
  st::otlp_http_exporter exporter(o);
  const auto start = steady::now();
  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  INFO(diag.joined());
  CHECK(since(start) < 3s);  // before: ~10 s
  CHECK(rx.connections() >= 1);
  CHECK(rx.answered() == 0);
  CHECK(diag.any_contains("cut off"));
}

// ============================================================ answers

TEST_CASE("otlp/http partial_success is reported, not retried") {
  SUBCASE("protobuf") {
    receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
      res.set_content(partial_success_response(2, "2 spans had no name"), "application/x-protobuf");
    });
    REQUIRE(rx.ok());
    messages diag;
    std::atomic<std::uint64_t> retries{0};
    batch_fixture f;
    f.add_many(5);
    st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag, &retries));
    const st::span_batch batch = f.batch();
    CHECK(exporter.export_spans(batch) == st::export_result::success);
    CHECK(batch.rejected() == 2);  // the tracer counts 2 failed, 3 exported
    CHECK(rx.count() == 1);
    CHECK(retries.load() == 0);
    CHECK(diag.any_contains("rejected 2 of 5 spans: 2 spans had no name"));
  }
  SUBCASE("json") {
    receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"partialSuccess":{"rejectedSpans":"1","errorMessage":"quota \u00e9"}})", "application/json");
    });
    REQUIRE(rx.ok());
    messages diag;
    batch_fixture f;
    f.add_many(3);
    auto o = options_for(rx.endpoint(), diag);
    o.otlp.protocol = "http/json";
    st::otlp_http_exporter exporter(o);
    const st::span_batch batch = f.batch();
    CHECK(exporter.export_spans(batch) == st::export_result::success);
    CHECK(batch.rejected() == 1);
    CHECK(rx.count() == 1);
    CHECK(diag.any_contains("rejected 1 of 3 spans: quota \\xc3\\xa9"));
  }
  SUBCASE("a negative rejected count is reported as invalid, nothing counted") {
    receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
      res.set_content(partial_success_response(-1, "too old"), "application/x-protobuf");
    });
    REQUIRE(rx.ok());
    messages diag;
    batch_fixture f;
    f.add_many(5);
    st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag));
    const st::span_batch batch = f.batch();
    CHECK(exporter.export_spans(batch) == st::export_result::success);
    CHECK(batch.rejected() == 0);
    CHECK(diag.any_contains("an invalid rejected_spans count (-1); the 5 spans count as delivered: too old"));
  }
  SUBCASE("an empty partial_success is full success") {
    receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
      res.set_content(partial_success_response(0, ""), "application/x-protobuf");
    });
    REQUIRE(rx.ok());
    messages diag;
    batch_fixture f;
    f.add_many(1);
    st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag));
    const st::span_batch batch = f.batch();
    CHECK(exporter.export_spans(batch) == st::export_result::success);
    CHECK(batch.rejected() == 0);
    CHECK(diag.all().empty());
  }
}

TEST_CASE("otlp/http a malformed 200 body counts as delivered and is reported") {
  for (const bool json : {false, true}) {
    CAPTURE(json);
    receiver rx([json](std::size_t, const httplib::Request&, httplib::Response& res) {
      if (json)
        res.set_content("{\"partialSuccess\":", "application/json");
      else
        res.set_content(std::string("\x0a\xff\xff\xff\xff\x0f\x01", 7), "application/x-protobuf");
    });
    REQUIRE(rx.ok());
    messages diag;
    std::atomic<std::uint64_t> retries{0};
    batch_fixture f;
    f.add_many(2);
    auto o = options_for(rx.endpoint(), diag, &retries);
    if (json) o.otlp.protocol = "http/json";
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    CHECK(rx.count() == 1);
    CHECK(retries.load() == 0);
    CHECK(diag.any_contains("unreadable"));
  }
}

// ============================================================ size limit

TEST_CASE("otlp/http a batch over 20 MiB is split into requests under the limit; an oversized span is dropped") {
  receiver rx;
  REQUIRE(rx.ok());
  messages diag;
  const std::size_t limit = std::size_t{20} * 1024 * 1024;
  batch_fixture f;
  const std::string big(7 * 1024 * 1024, 'x');
  for (int i = 0; i < 3; ++i) f.add("big").attributes.set("payload", big);
  f.add_many(3);

  st::otlp_http_exporter exporter(options_for(rx.endpoint(), diag));
  CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
  auto reqs = rx.requests();
  CHECK(reqs.size() >= 2);
  for (const auto& r : reqs) CHECK(r.body.size() <= limit);
  auto spans = accepted_spans(rx);
  REQUIRE(spans.size() == 6);
  std::set<std::string> ids;
  for (const auto& s : spans) ids.insert(s.span_id);
  CHECK(ids.size() == 6);
  CHECK(diag.all().empty());

  SUBCASE("a span alone above the limit") {
    batch_fixture g;
    g.add_many(2);
    g.add("huge").attributes.set("payload", std::string(limit + 1, 'y'));
    g.add_many(2);
    const std::size_t before = rx.count();
    const st::span_batch batch = g.batch();
    CHECK(exporter.export_spans(batch) == st::export_result::failure);
    CHECK(batch.rejected() == 1);  // the tracer counts 1 failed, 4 exported
    CHECK(diag.any_contains("dropped span 'huge'"));
    std::size_t delivered = 0;
    reqs = rx.requests();
    for (std::size_t i = before; i < reqs.size(); ++i) {
      CHECK(reqs[i].body.size() <= limit);
      std::vector<decoded_span> part;
      CHECK(decode_request(reqs[i].body, part));
      for (const auto& s : part) CHECK(s.name != "huge");
      delivered += part.size();
    }
    CHECK(delivered == 4);
  }
}

TEST_CASE("otlp/http a split batch whose second request is refused: failure, with only that part rejected") {
  // The first request (index 0) is accepted, every later one refused with 400 (not retried).
  receiver rx([](std::size_t index, const httplib::Request&, httplib::Response& res) {
    if (index > 0) res.status = 400;
  });
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(4);
  std::string whole;
  st::otlp::encode_protobuf(f.batch(), whole);
  auto o = options_for(rx.endpoint(), diag);
  o.max_request_bytes = whole.size() - 1;  // the whole batch does not fit; each half does
  st::otlp_http_exporter exporter(o);
  const st::span_batch batch = f.batch();
  CHECK(exporter.export_spans(batch) == st::export_result::failure);
  CHECK(rx.count() == 2);
  CHECK(accepted_spans(rx).size() == 2);
  CHECK(batch.rejected() == 2);  // the tracer counts 2 exported, 2 failed
}

// ============================================================ shutdown

TEST_CASE("otlp/http shutdown aborts a request in flight promptly; later exports fail without I/O") {
  receiver* self = nullptr;
  receiver rx([&self](std::size_t, const httplib::Request&, httplib::Response&) { self->hold(10s); });
  self = &rx;
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(2);
  auto o = options_for(rx.endpoint(), diag);
  o.otlp.timeout = 10s;
  o.export_timeout = 20s;
  st::otlp_http_exporter exporter(o);

  auto result = std::async(std::launch::async, [&] { return exporter.export_spans(f.batch()); });
  REQUIRE(rx.wait_for(1, 5s));
  const auto start = steady::now();
  exporter.shutdown(2s);
  CHECK(since(start) < 1500ms);
  REQUIRE(result.wait_for(2s) == std::future_status::ready);
  CHECK(result.get() == st::export_result::failure);
  CHECK(since(start) < 2s);
  CHECK(diag.any_contains("shutting down"));

  CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
  exporter.shutdown(1s);  // idempotent
  CHECK(rx.count() == 1);
  CHECK(exporter.force_flush(1s));
  rx.release();
}

TEST_CASE("otlp/http shutdown ends a backoff wait") {
  receiver rx([](std::size_t, const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "10");
  });
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(1);
  auto o = options_for(rx.endpoint(), diag);
  o.export_timeout = 30s;
  o.otlp.timeout = 30s;  // the shorter of the two bounds the export: both past the Retry-After
  st::otlp_http_exporter exporter(o);
  auto result = std::async(std::launch::async, [&] { return exporter.export_spans(f.batch()); });
  REQUIRE(rx.wait_for(1, 5s));
  std::this_thread::sleep_for(50ms);  // into the wait
  const auto start = steady::now();
  exporter.shutdown(1s);
  REQUIRE(result.wait_for(2s) == std::future_status::ready);
  CHECK(result.get() == st::export_result::failure);
  CHECK(since(start) < 1500ms);
  CHECK(rx.count() == 1);
  // Says why the spans did not go (the troubleshooting guide quotes this).
  CHECK_MESSAGE(diag.any_contains("export of 1 span abandoned: the exporter is shutting down; last attempt: HTTP 503"),
                diag.joined());
}

TEST_CASE("otlp/http an exporter inherited through fork() is destroyed in the child without waiting for the parent's threads") {
  receiver rx;
  REQUIRE(rx.ok());
  messages diag;
  batch_fixture f;
  f.add_many(1);
  auto exporter = std::make_unique<st::otlp_http_exporter>(options_for(rx.endpoint(), diag));
  REQUIRE(exporter->export_spans(f.batch()) == st::export_result::success);  // its watchdog runs now
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    exporter.reset();  // the watchdog thread is the parent's: it must not be joined here
    ::_exit(0);
  }
  int status = 0;
  pid_t done = 0;
  const auto start = steady::now();
  while ((done = ::waitpid(child, &status, WNOHANG)) == 0 && since(start) < 5s) std::this_thread::sleep_for(10ms);
  if (done == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  CHECK(done == child);  // 0: the child hung destroying the exporter
  CHECK(WIFEXITED(status));
  CHECK(exporter->export_spans(f.batch()) == st::export_result::success);  // the parent's is unaffected
}

// ============================================================ configuration

TEST_CASE("otlp/http rejects what it cannot send") {
  messages diag;
  auto o = options_for("http://127.0.0.1:4318/v1/traces", diag);
  SUBCASE("not a URL") {
    o.otlp.endpoint = "localhost:4318";
    CHECK_THROWS_AS(st::otlp_http_exporter{o}, st::config_error);
  }
  SUBCASE("another scheme") {
    o.otlp.endpoint = "grpc://127.0.0.1:4317";
    CHECK_THROWS_AS(st::otlp_http_exporter{o}, st::config_error);
  }
  SUBCASE("grpc protocol") {
    o.otlp.protocol = "grpc";
    CHECK_THROWS_AS(st::otlp_http_exporter{o}, st::config_error);
  }
  SUBCASE("unknown compression") {
    o.otlp.compression = "zstd";
    CHECK_THROWS_AS(st::otlp_http_exporter{o}, st::config_error);
  }
}

TEST_CASE("including otlp_http_exporter.hpp registers the exporter name \"otlp\"") {
  const auto factory = st::find_exporter_factory("otlp");
  REQUIRE(factory);
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "otlp";
  cfg.otlp_endpoint = "http://127.0.0.1:4318/v1/traces";
  const st::resolved_config settings = st::resolve_config(cfg);
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  const st::exporter_environment env{settings, diag.sink(), &retries};
  const auto exporter = factory(env);
  REQUIRE(exporter);
  CHECK(exporter->name() == "otlp");
  CHECK(dynamic_cast<st::otlp_http_exporter*>(exporter.get()) != nullptr);
}

// ============================================================ HTTPS

// Debian's cpp-httplib is built with OpenSSL (its pkg-config Cflags define
// CPPHTTPLIB_OPENSSL_SUPPORT); a build of cpp-httplib without it has no
// httplib::SSLServer, and the exporter refuses https endpoints instead.
#if defined(CPPHTTPLIB_OPENSSL_SUPPORT)
namespace {

// An https receiver on 127.0.0.1 that counts requests; with `client_ca`, one
// that refuses the handshake without a client certificate signed by it
// (mutual TLS: SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
struct tls_receiver {
  httplib::SSLServer server;
  std::atomic<int> received{0};
  std::thread thread;
  int port = -1;
  tls_receiver(const tls_files& tls, const char* client_ca)
      : server(tls.cert.c_str(), tls.key.c_str(), client_ca) {
    if (!server.is_valid()) return;
    server.Post("/v1/traces", [this](const httplib::Request&, httplib::Response& res) {
      ++received;
      res.status = 200;
    });
    port = server.bind_to_any_port("127.0.0.1");
    if (port <= 0) return;
    thread = std::thread([this] { server.listen_after_bind(); });
    const auto start = steady::now();
    while (!server.is_running() && since(start) < 5s) std::this_thread::sleep_for(1ms);
  }
  ~tls_receiver() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  bool ok() const { return port > 0 && thread.joinable(); }
  std::string endpoint() const { return "https://127.0.0.1:" + std::to_string(port) + "/v1/traces"; }
};

}  // namespace

TEST_CASE("otlp/https verifies the server certificate unless told not to") {
  tls_files tls;
  if (!tls.ok) {
    MESSAGE("openssl command not available: HTTPS test skipped");
    return;
  }
  tls_receiver server(tls, nullptr);
  REQUIRE(server.ok());
  const std::string endpoint = server.endpoint();

  batch_fixture f;
  f.add_many(1);
  messages diag;
  std::atomic<std::uint64_t> retries{0};
  {
    st::otlp_http_exporter exporter(options_for(endpoint, diag, &retries));  // verification on by default
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(server.received.load() == 0);
    CHECK(retries.load() == 0);  // a certificate problem is not transient
    CHECK(diag.any_contains("SSL"));
  }
  {
    auto o = options_for(endpoint, diag);
    o.otlp.certificate = tls.cert;  // trust the self-signed certificate
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    CHECK(server.received.load() == 1);
  }
  {
    auto o = options_for(endpoint, diag);
    o.otlp.insecure = true;
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    CHECK(server.received.load() == 2);
  }
}

TEST_CASE("otlp/https with a client certificate: a collector that requires mutual TLS") {
  tls_files tls;
  if (!tls.ok) {
    MESSAGE("openssl command not available: HTTPS test skipped");
    return;
  }
  tls_receiver server(tls, tls.client_cert.c_str());  // trusts the client certificate only
  REQUIRE(server.ok());
  batch_fixture f;
  f.add_many(1);
  const auto options = [&](messages& diag) {
    auto o = options_for(server.endpoint(), diag);
    o.otlp.certificate = tls.cert;
    return o;
  };

  SUBCASE("without one, the handshake is refused and nothing arrives") {
    messages diag;
    st::otlp_http_exporter exporter(options(diag));
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(server.received.load() == 0);
    // A failed write, read or handshake, depending on when the refusal arrives.
    if (!diag.any_contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")) MESSAGE(diag.joined());
    CHECK(diag.any_contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"));
  }
  SUBCASE("with it, the collector accepts the connection") {
    messages diag;
    auto o = options(diag);
    o.otlp.client_certificate = tls.client_cert;
    o.otlp.client_key = tls.client_key;
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    CHECK(server.received.load() == 2);
    CHECK(diag.all().empty());
  }
  SUBCASE("set in the tracer's configuration, the certificate reaches its exporter") {
    messages diag;
    st::config cfg;
    cfg.service_name = "mtls-test";
    cfg.exporter = "otlp";
    cfg.otlp_endpoint = server.endpoint();
    cfg.otlp_certificate = tls.cert;
    cfg.otlp_client_certificate = tls.client_cert;
    cfg.otlp_client_key = tls.client_key;
    cfg.read_environment = false;
    cfg.on_diagnostic = diag.sink();
    auto tracer = st::tracer::create(cfg);
    tracer.start("through-mtls").end();
    CHECK(tracer.force_flush(10s));
    CHECK(tracer.stats().spans_exported == 1);
    CHECK(server.received.load() == 1);
    CHECK(diag.all().empty());
  }
  SUBCASE("a certificate the collector does not trust: refused, and the diagnostic names the file") {
    messages diag;
    auto o = options(diag);
    o.otlp.client_certificate = tls.cert;  // the server's own: not signed by the client CA it trusts
    o.otlp.client_key = tls.key;
    st::otlp_http_exporter exporter(o);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(server.received.load() == 0);
    if (!diag.any_contains("does not trust the client certificate")) MESSAGE(diag.joined());
    CHECK(diag.any_contains("does not trust the client certificate \"" + tls.cert + "\""));
  }
  SUBCASE("a client certificate issued by an intermediate CA: the intermediate goes in the CA file") {
    // root -> intermediate -> client; the collector trusts the root only.
    // cpp-httplib reads the first certificate of the client-certificate file,
    // and OpenSSL completes the chain it sends from the CA file.
    const std::string d = tls.dir;
    const std::string script =
        "set -e; cd " + d +
        "; openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-root-ca"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        " -keyout root-key.pem -out root.pem"
        "; openssl req -newkey rsa:2048 -nodes -subj /CN=test-intermediate-ca -keyout inter-key.pem -out inter.csr"
        "; printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext"
        "; openssl x509 -req -in inter.csr -CA root.pem -CAkey root-key.pem -CAcreateserial -days 2"
        " -extfile ca.ext -out inter.pem"
        "; openssl req -newkey rsa:2048 -nodes -subj /CN=test-leaf -keyout leaf-key.pem -out leaf.csr"
        "; printf 'extendedKeyUsage=clientAuth\\n' > leaf.ext"
        "; openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter-key.pem -CAcreateserial -days 2"
        " -extfile leaf.ext -out leaf.pem"
        "; cat cert.pem inter.pem > ca-and-intermediate.pem";
    REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
    tls_receiver root_only(tls, (d + "/root.pem").c_str());
    REQUIRE(root_only.ok());
    messages diag;
    auto o = options_for(root_only.endpoint(), diag);
    o.otlp.client_certificate = d + "/leaf.pem";
    o.otlp.client_key = d + "/leaf-key.pem";
    o.otlp.certificate = tls.cert;  // the server's CA only: the chain stops at the leaf, refused
    {
      st::otlp_http_exporter exporter(o);
      CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
      CHECK(diag.any_contains("put intermediates in otlp_certificate"));
    }
    o.otlp.certificate = d + "/ca-and-intermediate.pem";  // now the intermediate is sent too
    {
      st::otlp_http_exporter exporter(o);
      CHECK(exporter.export_spans(f.batch()) == st::export_result::success);
    }
    CHECK(root_only.received.load() == 1);
    for (const char* name : {"root-key.pem", "root.pem", "root.srl", "inter-key.pem", "inter.csr", "inter.pem", "inter.srl",
                          "ca.ext", "leaf-key.pem", "leaf.csr", "leaf.ext", "leaf.pem", "ca-and-intermediate.pem"})
      std::remove((d + "/" + name).c_str());
  }
  SUBCASE("a key that does not load is said at construction, and every export fails with that reason") {
    messages diag;
    auto o = options(diag);
    o.otlp.client_certificate = tls.client_cert;
    o.otlp.client_key = tls.dir + "/missing-key.pem";
    st::otlp_http_exporter exporter(o);
    CHECK(diag.any_contains("could not be set up"));
    CHECK(diag.any_contains("missing-key.pem"));
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(server.received.load() == 0);
    CHECK(!diag.any_contains("(Success)"));  // cpp-httplib's own word for a client it could not set up
    std::size_t naming = 0;
    for (const auto& line : diag.all()) naming += line.find("failed: the TLS client could not be set up") != std::string::npos;
    CHECK(naming == 2);
  }
  SUBCASE("an encrypted key is refused before OpenSSL could ask for its passphrase") {
    // OpenSSL would prompt on the terminal (and block tracer::create) or on stderr.
    const std::string encrypted = tls.dir + "/client-key-encrypted.pem";
    const std::string cmd = "openssl pkey -in " + tls.client_key + " -aes256 -passout pass:secret -out " + encrypted +
                            " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    messages diag;
    auto o = options(diag);
    o.otlp.client_certificate = tls.client_cert;
    o.otlp.client_key = encrypted;
    st::otlp_http_exporter exporter(o);
    CHECK(diag.any_contains("client-key-encrypted.pem\" is encrypted"));
    CHECK(exporter.export_spans(f.batch()) == st::export_result::failure);
    CHECK(server.received.load() == 0);
    std::remove(encrypted.c_str());
  }
  SUBCASE("a certificate without its key is a configuration error") {
    messages diag;
    auto o = options(diag);
    o.otlp.client_certificate = tls.client_cert;
    CHECK_THROWS_AS(st::otlp_http_exporter{o}, st::config_error);
    o.otlp.client_certificate.clear();
    o.otlp.client_key = tls.client_key;
    CHECK_THROWS_AS(st::otlp_http_exporter{o}, st::config_error);
  }
}
#else
TEST_CASE("otlp/https without TLS support in cpp-httplib is a configuration error") {
  messages diag;
  try {
    st::otlp_http_exporter exporter(options_for("https://127.0.0.1:4318/v1/traces", diag));
    FAIL("an https endpoint was accepted without CPPHTTPLIB_OPENSSL_SUPPORT");
  } catch (const st::config_error& e) {
    CHECK(std::string_view(e.what()).find("CPPHTTPLIB_OPENSSL_SUPPORT") != std::string_view::npos);
  }
}
#endif  // CPPHTTPLIB_OPENSSL_SUPPORT

// ============================================================ parsing helpers

TEST_CASE("Retry-After: delay-seconds and the three HTTP-date forms") {
  namespace oh = st::detail::otlp_http;
  const std::int64_t t = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  const std::int64_t now = 1795824000;  // Sat, 28 Nov 2026 00:00:00 GMT
  CHECK(oh::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", now) == t);
  CHECK(oh::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now) == t);
  CHECK(oh::parse_http_date("Sun Nov  6 08:49:37 1994", now) == t);
  CHECK(oh::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0);
  CHECK(oh::parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT", now) == 1835481599);
  CHECK(!oh::parse_http_date("Sun, 06 Nov 1994 08:49:37", now));
  CHECK(!oh::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT", now));
  CHECK(!oh::parse_http_date("Sun, 06 Nov 1994 8:49:37 GMT", now));
  CHECK(!oh::parse_http_date("", now));
  // RFC 850's two-digit year (RFC 9110 5.6.7): this century's, unless that is
  // more than 50 years ahead of now; then the latest past year with those digits.
  CHECK(oh::parse_http_date("Saturday, 06-Nov-60 08:49:37 GMT", now) == 2866956577);  // 2060
  CHECK(oh::parse_http_date("Friday, 06-Nov-76 08:49:37 GMT", now) == 3371878177);    // 2076: 50 years ahead
  CHECK(oh::parse_http_date("Sunday, 06-Nov-77 08:49:37 GMT", now) == 247654177);     // 1977, not 2077
  CHECK(oh::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", t) == t);               // seen in 1994
  CHECK(oh::year_of_unix_seconds(now) == 2026);
  CHECK(oh::year_of_unix_seconds(0) == 1970);
  CHECK(oh::year_of_unix_seconds(-1) == 1969);
  CHECK(oh::year_of_unix_seconds(1835481599) == 2028);  // the last second of 29 Feb 2028
  CHECK(oh::year_of_unix_seconds(1861919999) == 2028);  // 31 Dec 2028 23:59:59
  CHECK(oh::year_of_unix_seconds(1861920000) == 2029);
  CHECK(oh::year_of_unix_seconds(-86400) == 1969);
  CHECK(oh::year_of_unix_seconds(-31536001) == 1968);  // 31 Dec 1968 23:59:59
  // Any clock reading is safe (no overflow: the sanitizer builds run this).
  CHECK(oh::year_of_unix_seconds(std::numeric_limits<std::int64_t>::max()) > 2026);
  CHECK(oh::year_of_unix_seconds(std::numeric_limits<std::int64_t>::min()) < 1970);

  using ms = std::chrono::milliseconds;
  CHECK(oh::parse_retry_after("120", t) == ms(120000));
  CHECK(oh::parse_retry_after(" 0 ", t) == ms(0));
  CHECK(oh::parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", t) == ms(30000));
  CHECK(oh::parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", t) == ms(0));  // in the past: now
  CHECK(oh::parse_retry_after("99999999999999999999999", t) == ms(10000000LL * 1000));
  CHECK(!oh::parse_retry_after("-5", t));
  CHECK(!oh::parse_retry_after("1.5", t));
  CHECK(!oh::parse_retry_after("soon", t));
  CHECK(!oh::parse_retry_after("", t));
}

TEST_CASE("response bodies: partial_success readers never crash on garbage") {
  namespace oh = st::detail::otlp_http;
  oh::partial_success ps;
  CHECK(oh::parse_protobuf_response("", ps));
  CHECK(!ps.any());
  CHECK(oh::parse_protobuf_response(partial_success_response(-1, "x"), ps));
  CHECK(ps.rejected_spans == -1);
  CHECK(ps.error_message == "x");
  for (const std::string& bad : {std::string("\x0a"), std::string("\x0a\x05\x08"), std::string("\x0b"),
                                std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), std::string("\x00", 1)}) {
    oh::partial_success p;
    CHECK(!oh::parse_protobuf_response(bad, p));
  }
  CHECK(oh::protobuf_status_message(rpc_status(8, "slow down")) == "slow down");
  CHECK(oh::protobuf_status_message("\x12\x09short").empty());

  const auto json = [](std::string_view body, std::int64_t rejected, std::string_view message) {
    oh::partial_success p;
    const bool ok = oh::parse_json_response(body, p);
    return ok && p.rejected_spans == rejected && p.error_message == message;
  };
  CHECK(json("{}", 0, ""));
  CHECK(json(" { \"partialSuccess\" : { } } ", 0, ""));
  CHECK(json(R"({"partialSuccess":null})", 0, ""));
  CHECK(json(R"({"partialSuccess":{"rejectedSpans":7,"errorMessage":"a\"b\\n\n"}})", 7, "a\"b\\n\n"));
  CHECK(json(R"({"partial_success":{"rejected_spans":"3","error_message":"x"},"other":[1,{"a":null},true]})", 3,
             "x"));
  CHECK(json(R"({"partialSuccess":{"errorMessage":"\ud83d\ude00 \ud800"}})", 0, "\xF0\x9F\x98\x80 \xEF\xBF\xBD"));
  oh::partial_success p;
  for (const std::string& bad :
       {std::string(""), std::string("[]"), std::string("{"), std::string("{\"a\":}"), std::string("{} x"),
        std::string(R"({"partialSuccess":{"rejectedSpans":1.5}})"), std::string(R"({"partialSuccess":[]})"),
        std::string(R"({"a":"unterminated)"), std::string("{\"a\":\"\x01\"}"), std::string(R"({"a":01})"),
        std::string(R"({"partialSuccess":{"rejectedSpans":"99999999999999999999"}})"),
        std::string(100000, '[')}) {
    CAPTURE(bad.substr(0, 40));
    CHECK(!oh::parse_json_response(bad, p));
  }
  std::string deep = "{\"a\":";
  for (int i = 0; i < 100000; ++i) deep += '[';
  CHECK(!oh::parse_json_response(deep, p));  // depth-limited, no stack overflow
}
