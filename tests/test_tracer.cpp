// The tracer and its spans: ids, nesting, explicit and remote parents,
// sampling, recording calls, limits, lifecycle.
#include <doctest/doctest.h>
#include <streambus/tracing.hpp>

#include <atomic>
#include <cstdio>
#include <ios>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <unistd.h>

#include "support/memory_tracer.hpp"

namespace st = streambus::tracing;

namespace {

struct fixture : memory_tracer {
  using memory_tracer::memory_tracer;

  st::span_data only_span() const {
    auto all = spans();
    REQUIRE(all.size() == 1);
    return all.front();
  }
};

st::config with_sampler(const char* name, std::optional<double> ratio = std::nullopt) {
  st::config cfg;
  cfg.sampler = name;
  cfg.sampling_rate = ratio;
  return cfg;
}

}  // namespace

TEST_CASE("a root started with an explicit invalid parent or with span_options gets the random flag too") {
  // These roots take the general path (start_span), not start(name)'s.
  for (const char* sampler : {"always_on", "always_off"}) {
    CAPTURE(sampler);
    st::config cfg;
    cfg.sampler = sampler;
    fixture f(cfg);
    auto explicit_none = f.tracer.start("a", st::span_context{});
    CHECK(explicit_none.context().valid());
    CHECK(explicit_none.context().flags().random());
    st::span_options opts;
    opts.kind = st::span_kind::client;
    auto with_options = f.tracer.start("b", opts);
    CHECK(with_options.context().valid());
    CHECK(with_options.context().flags().random());
  }
}

TEST_CASE("a root span gets fresh non-zero ids, the random flag and timestamps") {
  fixture f;
  const auto before = st::detail::system_now_ns();
  st::span_context ctx;
  {
    auto span = f.tracer.start("root-op", st::span_kind::server);
    ctx = span.context();
    CHECK(span.is_recording());
    CHECK(ctx.valid());
    CHECK(ctx.sampled());
    CHECK(ctx.flags().random());
    CHECK_FALSE(ctx.is_remote());
  }
  const auto s = f.only_span();
  CHECK(s.name == "root-op");
  CHECK(s.kind == st::span_kind::server);
  CHECK(s.context.trace_id() == ctx.trace_id());
  CHECK(s.context.span_id() == ctx.span_id());
  CHECK_FALSE(s.parent_span_id.valid());
  CHECK(s.start_time_unix_nano >= static_cast<std::uint64_t>(before) - 1'000'000);  // clock offset tolerance 1 ms
  CHECK(s.end_time_unix_nano >= s.start_time_unix_nano);
  CHECK(s.status == st::status_code::unset);
}

TEST_CASE("a span's name comes out exactly as given at every length, and a reused record takes shorter and longer ones") {
  std::string source;
  for (int i = 0; i < 100; ++i) source += static_cast<char>('a' + (i * 7) % 26);
  // The name copy has a path per length class (0, 1-3, 4-7, 8-16, 17-32,
  // longer, past the inline buffer): each length, then the record reused
  // from long to short and back.
  st::span_name reused;
  for (std::size_t n = 0; n <= source.size(); ++n) {
    const std::string_view want(source.data() + 1, n);  // an odd start address too
    CHECK(st::span_name(want).view() == want);
    reused = want;
    CHECK(reused.view() == want);
    reused = std::string_view(source).substr(0, source.size() - n);
    CHECK(reused.view() == std::string_view(source).substr(0, source.size() - n));
  }
  fixture f;
  for (std::size_t n = 0; n <= 70; ++n) f.tracer.start(std::string_view(source).substr(n % 3, n));
  const auto all = f.spans();
  REQUIRE(all.size() == 71);
  for (std::size_t n = 0; n <= 70; ++n) CHECK(all[n].name == std::string_view(source).substr(n % 3, n));
}

TEST_CASE("spans nest through the thread's current span") {
  fixture f;
  st::span_context outer_ctx, inner_ctx;
  {
    auto outer = f.tracer.start("outer");
    outer_ctx = outer.context();
    CHECK(f.tracer.current_context() == outer_ctx);
    {
      auto inner = f.tracer.start("inner");
      inner_ctx = inner.context();
      CHECK(f.tracer.current_context() == inner_ctx);
    }
    CHECK(f.tracer.current_context() == outer_ctx);
    auto sibling = f.tracer.start("sibling");
    CHECK(sibling.context().trace_id() == outer_ctx.trace_id());
  }
  CHECK_FALSE(f.tracer.current_context().valid());
  const auto spans = f.spans();
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].name == "inner");
  CHECK(spans[0].parent_span_id == outer_ctx.span_id());
  CHECK(spans[0].context.trace_id() == outer_ctx.trace_id());
  CHECK(spans[1].name == "sibling");
  CHECK(spans[1].parent_span_id == outer_ctx.span_id());
  CHECK(spans[2].name == "outer");
  CHECK(inner_ctx.span_id() != outer_ctx.span_id());
}

TEST_CASE("spans nest 100 deep, past every growth of the current-span stack, and keep their tracestate") {
  // The stack starts with 16 entries and doubles: 100 levels relocate the
  // entries (and their tracestate references) three times.
  fixture f;
  const std::map<std::string, std::string> headers{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {"tracestate", "congo=t61rcWkgMzE"}};
  const auto remote = f.tracer.extract(headers);
  REQUIRE(remote.valid());
  constexpr int depth = 100;
  std::vector<st::span> open;
  open.reserve(depth);
  open.push_back(f.tracer.start("level-0", remote));
  for (int i = 1; i < depth; ++i) {
    open.push_back(f.tracer.start("level-" + std::to_string(i)));
    CHECK(f.tracer.current_context() == open.back().context());
  }
  for (const auto& s : open) {
    CHECK(s.context().trace_id() == remote.trace_id());
    CHECK(s.context().trace_state().header() == "congo=t61rcWkgMzE");
  }
  // End innermost first; each end makes the parent current again.
  for (int i = depth - 1; i >= 1; --i) {
    open[static_cast<std::size_t>(i)].end();
    CHECK(f.tracer.current_context() == open[static_cast<std::size_t>(i - 1)].context());
  }
  open[0].end();
  CHECK_FALSE(f.tracer.current_context().valid());
  const auto spans = f.spans();
  REQUIRE(spans.size() == static_cast<std::size_t>(depth));
  for (int i = 0; i < depth - 1; ++i) {
    // spans[i] is level depth-1-i; its parent is the next one exported.
    CHECK(spans[static_cast<std::size_t>(i)].name == "level-" + std::to_string(depth - 1 - i));
    CHECK(spans[static_cast<std::size_t>(i)].parent_span_id == spans[static_cast<std::size_t>(i + 1)].context.span_id());
  }
  CHECK(spans.back().parent_span_id == remote.span_id());
  CHECK(spans.back().parent_is_remote);
}

