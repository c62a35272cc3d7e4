// The in-memory and console exporters.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

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

TEST_CASE("render_trace_tree ends on spans that share an id or whose parents form a cycle, and prints them all") {
  st::resource res;
  const auto make = [](std::uint64_t id, std::uint64_t parent, const char* name, std::uint64_t start) {
    st::span_data s;
    s.context = st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(id), st::trace_flags(1));
    if (parent != 0) s.parent_span_id = st::span_id::from_u64(parent);
    s.name = name;
    s.start_time_unix_nano = start;
    return s;
  };
  // A root and a child with the root's own id: the child was printed under
  // itself until memory ran out.
  const st::span_data root = make(7, 0, "root", 1), twin = make(7, 7, "twin", 2);
  const std::string shared = st::detail::render_trace_tree(res, {&root, &twin});
  CHECK(shared.find("root") != std::string::npos);
  CHECK(shared.find("twin") != std::string::npos);
  CHECK(shared.find("twin", shared.find("twin") + 1) == std::string::npos);  // once
  // Its own parent, and two spans that are each other's: never printed before.
  const st::span_data self = make(5, 5, "self", 3), left = make(8, 9, "left", 4), right = make(9, 8, "right", 5);
  const std::string cycles = st::detail::render_trace_tree(res, {&self, &left, &right});
  for (const char* name : {"self", "left", "right"}) {
    CAPTURE(name);
    CHECK(cycles.find(name) != std::string::npos);
  }
}

TEST_CASE("render_trace_tree escapes control characters: a span cannot drive the terminal or forge a line") {
  st::resource res;
  res.attributes.set("service.name", "svc\x1b[2J");
  st::span_data s;
  s.context = st::span_context(st::trace_id::from_u64(1, 2), st::span_id::from_u64(1), st::trace_flags(1));
  s.name = "title\x1b]0;owned\x07";
  s.status = st::status_code::error;
  s.status_message = "bad\r\nfake line";
  s.attributes.set("k\x7f", "a\nb\tc \xc2\x9b" "2J \xc3\xa9");  // C1 CSI (U+009B) and a real é
  s.events.next_slot().name = "ev\x1b";
  const std::string text = st::detail::render_trace_tree(res, {&s});
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("\xc2\x9b") == std::string::npos);
  CHECK(text.find("(service svc\\x1b[2J)") != std::string::npos);
  CHECK(text.find("title\\x1b]0;owned\\x07") != std::string::npos);
  CHECK(text.find("ERROR: bad\\x0d\\nfake line") != std::string::npos);
  CHECK(text.find("k\\x7f=\"a\\nb\\tc \\u009b2J \xc3\xa9\"") != std::string::npos);
  CHECK(text.find("event ev\\x1b") != std::string::npos);
  // Only the tree's own line breaks: the trace line, the span, its attributes, its event.
  CHECK(std::count(text.begin(), text.end(), '\n') == 4);
}

namespace {
struct deep_trace_run {
  std::string text;
  std::size_t spans = 0;
};

// Ends `depth` nested spans, innermost first, through a console exporter
// writing to a temporary file: the root's end prints the whole tree.
void* end_deep_trace(void* arg) {
  auto& run = *static_cast<deep_trace_run*>(arg);
  std::FILE* out = std::tmpfile();
  if (out == nullptr) return nullptr;
  {
    st::config cfg;
    cfg.read_environment = false;
    cfg.exporter = "none";
    cfg.exporters.push_back(std::make_shared<st::console_exporter>(out));
    auto tracer = st::tracer::create(cfg);
    std::vector<st::span> open;
    open.reserve(run.spans);
    for (std::size_t i = 0; i < run.spans; ++i) open.push_back(tracer.start("level"));
    while (!open.empty()) open.pop_back();
  }
  std::rewind(out);
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) run.text.append(buf, n);
  std::fclose(out);
  return nullptr;
}
}  // namespace

// The console printer recursed once per level (a SIGSEGV at 3000 levels on a
// 256 KiB stack) and its indentation made the output quadratic in depth.
TEST_CASE("console exporter prints a 5000-deep trace on a small stack, in output linear in its spans") {
  deep_trace_run run;
  run.spans = 5000;
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, 256 * 1024) == 0);
  pthread_t thread;
  REQUIRE(pthread_create(&thread, &attr, end_deep_trace, &run) == 0);
  REQUIRE(pthread_join(thread, nullptr) == 0);
  pthread_attr_destroy(&attr);
  std::size_t lines = 0;
  for (char c : run.text) lines += c == '\n';
  CHECK(lines == run.spans + 1);  // the trace header and one line per span
  CHECK(run.text.find("depth=5000") != std::string::npos);
  CHECK(run.text.size() < run.spans * 200);  // ~150 bytes a line at most, whatever the depth
}

namespace {
// A synchronous exporter that calls back into its own tracer on the export
// thread (which is the ending thread): starts and ends a span, reads stats()
// and flushes. Fails every second call, so that the diagnostic sink runs
// inside the call too.
class reentering_exporter final : public st::span_exporter {
 public:
  st::tracer* tracer = nullptr;
  std::atomic<int> calls{0};
  st::export_result export_spans(const st::span_batch&) noexcept override {
    ++calls;
    { auto inside = tracer->start("made inside the export"); }
    stats_inside = tracer->stats();
    flush_inside = tracer->force_flush(std::chrono::milliseconds(100));
    return calls % 2 == 0 ? st::export_result::failure : st::export_result::success;
  }
  bool synchronous() const noexcept override { return true; }
  std::string_view name() const noexcept override { return "reentering"; }
  st::tracer_stats stats_inside;
  bool flush_inside = true;
};

// Fails the test process rather than hang it, if fn deadlocks.
template <class F>
void within_seconds(int seconds, F&& fn) {
  auto done = std::async(std::launch::async, std::forward<F>(fn));
  if (done.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "deadlock: still waiting after %d s\n", seconds);
    std::abort();
  }
  done.get();
}
}  // namespace

TEST_CASE("a synchronous exporter or diagnostic sink calling back into the tracer on its thread does not deadlock") {
  auto exporter = std::make_shared<reentering_exporter>();
  std::vector<std::string> diagnostics;
  st::tracer* sink_tracer = nullptr;
  st::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.exporters.push_back(exporter);
  cfg.on_diagnostic = [&](std::string_view m) {
    diagnostics.emplace_back(m);
    if (sink_tracer != nullptr) { auto from_sink = sink_tracer->start("made by the diagnostic sink"); }
  };
  auto tracer = st::tracer::create(cfg);
  exporter->tracer = &tracer;
  sink_tracer = &tracer;
  within_seconds(20, [&] {
    for (int i = 0; i < 4; ++i) { auto s = tracer.start("outer"); }
  });
  CHECK(exporter->calls.load() == 4);  // the outer spans only: the inner ones were not exported
  CHECK_FALSE(exporter->flush_inside);
  CHECK(exporter->stats_inside.spans_ended >= 1);
  const auto stats = tracer.stats();
  CHECK(stats.spans_exported == 2);  // every second call fails
  CHECK(stats.spans_dropped == stats.spans_ended - 4);
  CHECK(stats.spans_dropped >= 4);
  int told = 0;
  for (const auto& d : diagnostics) told += d.find("is not exported: it would wait") != std::string::npos;
  CHECK(told == 1);
  within_seconds(20, [&] { CHECK(tracer.shutdown()); });
}
