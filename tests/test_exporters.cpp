// The in-memory and console exporters.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

namespace st = streambus::tracing;

namespace {
std::string read_all(std::FILE* f) {
  std::string out;
  std::rewind(f);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

st::tracer make_tracer(std::shared_ptr<st::span_exporter> exporter) {
  st::config cfg;
  cfg.service_name = "console-test";
  cfg.exporter = "none";
  cfg.read_environment = false;
  cfg.exporters = {std::move(exporter)};
  return st::tracer::create(cfg);
}
}  // namespace

TEST_CASE("console exporter prints one tree per trace when its local root ends") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  auto tracer = make_tracer(std::make_shared<st::console_exporter>(out));
  std::string root_id, trace;
  {
    auto root = tracer.start("handle-request", st::span_kind::server);
    root.set_attribute("http.request.method", "GET");
    root_id = root.context().span_id().to_hex();
    trace = root.context().trace_id().to_hex();
    {
      auto child = tracer.start("db.query", st::span_kind::client);
      child.record_error("timeout");
    }
    CHECK(read_all(out).empty());  // nothing printed before the root ends
  }
  const std::string text = read_all(out);
  CHECK(text.find("trace " + trace + " (service console-test)") == 0);
  CHECK(text.find("└─ handle-request [server]") != std::string::npos);
  CHECK(text.find("http.request.method=\"GET\"") != std::string::npos);
  CHECK(text.find("└─ db.query [client]") != std::string::npos);
  CHECK(text.find("ERROR: timeout") != std::string::npos);
  CHECK(text.find("event exception") != std::string::npos);
  // The child is drawn under the root (indented further).
  CHECK(text.find("handle-request") < text.find("db.query"));
  tracer.shutdown();
  std::fclose(out);
}

// Two requests of one trace served at once (two local roots under the same
// remote parent): each is printed with its own children when it ends, and
// the other's children wait for their root.
TEST_CASE("console exporter prints each local root of a trace with its own children") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  auto tracer = make_tracer(std::make_shared<st::console_exporter>(out));
  const st::span_context caller(st::trace_id::from_u64(1, 2), st::span_id::from_u64(3), st::trace_flags(1),
                                /*remote=*/true);
  st::span_options server;
  server.parent = caller;
  server.make_current = false;
  auto a = tracer.start("request A", server);
  auto b = tracer.start("request B", server);
  { auto child = tracer.start("child of B", b.context()); }
  { auto child = tracer.start("child of A", a.context()); }
  a.end();
  const std::string after_a = read_all(out);
  CHECK(after_a.find("request A") != std::string::npos);
  CHECK(after_a.find("child of A") != std::string::npos);
  CHECK(after_a.find("child of B") == std::string::npos);  // waits for request B
  b.end();
  const std::string after_b = read_all(out).substr(after_a.size());
  CHECK(after_b.find("request B") != std::string::npos);
  CHECK(after_b.find("child of B") > after_b.find("request B"));  // drawn under it
  CHECK(after_b.find("child of A") == std::string::npos);
  tracer.shutdown();
  std::fclose(out);
}

TEST_CASE("console exporter prints spans still pending at shutdown") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  auto tracer = make_tracer(std::make_shared<st::console_exporter>(out));
  st::span_options opts;
  opts.make_current = false;
  auto root = tracer.start("long-running", opts);
  { auto child = tracer.start("finished-child", root.context()); }
  CHECK(read_all(out).empty());
  tracer.shutdown();  // flushes the orphaned child
  CHECK(read_all(out).find("finished-child") != std::string::npos);
  root.end();
  std::fclose(out);
}

TEST_CASE("in-memory exporter keeps copies, waits and clears") {
  auto memory = std::make_shared<st::in_memory_exporter>();
  auto tracer = make_tracer(memory);
  std::thread producer([&] {
    for (int i = 0; i < 10; ++i) {
      auto s = tracer.start("work");
      s.set_attribute("i", i);
    }
  });
  CHECK(memory->wait_for(10, std::chrono::seconds(10)));
  producer.join();
  const auto spans = memory->spans();
  REQUIRE(spans.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(*spans[i].attributes.find("i")->get_if<std::int64_t>() == i);
  memory->clear();
  CHECK(memory->size() == 0);
  CHECK_FALSE(memory->wait_for(1, std::chrono::milliseconds(1)));
}

TEST_CASE("render_trace_tree draws siblings with branch characters") {
  st::resource res;
  res.attributes.set("service.name", "svc");
  st::span_data root, a, b;
  root.context = st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(1), st::trace_flags(1));
  root.name = "root";
  root.start_time_unix_nano = 1;
  a = root;
  a.context = st::span_context(root.context.trace_id(), st::span_id::from_u64(2), st::trace_flags(1));
  a.parent_span_id = root.context.span_id();
  a.name = "first";
  a.start_time_unix_nano = 2;
  b = a;
  b.context = st::span_context(root.context.trace_id(), st::span_id::from_u64(3), st::trace_flags(1));
  b.name = "second";
  b.start_time_unix_nano = 3;
  const std::string text = st::detail::render_trace_tree(res, {&b, &root, &a});
  CHECK(text.find("├─ first") != std::string::npos);
  CHECK(text.find("└─ second") != std::string::npos);
  CHECK(text.find("first") < text.find("second"));
}