TEST_CASE("a thread that exits with 40 spans still current on it frees its stack; the spans still export") {
  // Run under LeakSanitizer in CI: the stack's buffer and the entries'
  // tracestate references must be released at thread exit.
  fixture f;
  const std::map<std::string, std::string> headers{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {"tracestate", "rojo=00f067aa0ba902b7"}};
  std::vector<st::span> handed_over;
  std::thread([&] {
    handed_over.push_back(f.tracer.start("root", f.tracer.extract(headers)));
    for (int i = 1; i < 40; ++i) handed_over.push_back(f.tracer.start("child"));
  }).join();
  for (auto it = handed_over.rbegin(); it != handed_over.rend(); ++it) it->end();
  const auto spans = f.spans();
  REQUIRE(spans.size() == 40);
  CHECK(spans.back().name == "root");
  for (std::size_t i = 0; i + 1 < spans.size(); ++i) CHECK(spans[i].parent_span_id == spans[i + 1].context.span_id());
  CHECK_FALSE(f.tracer.current_context().valid());
}

TEST_CASE("threads come and go: each gets its own current-span stack, freed when it exits") {
  // 32 short-lived threads, each nesting 20 spans (past the stack's first
  // growth) and ending them. Under LeakSanitizer a stack buffer that is not
  // freed at thread exit shows up as a leak; under TSan a shared one as a race.
  fixture f;
  constexpr int threads = 32;
  constexpr int depth = 20;
  std::atomic<int> good{0};  // threads whose spans chained and whose stack emptied
  for (int round = 0; round < 4; ++round) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads / 4; ++t) {
      workers.emplace_back([&f, &good] {
        std::vector<st::span> open;
        open.reserve(depth);
        for (int i = 0; i < depth; ++i) open.push_back(f.tracer.start("nested"));
        const bool chained = open.back().context().trace_id() == open.front().context().trace_id();
        while (!open.empty()) open.pop_back();  // innermost first
        if (chained && !f.tracer.current_context().valid()) good.fetch_add(1);
      });
    }
    for (auto& w : workers) w.join();
  }
  CHECK(good.load() == threads);
  CHECK(f.spans().size() == static_cast<std::size_t>(threads * depth));
}

TEST_CASE("explicit end is idempotent and pops the span") {
  fixture f;
  auto span = f.tracer.start("op");
  span.end();
  span.end();
  CHECK_FALSE(span.is_recording());
  CHECK_FALSE(f.tracer.current_context().valid());
  span.set_attribute("after", 1);  // ignored, no crash
  CHECK(f.spans().size() == 1);
  CHECK(f.spans()[0].attributes.find("after") == nullptr);
}

TEST_CASE("an outer span ending first also pops children left open") {
  fixture f;
  auto outer = f.tracer.start("outer");
  auto inner = f.tracer.start("inner");
  outer.end();
  CHECK_FALSE(f.tracer.current_context().valid());
  inner.end();  // still exported, parent link intact
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[1].parent_span_id == spans[0].context.span_id());
}

TEST_CASE("moving a span transfers it; the moved-from span is inert") {
  fixture f;
  st::span moved;
  st::span_context original;
  {
    auto span = f.tracer.start("op");
    original = span.context();
    moved = std::move(span);
    CHECK_FALSE(span.is_recording());
    CHECK_FALSE(span.context().valid());  // no ids left behind: it is a default span now
    span.end();                           // a no-op
  }
  CHECK(f.spans().empty());
  CHECK(moved.is_recording());
  CHECK(moved.context() == original);
  moved.end();
  CHECK(f.spans().size() == 1);
}

TEST_CASE("an explicit parent context parents work on another thread") {
  fixture f;
  st::span_context parent_ctx;
  {
    auto parent = f.tracer.start("request");
    parent_ctx = parent.context();
    std::thread worker([&] {
      CHECK_FALSE(f.tracer.current_context().valid());  // the current span is per thread
      auto child = f.tracer.start("background-work", parent_ctx);
      auto grandchild = f.tracer.start("step");
      CHECK(grandchild.context().trace_id() == parent_ctx.trace_id());
    });
    worker.join();
  }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].name == "step");
  CHECK(spans[1].name == "background-work");
  CHECK(spans[1].parent_span_id == parent_ctx.span_id());
  CHECK(spans[0].parent_span_id == spans[1].context.span_id());
  CHECK_FALSE(spans[1].parent_is_remote);
}

TEST_CASE("a detached span can end on another thread without touching the current span") {
  fixture f;
  st::span_options opts;
  opts.make_current = false;
  opts.kind = st::span_kind::producer;
  auto detached = f.tracer.start("async-send", opts);
  CHECK_FALSE(f.tracer.current_context().valid());
  std::thread([s = std::move(detached)]() mutable { s.end(); }).join();
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  CHECK(spans[0].kind == st::span_kind::producer);
}

TEST_CASE("new_root ignores the current span") {
  fixture f;
  auto outer = f.tracer.start("outer");
  st::span_options opts;
  opts.new_root = true;
  auto root = f.tracer.start("independent", opts);
  CHECK(root.context().trace_id() != outer.context().trace_id());
}

TEST_CASE("a remote parent continues the trace, keeps tracestate and flags") {
  fixture f;
  std::map<std::string, std::string> headers{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"tracestate", "congo=t61rcWkgMzE"}};
  const auto remote = f.tracer.extract(headers);
  REQUIRE(remote.valid());
  CHECK(remote.is_remote());
  {
    auto span = f.tracer.start("handle", remote, st::span_kind::server);
    CHECK(span.context().trace_id() == remote.trace_id());
    CHECK(span.context().trace_state().header() == "congo=t61rcWkgMzE");
    CHECK_FALSE(span.context().flags().random());  // not set by the caller: carried unchanged
    std::map<std::string, std::string> out;
    f.tracer.inject(out);
    CHECK(out["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-" + span.context().span_id().to_hex() + "-01");
    CHECK(out["tracestate"] == "congo=t61rcWkgMzE");
  }
  const auto s = f.only_span();
  CHECK(s.parent_span_id.to_hex() == "00f067aa0ba902b7");
  CHECK(s.parent_is_remote);
  CHECK(s.context.trace_state().header() == "congo=t61rcWkgMzE");
}

TEST_CASE("invalid incoming context starts a fresh trace") {
  fixture f;
  std::map<std::string, std::string> headers{{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}};
  const auto remote = f.tracer.extract(headers);
  CHECK_FALSE(remote.valid());
  { auto span = f.tracer.start("handle", remote); }
  const auto s = f.only_span();
  CHECK(s.context.trace_id().valid());
  CHECK_FALSE(s.parent_span_id.valid());
}

TEST_CASE("unsampled spans record nothing but still propagate") {
  fixture f(with_sampler("always_off"));
  std::map<std::string, std::string> headers;
  {
    auto span = f.tracer.start("not-sampled");
    CHECK_FALSE(span.is_recording());
    CHECK(span.context().valid());
    CHECK_FALSE(span.context().sampled());
    span.set_attribute("ignored", 1).add_event("ignored");
    f.tracer.inject(headers);
    auto child = f.tracer.start("child");
    CHECK(child.context().trace_id() == span.context().trace_id());
  }
  CHECK(f.spans().empty());
  REQUIRE(headers.count("traceparent") == 1);
  CHECK(headers["traceparent"].substr(53) == "02");  // random flag, not sampled
}

TEST_CASE("parent-based sampling follows a sampled remote parent even at ratio 0") {
  fixture f(with_sampler("parentbased_traceidratio", 0.0));
  { auto root = f.tracer.start("root"); CHECK_FALSE(root.is_recording()); }
  std::map<std::string, std::string> headers{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  { auto span = f.tracer.start("continued", f.tracer.extract(headers)); CHECK(span.is_recording()); }
  headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
  { auto span = f.tracer.start("dropped", f.tracer.extract(headers)); CHECK_FALSE(span.is_recording()); }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 1);
  CHECK(spans[0].name == "continued");
}

// start(name) makes an unsampled span on a path of its own and a sampled one
// on two others (root, child), and leaves a tracestate or a remote parent to
// the general path: each must decide, identify and nest as the sampler says.
TEST_CASE("start(name) decides, identifies and nests as the sampler says on every path") {
  struct kind {
    const char* name;
    double ratio;
    bool follows_parent;
  };
  for (const kind k : {kind{"traceidratio", 0.5, false}, kind{"parentbased_traceidratio", 0.5, true},
                       kind{"always_on", 1.0, false}, kind{"always_off", 0.0, false},
                       kind{"parentbased_always_off", 0.0, true}}) {
    const std::string sampler_name = k.name;
    CAPTURE(sampler_name);
    const bool has_ratio = sampler_name.find("traceidratio") != std::string::npos;
    fixture f(with_sampler(k.name, has_ratio ? std::optional<double>(k.ratio) : std::nullopt));
    const st::sampler ratio = st::sampler::trace_id_ratio(k.ratio);
    std::map<std::string, st::span_context> started;  // by span id
    int sampled_roots = 0;
    const int rounds = 2000;
    for (int i = 0; i < rounds; ++i) {
      auto root = f.tracer.start("root");
      const st::span_context r = root.context();
      REQUIRE(r.valid());
      CHECK(r.flags().random());
      CHECK(r.sampled() == ratio.ratio_decision(r.trace_id()));
      CHECK(root.is_recording() == r.sampled());
      CHECK(f.tracer.current_context() == r);
      sampled_roots += r.sampled() ? 1 : 0;
      {
        auto child = f.tracer.start("child");
        const st::span_context c = child.context();
        CHECK(c.trace_id() == r.trace_id());
        CHECK(c.span_id() != r.span_id());
        CHECK(c.flags().random());
        // Parent-based follows the root; the ratio rule alone decides the
        // same way for the same trace id.
        CHECK(c.sampled() == (k.follows_parent ? r.sampled() : ratio.ratio_decision(c.trace_id())));
        CHECK(f.tracer.current_context() == c);
        started[c.span_id().to_hex()] = r;
      }
      CHECK(f.tracer.current_context() == r);
      started[r.span_id().to_hex()] = st::span_context{};
    }
    CHECK_FALSE(f.tracer.current_context().valid());
    if (k.ratio == 0.5) CHECK((sampled_roots > rounds / 2 - 200 && sampled_roots < rounds / 2 + 200));
    if (k.ratio == 1.0) CHECK(sampled_roots == rounds);
    if (k.ratio == 0.0) CHECK(sampled_roots == 0);
    // What was recorded names the right parents.
    for (const auto& s : f.spans()) {
      CAPTURE(s.name);
      REQUIRE(started.count(s.context.span_id().to_hex()) == 1);
      const st::span_context& parent = started[s.context.span_id().to_hex()];
      CHECK(s.parent_span_id == parent.span_id());
      CHECK_FALSE(s.parent_is_remote);
      CHECK(s.context.sampled());
    }

    // A remote parent with a tracestate: its children, and theirs, keep it.
    std::map<std::string, std::string> headers{
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}, {"tracestate", "vendor=x"}};
    const st::span_context remote = f.tracer.extract(headers);
    REQUIRE(remote.valid());
    {
      auto span = f.tracer.start("under-remote", remote);
      auto child = f.tracer.start("grandchild");
      CHECK(child.context().trace_id() == remote.trace_id());
      CHECK(child.context().trace_state().header() == "vendor=x");
      CHECK(child.context().sampled() == span.context().sampled());
    }
  }
}

// A sampler that does not follow the parent may drop a child of a sampled
// span: that child is unsampled in its own context and as the current
// context (what inject writes, what a parent-based grandchild follows),
// whichever call started it.
TEST_CASE("an unsampled child of a sampled parent is unsampled as the current context too") {
  fixture f(with_sampler("always_off"));
  std::map<std::string, std::string> headers{
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"}};
  const st::span_context sampled_parent = f.tracer.extract(headers);
  REQUIRE(sampled_parent.sampled());
  const auto check_current = [&](const st::span& child, const char* how) {
    const std::string how_called = how;
    CAPTURE(how_called);
    CHECK_FALSE(child.context().sampled());
    CHECK(child.context().flags().random());  // carried from the parent
    CHECK(f.tracer.current_context() == child.context());
    std::map<std::string, std::string> out;
    f.tracer.inject(out);
    CHECK(out["traceparent"] ==
          "00-" + child.context().trace_id().to_hex() + "-" + child.context().span_id().to_hex() + "-02");
  };
  {
    auto child = f.tracer.start("explicit parent", sampled_parent);
    check_current(child, "start(name, parent)");
  }
  {
    st::span_options options;
    options.parent = sampled_parent;
    auto child = f.tracer.start("options", options);
    check_current(child, "start(name, options)");
  }
  {
    // A sampled current span, from a second tracer that samples everything:
    // start(name) on the first tracer continues it without recording.
    fixture g(with_sampler("always_on"));
    auto parent = g.tracer.start("sampled");
    REQUIRE(parent.context().sampled());
    auto child = f.tracer.start("current parent");
    check_current(child, "start(name)");
    fixture h(with_sampler("parentbased_always_on"));
    auto grandchild = h.tracer.start("follows");
    CHECK_FALSE(grandchild.is_recording());
  }
  CHECK(f.spans().empty());
}

TEST_CASE("the seed's sampling_rate means parent-based ratio sampling") {
  st::config cfg;
  cfg.sampling_rate = 0.0;
  fixture f(cfg);
  for (int i = 0; i < 100; ++i) { auto s = f.tracer.start("x"); }
  CHECK(f.spans().empty());
}

TEST_CASE("attributes, events and links are recorded with their types") {
  fixture f;
  const st::span_context linked(st::trace_id::from_u64(5, 6), st::span_id::from_u64(7), st::trace_flags(1));
  {
    auto span = f.tracer.start("op");
    span.set_attribute("user_id", 123)
        .set_attribute("action", "create")
        .set_attribute("ratio", 0.5)
        .set_attribute("ok", true)
        .set_attribute("tags", std::vector<std::string>{"a", "b"});
    span.set_attributes({{"user_id", 124}, {"extra", "x"}});
    span.add_event("validation-complete", {{"valid", true}});
    span.add_link(linked, {{"reason", "batch"}});
  }
  const auto s = f.only_span();
  CHECK(s.attributes.size() == 6);
  CHECK(*s.attributes.find("user_id")->get_if<std::int64_t>() == 124);  // last write wins
  CHECK(*s.attributes.find("action")->get_if<std::string>() == "create");
  CHECK(*s.attributes.find("ratio")->get_if<double>() == 0.5);
  CHECK(*s.attributes.find("ok")->get_if<bool>() == true);
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].name == "validation-complete");
  CHECK(s.events[0].time_unix_nano >= s.start_time_unix_nano);
  CHECK(s.events[0].time_unix_nano <= s.end_time_unix_nano);
  CHECK(*s.events[0].attributes.find("valid")->get_if<bool>() == true);
  REQUIRE(s.links.size() == 1);
  CHECK(s.links[0].context == linked);
  CHECK(*s.links[0].attributes.find("reason")->get_if<std::string>() == "batch");
}

TEST_CASE("links given at start are recorded") {
  fixture f;
  st::span_options opts;
  opts.links = {st::span_context(st::trace_id::from_u64(1, 1), st::span_id::from_u64(1), st::trace_flags(1)),
                st::span_context()};  // invalid links are ignored
  { auto s = f.tracer.start("batch", opts); }
  CHECK(f.only_span().links.size() == 1);
}

TEST_CASE("the tracer's calls act on the current span, like the seed's ctx calls") {
  fixture f;
  {
    auto span = f.tracer.start("op");
    f.tracer.set_attribute("user_id", 123);
    f.tracer.set_attributes({{"action", "create"}});
    f.tracer.add_event("step", {{"n", 1}});
    f.tracer.record_error(std::runtime_error("bad input"), {{"error_code", "VALIDATION_FAILED"}});
  }
  f.tracer.set_attribute("no-current-span", 1);  // nothing current: a no-op
  const auto s = f.only_span();
  CHECK(s.attributes.size() == 2);
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[1].name == "exception");
  CHECK(*s.events[1].attributes.find("error_code")->get_if<std::string>() == "VALIDATION_FAILED");
  CHECK(s.status == st::status_code::error);
}

namespace {
// Breaks std::exception's contract: what() must not return null.
struct null_what_error : std::exception {
  const char* what() const noexcept override { return nullptr; }
};
}  // namespace

TEST_CASE("record_error and instrumented operations survive an exception whose what() is null") {
  fixture f;
  { f.tracer.start("direct").record_error(null_what_error()); }
  bool rethrown = false;  // not CHECK_THROWS_AS: doctest reads what() of the exception it catches
  try {
    f.tracer.instrumented_operation("instrumented", [] { throw null_what_error(); });
  } catch (const null_what_error&) {
    rethrown = true;
  }
  CHECK(rethrown);
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  for (const auto& s : spans) {
    CAPTURE(s.name.view());
    CHECK(s.status == st::status_code::error);
    REQUIRE_FALSE(s.events.empty());
    CHECK(s.events[0].attributes.find("exception.type")->get_if<std::string>()->find("null_what_error") !=
          std::string::npos);
  }
}

TEST_CASE("record_error adds an exception event and sets status ERROR") {
  fixture f;
  {
    auto span = f.tracer.start("exception");
    span.record_error(std::invalid_argument("user id must be odd"));
  }
  {
    auto span = f.tracer.start("error_code");
    span.record_error(std::make_error_code(std::errc::connection_refused));
  }
  {
    auto span = f.tracer.start("message");
    span.record_error("timed out", {{"attempt", 3}});
  }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 3);
  const auto& e0 = spans[0].events[0];
  CHECK(e0.name == "exception");
  CHECK(*e0.attributes.find("exception.type")->get_if<std::string>() == "std::invalid_argument");
  CHECK(*e0.attributes.find("exception.message")->get_if<std::string>() == "user id must be odd");
  CHECK(spans[0].status == st::status_code::error);
  CHECK(spans[0].status_message == "user id must be odd");

  const auto& e1 = spans[1].events[0];
  CHECK(e1.attributes.find("exception.type")->get_if<std::string>()->find("generic") != std::string::npos);
  CHECK(*e1.attributes.find("exception.message")->get_if<std::string>() ==
        std::make_error_code(std::errc::connection_refused).message());
  CHECK(spans[1].status == st::status_code::error);

  CHECK(*spans[2].events[0].attributes.find("exception.message")->get_if<std::string>() == "timed out");
  CHECK(*spans[2].events[0].attributes.find("attempt")->get_if<std::int64_t>() == 3);
  CHECK(spans[2].status_message == "timed out");
  // A bare message has no type to report (the conventions want a class name there, not "error").
  CHECK(spans[2].events[0].attributes.find("exception.type") == nullptr);
  CHECK(spans[2].events[0].attributes.size() == 2);
}

TEST_CASE("record_error(message) takes the exception type given with it, through the span and the tracer") {
  fixture f;
  {
    auto span = f.tracer.start("span");
    span.record_error("card declined", {{"exception.type", "payments::declined"}});
  }
  {
    auto span = f.tracer.start("tracer");
    f.tracer.record_error("late");
  }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  CHECK(*spans[0].events[0].attributes.find("exception.type")->get_if<std::string>() == "payments::declined");
  CHECK(*spans[0].events[0].attributes.find("exception.message")->get_if<std::string>() == "card declined");
  CHECK(spans[1].events[0].attributes.find("exception.type") == nullptr);
  CHECK(*spans[1].events[0].attributes.find("exception.message")->get_if<std::string>() == "late");
}

// A look-alike of boost::system::error_code: category().name(), value(), message(), a bool test.
struct look_alike_category {
  const char* name() const noexcept { return "storage"; }
};
struct look_alike_error_code {
  int code = 28;
  look_alike_category category() const noexcept { return {}; }
  int value() const noexcept { return code; }
  std::string message() const { return "no space left on volume"; }
  explicit operator bool() const noexcept { return code != 0; }
};

TEST_CASE("record_error takes error-code look-alikes as it takes std::error_code") {
  fixture f;
  const auto condition = std::make_error_condition(std::errc::timed_out);
  {
    auto span = f.tracer.start("condition");
    span.record_error(condition, {{"attempt", 2}});
  }
  {
    auto span = f.tracer.start("look-alike");
    span.record_error(look_alike_error_code{});
  }
  {
    auto span = f.tracer.start("enum");
    span.record_error(std::io_errc::stream);  // converts to std::error_code, as before
  }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 3);
  REQUIRE(spans[0].events.size() == 1);
  REQUIRE(spans[1].events.size() == 1);
  REQUIRE(spans[2].events.size() == 1);
  const auto& e0 = spans[0].events[0];
  CHECK(*e0.attributes.find("exception.type")->get_if<std::string>() ==
        "std::error_code:generic:" + std::to_string(condition.value()));
  CHECK(*e0.attributes.find("exception.message")->get_if<std::string>() == condition.message());
  CHECK(*e0.attributes.find("attempt")->get_if<std::int64_t>() == 2);
  CHECK(spans[0].status == st::status_code::error);
  CHECK(spans[0].status_message == condition.message());
  const auto& e1 = spans[1].events[0];
  CHECK(*e1.attributes.find("exception.type")->get_if<std::string>() == "std::error_code:storage:28");
  CHECK(spans[1].status_message == "no space left on volume");
  CHECK(spans[2].events[0].attributes.find("exception.type")->get_if<std::string>()->find("iostream") !=
        std::string::npos);
}

TEST_CASE("status follows the OpenTelemetry rules") {
  fixture f;
  {
    auto span = f.tracer.start("ok-is-final");
    span.set_status(st::status_code::ok, "ignored description");
    span.set_status(st::status_code::error, "too late");
  }
  {
    auto span = f.tracer.start("unset-does-not-override");
    span.set_status(st::status_code::error, "broken");
    span.set_status(st::status_code::unset);
  }
  {
    auto span = f.tracer.start("error-then-ok");
    span.set_status(st::status_code::error, "broken");
    span.set_status(st::status_code::ok);
  }
  const auto spans = f.spans();
  CHECK(spans[0].status == st::status_code::ok);
  CHECK(spans[0].status_message.empty());
  CHECK(spans[1].status == st::status_code::error);
  CHECK(spans[1].status_message == "broken");
  CHECK(spans[2].status == st::status_code::ok);
  CHECK(spans[2].status_message.empty());
}

TEST_CASE("span limits drop and count attributes, events and links") {
  st::config cfg;
  st::span_limits limits;
  limits.attribute_count = 2;
  limits.event_count = 1;
  limits.link_count = 1;
  limits.attributes_per_event = 1;
  limits.attribute_value_length = 4;
  cfg.limits = limits;
  fixture f(cfg);
  const st::span_context a(st::trace_id::from_u64(1, 1), st::span_id::from_u64(1), st::trace_flags(1));
  {
    auto span = f.tracer.start("limited");
    span.set_attribute("a", "123456789").set_attribute("b", 2).set_attribute("c", 3);
    span.add_event("e1", {{"x", 1}, {"y", 2}}).add_event("e2");
    span.add_link(a).add_link(a);
  }
  const auto s = f.only_span();
  CHECK(s.attributes.size() == 2);
  CHECK(s.attributes.dropped() == 1);
  CHECK(*s.attributes.find("a")->get_if<std::string>() == "1234");
  CHECK(s.events.size() == 1);
  CHECK(s.dropped_events == 1);
  CHECK(s.events[0].attributes.size() == 1);
  CHECK(s.events[0].attributes.dropped() == 1);
  CHECK(s.links.size() == 1);
  CHECK(s.dropped_links == 1);
}

TEST_CASE("the value length limit bounds the status description too, in characters") {
  st::config cfg;
  st::span_limits limits;
  limits.attribute_value_length = 4;
  cfg.limits = limits;
  fixture f(cfg);
  { f.tracer.start("set").set_status(st::status_code::error, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"); }  // 5 x U+00E9
  {
    auto span = f.tracer.start("recorded");
    span.record_error("timeout after 30 s");
  }
  {
    auto span = f.tracer.start("through the tracer");
    f.tracer.set_status(st::status_code::error, "abcdef");
  }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].status_message == "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
  CHECK(spans[1].status_message == "time");
  CHECK(*spans[1].events[0].attributes.find("exception.message")->get_if<std::string>() == "time");
  CHECK(spans[2].status_message == "abcd");
}

TEST_CASE("the resource carries service, sdk and user attributes") {
  st::config cfg;
  cfg.service_name = "streambus-broker";
  cfg.service_version = "1.0.0";
  cfg.environment = "production";
  cfg.attributes = {{"cluster", "us-west-1"}, {"datacenter", "dc1"}};
  fixture f(cfg);
  { auto s = f.tracer.start("op"); }
  const auto res = f.memory->last_resource();
  const auto str = [&](const char* key) {
    const auto* v = res.attributes.find(key);
    return v && v->get_if<std::string>() ? *v->get_if<std::string>() : std::string("<missing>");
  };
  CHECK(str("service.name") == "streambus-broker");
  CHECK(str("service.version") == "1.0.0");
  CHECK(str("deployment.environment.name") == "production");
  CHECK(str("telemetry.sdk.name") == "streambus-tracing");
  CHECK(str("telemetry.sdk.language") == "cpp");
  CHECK(str("telemetry.sdk.version") == st::version_string);
  CHECK(str("cluster") == "us-west-1");
  CHECK(str("datacenter") == "dc1");
}

TEST_CASE("durations stay monotonic when the wall clock jumps") {
  fixture f;
  {
    auto span = f.tracer.start("across-a-clock-step");
    // Simulate the system clock being stepped back by 1000 s mid-span.
    st::detail::wall_offset_ns().fetch_sub(1'000'000'000'000LL);
  }
  st::detail::clock_resync();
  const auto s = f.only_span();
  CHECK(s.end_time_unix_nano >= s.start_time_unix_nano);
  CHECK(s.duration_ns() < 1'000'000'000ULL);
}

TEST_CASE("a disabled tracer is a no-op") {
  st::config cfg;
  cfg.enabled = false;
  fixture f(cfg);
  CHECK_FALSE(f.tracer.is_enabled());
  auto span = f.tracer.start("nothing");
  CHECK_FALSE(span.is_recording());
  CHECK_FALSE(span.context().valid());
  std::map<std::string, std::string> headers;
  f.tracer.inject(headers);
  CHECK(headers.empty());
  span.end();
  CHECK(f.spans().empty());
  CHECK_FALSE(st::tracer().is_enabled());
}

namespace {
// A tracer built as OTEL_SDK_DISABLED=true (and `more`) in the environment makes it.
st::tracer sdk_disabled_tracer(std::map<std::string, std::string> more = {}) {
  more["OTEL_SDK_DISABLED"] = "true";
  st::config cfg;
  cfg.exporter = "memory";
  return st::tracer::create(cfg, [more](std::string_view name) -> std::optional<std::string> {
    const auto it = more.find(std::string(name));
    return it == more.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}
constexpr const char* incoming_traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
}  // namespace

// OpenTelemetry: OTEL_SDK_DISABLED "has no effect on propagators", and the
// no-op tracer's spans carry their parent's context. A service with tracing
// switched off must not break the traces that pass through it.
TEST_CASE("a disabled tracer passes the incoming context on, recording nothing") {
  st::tracer tracer = sdk_disabled_tracer();
  REQUIRE_FALSE(tracer.is_enabled());
  const std::map<std::string, std::string> incoming{{"traceparent", incoming_traceparent},
                                                    {"tracestate", "vendor=a1,other=b2"}};
  const st::span_context parent = tracer.extract(incoming);
  REQUIRE(parent.valid());
  {
    auto server = tracer.start("GET /orders", parent, st::span_kind::server);
    CHECK_FALSE(server.is_recording());
    CHECK(server.context() == parent);
    CHECK(tracer.current_context() == parent);
    {
      auto child = tracer.start("load order");  // a child of a pass-through span: the same context
      CHECK_FALSE(child.is_recording());
      CHECK(child.context() == parent);
      std::map<std::string, std::string> outgoing;
      tracer.inject(outgoing);
      CHECK(outgoing["traceparent"] == incoming_traceparent);
      CHECK(outgoing["tracestate"] == "vendor=a1,other=b2");
      std::map<std::string, std::string> explicit_ctx;
      tracer.inject(child.context(), explicit_ctx);
      CHECK(explicit_ctx == outgoing);
    }
    std::map<std::string, std::string> message;
    { auto send = tracer.trace_produce_message("orders", 0, "k", "v", message); }
    CHECK(message["traceparent"] == incoming_traceparent);
    CHECK(tracer.current_context() == parent);  // the children did not pop it
  }
  CHECK_FALSE(tracer.current_context().valid());  // ended: popped
  std::map<std::string, std::string> after;
  tracer.inject(after);
  CHECK(after.empty());
  CHECK_FALSE(tracer.start("no parent").context().valid());  // nothing to pass on: a no-op span
  auto consumed = tracer.trace_consume_message("orders", 0, 7, incoming);
  CHECK(consumed.context() == parent);
  CHECK(tracer.current_context() == parent);
  consumed.end();
  CHECK_FALSE(tracer.current_context().valid());
  CHECK(tracer.stats().spans_started == 0);
}

TEST_CASE("a disabled tracer keeps its configured propagators and baggage") {
  st::tracer tracer = sdk_disabled_tracer({{"OTEL_PROPAGATORS", "b3multi"}});
  const std::map<std::string, std::string> incoming{{"X-B3-TraceId", "0af7651916cd43dd8448eb211c80319c"},
                                                    {"X-B3-SpanId", "b7ad6b7169203331"},
                                                    {"X-B3-Sampled", "1"},
                                                    {"traceparent", "00-11111111111111111111111111111111-2222222222222222-01"}};
  const st::span_context parent = tracer.extract(incoming);  // b3multi only: traceparent is not read
  REQUIRE(parent.valid());
  CHECK(parent.trace_id().to_hex() == "0af7651916cd43dd8448eb211c80319c");
  auto server = tracer.start("server", parent, st::span_kind::server);
  std::map<std::string, std::string> outgoing;
  tracer.inject(outgoing);
  CHECK(outgoing.count("traceparent") == 0);
  CHECK(outgoing["x-b3-spanid"] == "b7ad6b7169203331");
  CHECK(outgoing["x-b3-sampled"] == "1");

  st::tracer w3c = sdk_disabled_tracer();
  const std::map<std::string, std::string> with_baggage{{"traceparent", incoming_traceparent},
                                                        {"baggage", "tenant=acme,region=eu"}};
  const auto [ctx, bag] = w3c.extract_with_baggage(with_baggage);
  CHECK(ctx.valid());
  std::map<std::string, std::string> out;
  w3c.inject(ctx, bag, out);
  CHECK(out["traceparent"] == incoming_traceparent);
  CHECK(out["baggage"] == "tenant=acme,region=eu");
}

TEST_CASE("a default-constructed tracer passes W3C context on too") {
  st::tracer tracer;
  const std::map<std::string, std::string> incoming{{"traceparent", incoming_traceparent}};
  auto server = tracer.start("server", tracer.extract(incoming), st::span_kind::server);
  CHECK(server.context().valid());
  st::span_options options;
  options.make_current = false;
  auto detached = tracer.start("detached", options);  // the current context, passed on, not pushed
  CHECK(detached.context() == server.context());
  options.new_root = true;
  CHECK_FALSE(tracer.start("root", options).context().valid());
  std::map<std::string, std::string> outgoing;
  tracer.inject(outgoing);
  CHECK(outgoing["traceparent"] == incoming_traceparent);
}

TEST_CASE("pass-through spans leave the stack right when moved or ended out of order") {
  st::tracer tracer = sdk_disabled_tracer();
  const st::span_context parent = tracer.extract(std::map<std::string, std::string>{{"traceparent", incoming_traceparent}});
  const st::span_context other =
      tracer.extract(std::map<std::string, std::string>{{"traceparent", "00-11111111111111111111111111111111-2222222222222222-01"}});
  {
    std::vector<st::span> spans;
    spans.push_back(tracer.start("outer", parent));
    spans.push_back(tracer.start("inner", other));
    CHECK(tracer.current_context() == other);
    spans[0].end();  // the outer one first: the inner one goes with it
    CHECK_FALSE(tracer.current_context().valid());
    spans[1].end();
    CHECK_FALSE(tracer.current_context().valid());
  }
  st::span moved;
  {
    auto s = tracer.start("moved", parent);
    moved = std::move(s);
  }
  CHECK(tracer.current_context() == parent);  // the moved-from span's scope ending did not pop it
  moved = st::span();
  CHECK_FALSE(tracer.current_context().valid());
}

// Pass-through spans carry their parent's span id, so two of them (or one
// and its parent) share an id: a late end must not take another's entry.
TEST_CASE("a pass-through span ended late leaves a live pass-through span of the same parent current") {
  st::tracer off = sdk_disabled_tracer();
  fixture f;
  const auto ctx = [&](const char* traceparent) {
    return off.extract(std::map<std::string, std::string>{{"traceparent", traceparent}});
  };
  const st::span_context p = ctx(incoming_traceparent);
  const st::span_context q = ctx("00-11111111111111111111111111111111-2222222222222222-01");
  auto a = off.start("a", p);
  auto b = off.start("b", q);
  a.end();  // an enclosing span ends first: b's entry goes with it
  CHECK_FALSE(off.current_context().valid());
  auto x = f.tracer.start("x");
  auto y = off.start("y", q);  // where b was, with b's span id
  CHECK(off.current_context() == q);
  b.end();  // late: must not take y's entry
  CHECK(off.current_context() == q);
  { auto inside = f.tracer.start("inside y"); }
  y.end();
  CHECK(off.current_context().span_id() == x.context().span_id());
  x.end();
  CHECK_FALSE(off.current_context().valid());
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[0].name == "inside y");
  CHECK(spans[0].parent_span_id == q.span_id());
}

TEST_CASE("an enabled tracer's span under a disabled tracer's pass-through span continues the trace") {
  fixture f;
  st::tracer off = sdk_disabled_tracer();
  auto server = off.start("server", off.extract(std::map<std::string, std::string>{{"traceparent", incoming_traceparent}}),
                          st::span_kind::server);
  { auto work = f.tracer.start("work"); }
  server.end();
  const auto s = f.only_span();
  CHECK(s.context.trace_id().to_hex() == "0af7651916cd43dd8448eb211c80319c");
  CHECK(s.parent_span_id.to_hex() == "b7ad6b7169203331");
  CHECK(s.parent_is_remote);
}

TEST_CASE("shutdown is idempotent, stops recording and is safe from several threads") {
  fixture f;
  CHECK(f.tracer.is_enabled());
  auto open = f.tracer.start("open-at-shutdown");
  std::thread t([&] { CHECK(f.tracer.shutdown()); });
  CHECK(f.tracer.shutdown());
  t.join();
  CHECK(f.tracer.shutdown());
  CHECK_FALSE(f.tracer.is_enabled());
  open.end();  // discarded, no crash
  auto late = f.tracer.start("after-shutdown");
  CHECK_FALSE(late.is_recording());
  CHECK(f.spans().empty());
}

TEST_CASE("the memory exporter can be chosen by name") {
  st::config cfg;
  cfg.exporter = "memory";
  cfg.read_environment = false;
  auto tracer = st::tracer::create(cfg);
  REQUIRE(static_cast<bool>(tracer.memory_exporter()));
  { auto s = tracer.start("op"); }
  CHECK(tracer.memory_exporter()->size() == 1);
}

TEST_CASE("message headers round-trip across a produce -> consume hop") {
  fixture f;
  std::map<std::string, std::string> message_headers;
  st::span_context producer_ctx;
  {
    auto produce = f.tracer.start("events send", st::span_kind::producer);
    producer_ctx = produce.context();
    f.tracer.inject_trace_context(message_headers);
  }
  {
    const auto ctx = f.tracer.extract_trace_context(message_headers);
    auto consume = f.tracer.start("events process", ctx, st::span_kind::consumer);
    CHECK(consume.context().trace_id() == producer_ctx.trace_id());
  }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[1].parent_span_id == producer_ctx.span_id());
  CHECK(spans[1].parent_is_remote);
}

TEST_CASE("recycled span records are reused by later spans") {
  st::config cfg;
  cfg.exporter = "none";
  cfg.read_environment = false;
  auto tracer = st::tracer::create(cfg);
  { auto warm = tracer.start("warm-up"); warm.set_attribute("key", "value"); }
  const std::size_t cached = st::detail::thread_record_pool().cached();
  CHECK(cached >= 1);
  for (int i = 0; i < 100; ++i) {
    auto s = tracer.start("steady");
    s.set_attribute("key", "value");
  }
  CHECK(st::detail::thread_record_pool().cached() == cached);
}

TEST_CASE("a current span ended on another thread is exported once and stops being current") {
  std::vector<std::string> diagnostics;
  st::config cfg;
  cfg.on_diagnostic = [&](std::string_view m) { diagnostics.emplace_back(m); };
  fixture f(cfg);
  auto moved = f.tracer.start("moved-away");  // current on this thread
  const auto moved_id = moved.context().span_id();
  std::thread([s = std::move(moved)]() mutable { s.end(); }).join();
  REQUIRE(f.spans().size() == 1);
  CHECK(f.spans()[0].name == "moved-away");
  CHECK(diagnostics.size() == 1);
  // This thread no longer treats the ended span as current.
  CHECK_FALSE(f.tracer.current_context().valid());
  { auto next = f.tracer.start("next"); }
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[1].name == "next");
  CHECK(spans[1].parent_span_id != moved_id);
  CHECK_FALSE(spans[1].parent_span_id.valid());
}

TEST_CASE("a span ended elsewhere after its entry was dropped here is exported normally") {
  fixture f;
  auto outer = f.tracer.start("outer");
  auto inner = f.tracer.start("inner");
  outer.end();  // drops inner's entry from this thread's stack
  std::thread([s = std::move(inner)]() mutable { s.end(); }).join();
  const auto spans = f.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[1].name == "inner");
}

TEST_CASE("a thread that exits while its current span is ended elsewhere leaks nothing") {
  fixture f;
  st::span handed_over;
  std::thread([&] { handed_over = f.tracer.start("from-exiting-thread"); }).join();
  handed_over.end();  // the origin thread's stack is already gone: exported normally
  CHECK(f.spans().size() == 1);
}

TEST_CASE("the tracer injects and extracts through the configured propagators") {
  st::config cfg;
  cfg.propagators = "b3,jaeger";
  fixture f(cfg);
  std::map<std::string, std::string> headers;
  st::span_context sent;
  {
    auto span = f.tracer.start("client");
    sent = span.context();
    f.tracer.inject(headers);
  }
  CHECK(headers.count("traceparent") == 0);
  REQUIRE(headers.count("b3") == 1);
  REQUIRE(headers.count("uber-trace-id") == 1);
  CHECK(headers["b3"].find(sent.trace_id().to_hex()) == 0);
  const auto got = f.tracer.extract(headers);
  CHECK(got.trace_id() == sent.trace_id());
  CHECK(got.span_id() == sent.span_id());
  CHECK(got.sampled());
  CHECK(got.is_remote());
}

TEST_CASE("baggage travels beside the context with the default propagators") {
  fixture f;
  std::map<std::string, std::string> headers;
  auto span = f.tracer.start("op");
  const auto bag = st::baggage().set("tenant", "acme corp");
  f.tracer.inject(span.context(), bag, headers);
  CHECK(headers.count("traceparent") == 1);
  REQUIRE(headers.count("baggage") == 1);
  const auto [ctx, got] = f.tracer.extract_with_baggage(headers);
  CHECK(ctx.span_id() == span.context().span_id());
  REQUIRE(got.get("tenant").has_value());
  CHECK(*got.get("tenant") == "acme corp");
}

TEST_CASE("default diagnostics: at most 5 lines per window on stderr, the rest counted, the last count printed too") {
  std::FILE* capture = std::tmpfile();
  REQUIRE(capture != nullptr);
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(::fileno(capture), 2) >= 0);
  {
    st::detail::diagnostics diag;  // no handler: stderr, rate-limited
    for (int i = 0; i < 8; ++i) diag.report("export failed, attempt " + std::to_string(i));
  }  // the window never closed: the count comes from the destructor
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string out;
  std::rewind(capture);
  char buf[256];
  while (std::fgets(buf, sizeof buf, capture) != nullptr) out += buf;
  std::fclose(capture);
  CHECK(out.find("[streambus-tracing] export failed, attempt 4\n") != std::string::npos);
  CHECK(out.find("attempt 5") == std::string::npos);
  CHECK(out.find("[streambus-tracing] 3 similar messages suppressed\n") != std::string::npos);
}
