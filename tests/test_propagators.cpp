// B3 (single and multi-header), Jaeger (uber-trace-id, uberctx-) and the
// composite propagator driven by OTEL_PROPAGATORS names: parsing against the
// specs' examples, malformed input, inject/extract round trips, debug flags
// and the composite's extraction order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <streambus/tracing.hpp>

namespace tr = streambus::tracing;

namespace {
namespace user {
// A carrier that can be walked (its traits provide for_each_entry), so Jaeger
// baggage can be read from it.
struct walkable {
  std::vector<std::pair<std::string, std::string>> items;
};
// A carrier without for_each_entry: everything but uberctx- works.
struct opaque {
  std::vector<std::pair<std::string, std::string>> items;
};
// A carrier whose writes are traced (think of a traced logger inside a
// user adapter): each set() starts spans that stay current, so the thread's
// current-span stack grows while tracer.inject() is still writing.
struct traced_writes {
  std::vector<std::pair<std::string, std::string>> items;
  streambus::tracing::tracer* tracer = nullptr;
  std::vector<streambus::tracing::span> spans;
};
}  // namespace user

template <class C>
struct vector_traits {
  template <class F>
  static void for_each(const C& c, std::string_view key, F&& f) {
    for (const auto& kv : c.items)
      if (tr::header_name_equals(kv.first, key)) {
        const std::string copy = kv.second;  // views must not outlive the call
        f(std::string_view(copy));
      }
  }
  static void set(C& c, std::string_view key, std::string_view value) {
    for (auto& kv : c.items)
      if (tr::header_name_equals(kv.first, key)) {
        kv.second = std::string(value);
        return;
      }
    c.items.emplace_back(std::string(key), std::string(value));
  }
};
}  // namespace

namespace streambus::tracing {
template <>
struct carrier_traits<user::walkable> : vector_traits<user::walkable> {
  template <class F>
  static void for_each_entry(const user::walkable& c, F&& f) {
    for (const auto& kv : c.items) f(std::string_view(kv.first), std::string_view(kv.second));
  }
};
template <>
struct carrier_traits<user::opaque> : vector_traits<user::opaque> {};
template <>
struct carrier_traits<user::traced_writes> : vector_traits<user::traced_writes> {
  static void set(user::traced_writes& c, std::string_view key, std::string_view value) {
    for (int i = 0; i < 64; ++i) c.spans.push_back(c.tracer->start("carrier.write"));
    vector_traits<user::traced_writes>::set(c, key, value);
  }
};
}  // namespace streambus::tracing

namespace {

using headers = std::map<std::string, std::string>;

const tr::trace_id spec_tid = tr::trace_id::from_hex("80f198ee56343ba864fe8b2a57d3eff7");
const tr::span_id spec_sid = tr::span_id::from_hex("e457b5a2e4d86bd1");

tr::span_context ctx_of(std::uint64_t hi, std::uint64_t lo, std::uint64_t sid, bool sampled) {
  return tr::span_context(tr::trace_id::from_u64(hi, lo), tr::span_id::from_u64(sid),
                          tr::trace_flags(sampled ? 1 : 0));
}

// parse_* must leave its outputs untouched on failure.
void check_b3_single_rejects(std::string_view value) {
  CAPTURE(value);
  tr::span_context out = ctx_of(1, 2, 3, true);
  const tr::span_context before = out;
  bool debug = true;
  CHECK_FALSE(tr::parse_b3_single(value, out, &debug));
  CHECK(out == before);
  CHECK(debug);
}

void check_jaeger_rejects(std::string_view value) {
  CAPTURE(value);
  tr::span_context out = ctx_of(1, 2, 3, true);
  const tr::span_context before = out;
  bool debug = true;
  CHECK_FALSE(tr::parse_uber_trace_id(value, out, &debug));
  CHECK(out == before);
  CHECK(debug);
}

}  // namespace

// ============================================================ B3 single header

TEST_CASE("b3 single: the spec's example parses as a remote, sampled context") {
  tr::span_context ctx;
  bool debug = true;
  REQUIRE(tr::parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", ctx, &debug));
  CHECK(ctx.trace_id() == spec_tid);
  CHECK(ctx.span_id() == spec_sid);
  CHECK(ctx.sampled());
  CHECK(ctx.is_remote());
  CHECK_FALSE(ctx.flags().random());
  CHECK_FALSE(debug);
}

TEST_CASE("b3 single: sampling state 1, 0, d and absent (defer)") {
  tr::span_context ctx;
  bool debug = false;
  REQUIRE(tr::parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d", ctx, &debug));
  CHECK(ctx.sampled());  // debug implies sampled (OpenTelemetry MUST)
  CHECK(debug);
  REQUIRE(tr::parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0", ctx, &debug));
  CHECK_FALSE(ctx.sampled());
  CHECK_FALSE(debug);
  REQUIRE(tr::parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1", ctx, &debug));
  CHECK_FALSE(ctx.sampled());  // deferred: the receiver decides
  CHECK(ctx.valid());
  REQUIRE(tr::parse_b3_single(" 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\t", ctx));  // OWS trimmed
  CHECK(ctx.sampled());
}

TEST_CASE("b3 single: a 64-bit trace id is left-padded to 128 bits") {
  tr::span_context ctx;
  REQUIRE(tr::parse_b3_single("a3ce929d0e0e4736-00f067aa0ba902b7-1", ctx));
  CHECK(ctx.trace_id() == tr::trace_id::from_hex("0000000000000000a3ce929d0e0e4736"));
  CHECK(ctx.span_id() == tr::span_id::from_hex("00f067aa0ba902b7"));
}

TEST_CASE("b3 single: a sampling state alone (deny-only b3: 0) carries no context") {
  check_b3_single_rejects("0");
  check_b3_single_rejects("1");
  check_b3_single_rejects("d");
}

TEST_CASE("b3 single: malformed values are rejected whole") {
  const std::string tid = "80f198ee56343ba864fe8b2a57d3eff7", sid = "e457b5a2e4d86bd1";
  check_b3_single_rejects("");
  check_b3_single_rejects("-");
  check_b3_single_rejects(tid);                                            // no span id
  check_b3_single_rejects(tid + "-");                                      // empty span id
  check_b3_single_rejects(tid + "-" + sid + "-");                          // empty sampling state
  check_b3_single_rejects("80F198EE56343BA864FE8B2A57D3EFF7-" + sid);      // upper-hex
  check_b3_single_rejects(tid.substr(1) + "-" + sid);                      // 31 characters
  check_b3_single_rejects(tid + "0-" + sid);                               // 33 characters
  check_b3_single_rejects(tid.substr(0, 20) + "-" + sid);                  // neither 16 nor 32
  check_b3_single_rejects(tid + "-" + sid + "0");                          // 17-character span id
  check_b3_single_rejects(tid + "-" + sid.substr(1));                      // 15-character span id
  check_b3_single_rejects(tid + "-e457b5a2e4d86bdx");                      // not hex
  check_b3_single_rejects("00000000000000000000000000000000-" + sid);      // zero trace id
  check_b3_single_rejects("0000000000000000-" + sid);                      // zero 64-bit trace id
  check_b3_single_rejects(tid + "-0000000000000000");                      // zero span id
  check_b3_single_rejects(tid + "-" + sid + "-2");                         // unknown sampling state
  check_b3_single_rejects(tid + "-" + sid + "-true");                      // only 1/0/d here
  check_b3_single_rejects(tid + "-" + sid + "-1-05e3ac9a4f6e3b9");         // short parent
  check_b3_single_rejects(tid + "-" + sid + "-1-05e3ac9a4f6e3b9g");        // non-hex parent
  check_b3_single_rejects(tid + "-" + sid + "-1-05e3ac9a4f6e3b90-extra");  // five fields
}

TEST_CASE("b3 single: format writes 32-hex ids, the sampling state and never a parent") {
  const auto ctx = tr::span_context(spec_tid, spec_sid, tr::trace_flags(1));
  CHECK(tr::format_b3_single(ctx) == "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
  CHECK(tr::format_b3_single(ctx, true) == "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d");
  CHECK(tr::format_b3_single(tr::span_context(spec_tid, spec_sid, tr::trace_flags(0))) ==
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0");
  CHECK(tr::format_b3_single(tr::span_context()).empty());
  // The W3C random bit has no B3 meaning and does not leak.
  CHECK(tr::format_b3_single(tr::span_context(spec_tid, spec_sid, tr::trace_flags(2))).back() == '0');
}

TEST_CASE("b3 single: inject/extract round-trip keeps ids, sampled and debug") {
  for (const bool sampled : {false, true})
    for (const bool debug : {false, true}) {
      CAPTURE(sampled);
      CAPTURE(debug);
      const auto ctx = ctx_of(0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x1122334455667788ULL, sampled);
      headers h;
      tr::inject_b3(ctx, h, debug);
      REQUIRE(h.size() == 1);
      bool got_debug = !debug;
      const auto back = tr::extract_b3(h, &got_debug);
      CHECK(back.trace_id() == ctx.trace_id());
      CHECK(back.span_id() == ctx.span_id());
      CHECK(back.sampled() == (sampled || debug));
      CHECK(back.is_remote());
      CHECK(got_debug == debug);
    }
  headers h;
  tr::inject_b3(tr::span_context(), h);
  CHECK(h.empty());
}

// ============================================================ B3 multi-header

TEST_CASE("b3 multi: the spec's example headers, in any case, give the context") {
  std::multimap<std::string, std::string> h{{"X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"},
                                            {"X-B3-ParentSpanId", "05e3ac9a4f6e3b90"},
                                            {"X-B3-SpanId", "e457b5a2e4d86bd1"},
                                            {"X-B3-Sampled", "1"}};
  bool debug = true;
  const auto ctx = tr::extract_b3(h, &debug);
  CHECK(ctx.trace_id() == spec_tid);
  CHECK(ctx.span_id() == spec_sid);
  CHECK(ctx.sampled());
  CHECK(ctx.is_remote());
  CHECK_FALSE(debug);
}

TEST_CASE("b3 multi: sampled 1/0/true/false, absent, and X-B3-Flags: 1 as debug") {
  const auto with = [](std::vector<std::pair<std::string, std::string>> extra) {
    std::multimap<std::string, std::string> h{{"x-b3-traceid", "a3ce929d0e0e4736"},
                                              {"x-b3-spanid", "00f067aa0ba902b7"}};
    for (auto& kv : extra) h.emplace(kv.first, kv.second);
    return h;
  };
  bool debug = false;
  auto ctx = tr::extract_b3(with({}), &debug);
  CHECK(ctx.valid());
  CHECK(ctx.trace_id() == tr::trace_id::from_u64(0, 0xa3ce929d0e0e4736ULL));  // 64-bit id padded
  CHECK_FALSE(ctx.sampled());
  CHECK(tr::extract_b3(with({{"x-b3-sampled", "1"}})).sampled());
  CHECK(tr::extract_b3(with({{"x-b3-sampled", "true"}})).sampled());
  CHECK_FALSE(tr::extract_b3(with({{"x-b3-sampled", "0"}})).sampled());
  CHECK(tr::extract_b3(with({{"x-b3-sampled", "false"}})).valid());

  ctx = tr::extract_b3(with({{"x-b3-flags", "1"}}), &debug);
  CHECK(ctx.sampled());
  CHECK(debug);
  ctx = tr::extract_b3(with({{"x-b3-flags", "0"}, {"x-b3-sampled", "0"}}), &debug);  // other flag values ignored
  CHECK(ctx.valid());
  CHECK_FALSE(ctx.sampled());
  CHECK_FALSE(debug);
}

TEST_CASE("b3 multi: the first value of a repeated header wins") {
  std::multimap<std::string, std::string> h{{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
                                            {"x-b3-traceid", "11111111111111111111111111111111"},
                                            {"x-b3-spanid", "e457b5a2e4d86bd1"},
                                            {"x-b3-sampled", "1"},
                                            {"x-b3-sampled", "0"}};
  const auto ctx = tr::extract_b3(h);
  CHECK(ctx.trace_id() == spec_tid);
  CHECK(ctx.sampled());
}

TEST_CASE("b3 multi: malformed or missing headers give an invalid context") {
  using list = std::vector<std::pair<std::string, std::string>>;
  const list cases[] = {
      {{"x-b3-spanid", "e457b5a2e4d86bd1"}},                                             // no trace id
      {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"}},                            // no span id
      {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff"}, {"x-b3-spanid", "e457b5a2e4d86bd1"}},
      {{"x-b3-traceid", "80F198EE56343BA864FE8B2A57D3EFF7"}, {"x-b3-spanid", "e457b5a2e4d86bd1"}},
      {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"}, {"x-b3-spanid", "e457b5a2e4d86bd"}},
      {{"x-b3-traceid", "00000000000000000000000000000000"}, {"x-b3-spanid", "e457b5a2e4d86bd1"}},
      {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"}, {"x-b3-spanid", "0000000000000000"}},
      {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
       {"x-b3-spanid", "e457b5a2e4d86bd1"},
       {"x-b3-sampled", "yes"}},
      {{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
       {"x-b3-spanid", "e457b5a2e4d86bd1"},
       {"x-b3-parentspanid", "nothex0000000000"}},
  };
  for (const auto& c : cases) {
    std::multimap<std::string, std::string> h(c.begin(), c.end());
    bool debug = false;
    const auto ctx = tr::extract_b3(h, &debug);
    CHECK_FALSE(ctx.valid());
    CHECK(ctx == tr::span_context());  // nothing half-filled
  }
}

TEST_CASE("b3: the single header takes precedence; an unusable one falls back to the multi-header form") {
  headers h{{"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"},
            {"x-b3-traceid", "11111111111111111111111111111111"},
            {"x-b3-spanid", "2222222222222222"}};
  CHECK(tr::extract_b3(h).trace_id() == spec_tid);
  h["b3"] = "0";  // deny-only: no ids, the multi-header ids are used
  CHECK(tr::extract_b3(h).trace_id() == tr::trace_id::from_hex("11111111111111111111111111111111"));
  h["b3"] = "garbage";
  CHECK(tr::extract_b3(h).span_id() == tr::span_id::from_hex("2222222222222222"));
}

TEST_CASE("b3 multi: inject writes lowercase names, no parent, and debug as flags without sampled") {
  const auto ctx = tr::span_context(spec_tid, spec_sid, tr::trace_flags(1));
  headers h{{"x-b3-parentspanid", "05e3ac9a4f6e3b90"}, {"X-B3-Flags", "1"}};  // stale, from a reused carrier
  tr::inject_b3_multi(ctx, h);
  CHECK(h == headers{{"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
                     {"x-b3-spanid", "e457b5a2e4d86bd1"},
                     {"x-b3-sampled", "1"}});
  bool debug = false;
  tr::inject_b3_multi(ctx, h, /*debug=*/true);
  CHECK(h.count("x-b3-sampled") == 0);
  CHECK(h.at("x-b3-flags") == "1");
  const auto back = tr::extract_b3(h, &debug);
  CHECK(back.trace_id() == spec_tid);
  CHECK(back.sampled());
  CHECK(debug);

  headers unsampled;
  tr::inject_b3_multi(tr::span_context(spec_tid, spec_sid, tr::trace_flags(0)), unsampled);
  CHECK(unsampled.at("x-b3-sampled") == "0");
  CHECK_FALSE(tr::extract_b3(unsampled).sampled());
  headers none;
  tr::inject_b3_multi(tr::span_context(), none);
  CHECK(none.empty());
}

// ============================================================ Jaeger

TEST_CASE("jaeger: a full uber-trace-id parses; the deprecated parent is ignored") {
  tr::span_context ctx;
  bool debug = true;
  REQUIRE(tr::parse_uber_trace_id("80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:05e3ac9a4f6e3b90:1", ctx, &debug));
  CHECK(ctx.trace_id() == spec_tid);
  CHECK(ctx.span_id() == spec_sid);
  CHECK(ctx.sampled());
  CHECK(ctx.is_remote());
  CHECK_FALSE(debug);
}

TEST_CASE("jaeger: shorter ids are left-padded with zeros, hex of either case is read") {
  tr::span_context ctx;
  REQUIRE(tr::parse_uber_trace_id("a3ce929d0e0e4736:00f067aa0ba902b7:0:01", ctx));
  CHECK(ctx.trace_id() == tr::trace_id::from_u64(0, 0xa3ce929d0e0e4736ULL));
  REQUIRE(tr::parse_uber_trace_id("abc:1:0:1", ctx));  // "Receivers MUST accept hex-strings shorter than..."
  CHECK(ctx.trace_id() == tr::trace_id::from_u64(0, 0xabc));
  CHECK(ctx.span_id() == tr::span_id::from_u64(1));
  REQUIRE(tr::parse_uber_trace_id("ABCDEF:FF:0:1", ctx));
  CHECK(ctx.trace_id() == tr::trace_id::from_u64(0, 0xabcdef));
  CHECK(ctx.span_id() == tr::span_id::from_u64(0xff));
  REQUIRE(tr::parse_uber_trace_id("1000000000000000000000000000000f:8000000000000000:0:1", ctx));
  CHECK(ctx.trace_id() == tr::trace_id::from_u64(0x1000000000000000ULL, 0xfULL));
}

TEST_CASE("jaeger: flags are one or two hex digits, 1 sampled, 2 debug (implies sampled)") {
  struct {
    const char* flags;
    bool sampled, debug;
  } const cases[] = {{"0", false, false}, {"00", false, false}, {"1", true, false}, {"01", true, false},
                     {"2", true, true},   {"03", true, true},   {"3", true, true},  {"08", false, false},
                     {"09", true, false}, {"ff", true, true},   {"FF", true, true}};
  for (const auto& c : cases) {
    CAPTURE(c.flags);
    tr::span_context ctx;
    bool debug = !c.debug;
    REQUIRE(tr::parse_uber_trace_id(std::string("80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:") + c.flags,
                                    ctx, &debug));
    CHECK(ctx.sampled() == c.sampled);
    CHECK(debug == c.debug);
    CHECK_FALSE(ctx.flags().random());
  }
}

TEST_CASE("jaeger: URL-encoded colons are accepted") {
  tr::span_context ctx;
  REQUIRE(tr::parse_uber_trace_id("80f198ee56343ba864fe8b2a57d3eff7%3Ae457b5a2e4d86bd1%3a0%3A1", ctx));
  CHECK(ctx.trace_id() == spec_tid);
  CHECK(ctx.span_id() == spec_sid);
  CHECK(ctx.sampled());
}

TEST_CASE("jaeger: malformed uber-trace-id values are rejected whole") {
  const std::string tid = "80f198ee56343ba864fe8b2a57d3eff7", sid = "e457b5a2e4d86bd1";
  check_jaeger_rejects("");
  check_jaeger_rejects(":::");
  check_jaeger_rejects(tid + ":" + sid + ":0");              // three fields
  check_jaeger_rejects(tid + ":" + sid + ":0:1:2");          // five fields
  check_jaeger_rejects(":" + sid + ":0:1");                  // empty trace id
  check_jaeger_rejects(tid + "::0:1");                       // empty span id
  check_jaeger_rejects(tid + ":" + sid + "::1");             // empty parent
  check_jaeger_rejects(tid + ":" + sid + ":0:");             // empty flags
  check_jaeger_rejects(tid + "0:" + sid + ":0:1");           // 33-digit trace id
  check_jaeger_rejects(tid + ":" + sid + "0:0:1");           // 17-digit span id
  check_jaeger_rejects(tid + ":" + sid + ":" + sid + "0:1");  // 17-digit parent
  check_jaeger_rejects("0:" + sid + ":0:1");                 // zero trace id
  check_jaeger_rejects(tid + ":0000:0:1");                   // zero span id
  check_jaeger_rejects(tid + ":" + sid + ":0:100");          // three-digit flags
  check_jaeger_rejects(tid + ":" + sid + ":0:g");            // non-hex flags
  check_jaeger_rejects("xyz:" + sid + ":0:1");               // non-hex trace id
  check_jaeger_rejects(tid + ":" + sid + ":0:0x1");          // no 0x prefix
  check_jaeger_rejects(tid + "%3B" + sid + ":0:1");          // only %3A stands for ':'
  check_jaeger_rejects(tid + "-" + sid + "-0-1");            // wrong separator
}

TEST_CASE("jaeger: format and inject write 32/16 hex, parent 0 and flags 00/01/03") {
  const auto ctx = tr::span_context(spec_tid, spec_sid, tr::trace_flags(1));
  CHECK(tr::format_uber_trace_id(ctx) == "80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:01");
  CHECK(tr::format_uber_trace_id(ctx, true) == "80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:03");
  CHECK(tr::format_uber_trace_id(tr::span_context(spec_tid, spec_sid, tr::trace_flags(2))) ==
        "80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:00");  // W3C random is not Jaeger debug
  CHECK(tr::format_uber_trace_id(tr::span_context()).empty());

  for (const bool debug : {false, true}) {
    headers h;
    tr::inject_jaeger(ctx, h, debug);
    bool got = !debug;
    const auto back = tr::extract_jaeger(h, &got);
    CHECK(back.trace_id() == spec_tid);
    CHECK(back.span_id() == spec_sid);
    CHECK(back.sampled());
    CHECK(back.is_remote());
    CHECK(got == debug);
  }
  headers none;
  tr::inject_jaeger(tr::span_context(), none);
  CHECK(none.empty());
  CHECK_FALSE(tr::extract_jaeger(none).valid());
}

TEST_CASE("jaeger baggage: uberctx- headers carry URL-encoded values both ways") {
  const auto bag = tr::baggage().set("key1", "value 1 / blah").set("user", "alice");
  headers h;
  tr::inject_jaeger_baggage(bag, h);
  CHECK(h.at("uberctx-key1") == "value%201%20%2F%20blah");  // the Jaeger documentation's example
  CHECK(h.at("uberctx-user") == "alice");
  CHECK(tr::extract_jaeger_baggage(h) == bag);
}

TEST_CASE("jaeger baggage: the prefix matches in any case; bad entries are skipped") {
  std::multimap<std::string, std::string> h{{"UberCtx-Tenant", "acme"},
                                            {"uberctx-", "no key"},
                                            {"uberctx-bad", "%zz"},
                                            {"uberctx-space key", "x"},
                                            {"uberctxnodash", "x"},
                                            {"uber-trace-id", "1:2:0:1"}};
  const auto bag = tr::extract_jaeger_baggage(h);
  REQUIRE(bag.size() == 1);
  CHECK(bag.entries()[0].key == "Tenant");
  CHECK(bag.entries()[0].value == "acme");
}

TEST_CASE("jaeger baggage: user carriers take part through for_each_entry, others give nothing") {
  user::walkable w{{{"uberctx-k", "v%21"}}};
  CHECK(tr::extract_jaeger_baggage(w).get("k") == std::optional<std::string_view>("v!"));
  user::opaque o{{{"uberctx-k", "v"}}};
  CHECK(tr::extract_jaeger_baggage(o).empty());
  // ...but the trace context still travels through it.
  tr::inject_jaeger(tr::span_context(spec_tid, spec_sid, tr::trace_flags(1)), o);
  CHECK(tr::extract_jaeger(o).span_id() == spec_sid);
}

TEST_CASE("jaeger baggage: at most baggage::max_members entries are read") {
  headers h;
  for (int i = 0; i < 100; ++i) h["uberctx-k" + std::to_string(1000 + i)] = "v";
  CHECK(tr::extract_jaeger_baggage(h).size() == tr::baggage::max_members);
}

// ============================================================ composite

TEST_CASE("parse_propagators maps OTEL_PROPAGATORS names, in order, without duplicates") {
  using K = tr::propagator_kind;
  CHECK(tr::parse_propagators({"tracecontext", "baggage"}) == tr::default_propagators());
  CHECK(tr::default_propagators() == std::vector<K>{K::tracecontext, K::baggage});
  CHECK(tr::parse_propagators({"b3multi", " Jaeger ", "b3", "b3multi"}) ==
        std::vector<K>{K::b3multi, K::jaeger, K::b3});
  CHECK(tr::parse_propagators({"none"}).empty());
  // Beside other names "none" is ignored, as OTEL_PROPAGATORS=tracecontext,none is (with a warning).
  CHECK(tr::parse_propagators({"tracecontext", "none"}) == std::vector<K>{K::tracecontext});
  CHECK(tr::parse_propagator_list("b3,none") == std::vector<K>{K::b3});
  CHECK(tr::parse_propagators({}).empty());

  std::vector<std::string> unknown;
  CHECK(tr::parse_propagators({"xray", "", "tracecontext", "ottrace", "w3c"}, &unknown) ==
        std::vector<K>{K::tracecontext});
  CHECK(unknown == std::vector<std::string>{"xray", "ottrace", "w3c"});

  CHECK(tr::parse_propagator_list("tracecontext, baggage,b3") ==
        std::vector<K>{K::tracecontext, K::baggage, K::b3});
  CHECK(tr::parse_propagator_list("none").empty());
  CHECK(tr::parse_propagator_list("").empty());
  for (const K k : {K::tracecontext, K::baggage, K::b3, K::b3multi, K::jaeger})
    CHECK(tr::parse_propagator_list(tr::to_string(k)) == std::vector<K>{k});
}

TEST_CASE("composite: every propagator round-trips its context, remote, through inject_all/extract_all") {
  using K = tr::propagator_kind;
  const auto ctx = ctx_of(0x0af7651916cd43ddULL, 0x8448eb211c80319cULL, 0xb7ad6b7169203331ULL, true);
  for (const K k : {K::tracecontext, K::b3, K::b3multi, K::jaeger}) {
    CAPTURE(tr::to_string(k));
    headers h;
    tr::inject_all({k}, ctx, tr::baggage(), h);
    CHECK_FALSE(h.empty());
    const auto [got, bag] = tr::extract_all({k}, h);
    CHECK(got.trace_id() == ctx.trace_id());
    CHECK(got.span_id() == ctx.span_id());
    CHECK(got.sampled());
    CHECK(got.is_remote());
    CHECK(bag.empty());
  }
}

TEST_CASE("composite: the debug flag travels through b3, b3multi and jaeger, not tracecontext") {
  using K = tr::propagator_kind;
  const auto ctx = ctx_of(1, 2, 3, true);
  for (const K k : {K::b3, K::b3multi, K::jaeger, K::tracecontext}) {
    CAPTURE(tr::to_string(k));
    headers h;
    tr::inject_all({k}, ctx, tr::baggage(), h, /*debug=*/true);
    bool debug = false;
    const auto got = tr::extract_all({k}, h, &debug).first;
    CHECK(got.valid());
    CHECK(debug == (k != K::tracecontext));
  }
}

// The OpenTelemetry B3 spec: propagators "MUST preserve a debug trace flag,
// if received, and propagate it with subsequent requests". The tracer once
// dropped it: a child of a `d` request sent `1`.
TEST_CASE("tracer: a B3 or Jaeger debug flag received is sent on by children, disabled tracers, and not in traceparent") {
  const std::string tid = "80f198ee56343ba864fe8b2a57d3eff7";
  struct format {
    const char* propagators;
    const char* header;
    std::string incoming;
    std::string debug_suffix;  // how the sent value ends when it carries debug
  };
  const format formats[] = {
      {"b3", "b3", tid + "-e457b5a2e4d86bd1-d", "-d"},
      {"jaeger", "uber-trace-id", tid + ":e457b5a2e4d86bd1:0:3", ":03"},
  };
  for (const format& f : formats) {
    CAPTURE(f.propagators);
    for (const bool enabled : {true, false}) {
      CAPTURE(enabled);
      tr::config cfg;
      cfg.read_environment = false;
      cfg.exporter = "none";
      cfg.enabled = enabled;
      cfg.propagators = std::string(f.propagators) + ",tracecontext";
      auto tracer = tr::tracer::create(cfg);
      const std::map<std::string, std::string> incoming{{f.header, f.incoming}};
      const tr::span_context remote = tracer.extract(incoming);
      REQUIRE(remote.valid());
      CHECK(remote.flags().debug());
      CHECK(remote.sampled());  // debug implies sampled
      auto server = tracer.start("server", remote);
      auto child = tracer.start("child");
      std::map<std::string, std::string> outgoing;
      tracer.inject(outgoing);
      const std::string sent = outgoing[f.header];
      CAPTURE(sent);
      CHECK(sent.size() > f.debug_suffix.size());
      CHECK(sent.compare(sent.size() - f.debug_suffix.size(), f.debug_suffix.size(), f.debug_suffix) == 0);
      CHECK(sent.compare(0, tid.size(), tid) == 0);
      // traceparent has no debug flag: its flags byte stays W3C's.
      const std::string traceparent = outgoing["traceparent"];
      REQUIRE(traceparent.size() == 55);
      CHECK(traceparent.substr(53) == "01");
    }
  }
  // A request without debug does not get one.
  tr::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.propagators = "b3";
  auto tracer = tr::tracer::create(cfg);
  auto server = tracer.start("server", tracer.extract(std::map<std::string, std::string>{{"b3", tid + "-e457b5a2e4d86bd1-1"}}));
  std::map<std::string, std::string> outgoing;
  tracer.inject(outgoing);
  CHECK(outgoing["b3"].substr(outgoing["b3"].size() - 2) == "-1");
}

TEST_CASE("composite extract: each valid context replaces the earlier ones, so the last listed wins") {
  using K = tr::propagator_kind;
  headers h;
  tr::inject(ctx_of(0, 0x1111, 0x1, true), h);           // traceparent
  tr::inject_b3(ctx_of(0, 0x2222, 0x2, false), h);       // b3
  tr::inject_jaeger(ctx_of(0, 0x3333, 0x3, true), h);    // uber-trace-id
  CHECK(tr::extract_all({K::tracecontext, K::b3}, h).first.span_id() == tr::span_id::from_u64(2));
  CHECK(tr::extract_all({K::b3, K::tracecontext}, h).first.span_id() == tr::span_id::from_u64(1));
  CHECK(tr::extract_all({K::b3, K::tracecontext, K::jaeger}, h).first.span_id() == tr::span_id::from_u64(3));

  // A propagator that finds nothing valid keeps what an earlier one found.
  h["uber-trace-id"] = "garbage";
  bool debug = true;
  const auto kept = tr::extract_all({K::b3, K::jaeger}, h, &debug).first;
  CHECK(kept.span_id() == tr::span_id::from_u64(2));
  CHECK_FALSE(kept.sampled());
  CHECK_FALSE(debug);
  CHECK(tr::extract_all({K::b3, K::jaeger}, h).first.is_remote());

  // The context-only variant (tracer::extract) picks the same winner and debug flag.
  h["baggage"] = "k=v";
  // (W3C with or without baggage, the default, takes a shorter path: the same answer.)
  const std::vector<std::vector<K>> lists{{K::tracecontext, K::b3},  {K::b3, K::tracecontext, K::baggage},
                                          {K::baggage, K::jaeger, K::b3multi}, {K::baggage},
                                          {},
                                          {K::tracecontext, K::baggage},   {K::baggage, K::tracecontext},
                                          {K::tracecontext}};
  for (const auto& kinds : lists) {
    bool d1 = true, d2 = false;
    const auto full = tr::extract_all(kinds, h, &d1);
    CHECK(tr::extract_context_all(kinds, h, &d2) == full.first);
    CHECK(d1 == d2);
  }
  headers broken = h;
  broken["traceparent"] = "00-not-a-trace-parent";
  for (const auto& kinds : lists) {
    const auto full = tr::extract_all(kinds, broken);
    CHECK(tr::extract_context_all(kinds, broken) == full.first);
  }
}

TEST_CASE("composite: baggage comes from the baggage header and uberctx-, merged in list order") {
  using K = tr::propagator_kind;
  headers h{{"baggage", "user=alice;p=1,shared=from-w3c"},
            {"uberctx-shared", "from-jaeger"},
            {"uberctx-tenant", "acme"},
            {"uberctx-user", "alice"}};
  auto bag = tr::extract_all({K::baggage, K::jaeger}, h).second;
  CHECK(bag.get("shared") == std::optional<std::string_view>("from-jaeger"));
  CHECK(bag.get("tenant") == std::optional<std::string_view>("acme"));
  CHECK(bag.find("user")->properties == "p=1");  // the same value again keeps the properties
  bag = tr::extract_all({K::jaeger, K::baggage}, h).second;
  CHECK(bag.get("shared") == std::optional<std::string_view>("from-w3c"));
  CHECK(tr::extract_all({K::tracecontext, K::b3}, h).second.empty());  // no baggage propagator listed
  CHECK_FALSE(tr::extract_all({K::baggage, K::jaeger}, h).first.valid());
}

TEST_CASE("composite inject: every listed propagator writes its headers, none when the list is empty") {
  using K = tr::propagator_kind;
  const auto ctx = tr::span_context(spec_tid, spec_sid, tr::trace_flags(1));
  const auto bag = tr::baggage().set("k", "v w");
  headers h;
  tr::inject_all({K::tracecontext, K::baggage, K::b3, K::b3multi, K::jaeger}, ctx, bag, h);
  CHECK(h == headers{{"traceparent", "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01"},
                     {"baggage", "k=v%20w"},
                     {"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"},
                     {"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
                     {"x-b3-spanid", "e457b5a2e4d86bd1"},
                     {"x-b3-sampled", "1"},
                     {"uber-trace-id", "80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:01"},
                     {"uberctx-k", "v%20w"}});
  headers none;
  tr::inject_all({}, ctx, bag, none);
  CHECK(none.empty());
  // An invalid context writes no trace headers, baggage still goes.
  headers only_baggage;
  tr::inject_all({K::tracecontext, K::baggage, K::b3, K::jaeger}, tr::span_context(), bag, only_baggage);
  CHECK(only_baggage == headers{{"baggage", "k=v%20w"}, {"uberctx-k", "v%20w"}});
}

TEST_CASE("propagator parsers survive arbitrary bytes and never return a half-valid context") {
  std::uint32_t seed = 99;
  const auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 16;
  };
  const char alphabet[] = "0123456789abcdefABCDEF-:%3d \txz";
  for (int round = 0; round < 5000; ++round) {
    std::string value;
    const std::size_t len = next() % 72;
    for (std::size_t i = 0; i < len; ++i) value.push_back(alphabet[next() % (sizeof alphabet - 1)]);
    tr::span_context ctx;
    if (tr::parse_b3_single(value, ctx)) {
      CHECK(ctx.valid());
      CHECK(ctx.is_remote());
    }
    if (tr::parse_uber_trace_id(value, ctx)) {
      CHECK(ctx.valid());
      CHECK(ctx.is_remote());
    }
    headers h{{"b3", value}, {"uber-trace-id", value}, {"x-b3-traceid", value}, {"x-b3-spanid", value}};
    const auto got = tr::extract_all({tr::propagator_kind::b3, tr::propagator_kind::jaeger}, h).first;
    CHECK((got.valid() || got == tr::span_context()));
  }
}

namespace {
// inject_all's one-walk shortcut must leave a standard container exactly as
// the listed propagators do one after the other.
template <class Carrier>
void check_inject_all_matches_sequence(const std::vector<tr::propagator_kind>& kinds, const tr::span_context& ctx,
                                       const tr::baggage& bag, const Carrier& start) {
  Carrier shortcut = start;
  tr::inject_all(kinds, ctx, bag, shortcut);
  Carrier sequence = start;
  for (const tr::propagator_kind k : kinds) {
    if (k == tr::propagator_kind::tracecontext) tr::inject(ctx, sequence);
    if (k == tr::propagator_kind::baggage) tr::inject_baggage(bag, sequence);
    if (k != tr::propagator_kind::tracecontext && k != tr::propagator_kind::baggage)
      tr::inject_all({k}, ctx, bag, sequence);
  }
  // Compare as ordered lists of entries (a multimap keeps insertion order per key).
  std::vector<std::pair<std::string, std::string>> a(shortcut.begin(), shortcut.end());
  std::vector<std::pair<std::string, std::string>> b(sequence.begin(), sequence.end());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  CHECK(a == b);
}
}  // namespace

TEST_CASE("composite inject: the one-walk path for the default lists equals the propagators in sequence") {
  using K = tr::propagator_kind;
  const auto plain = tr::span_context(spec_tid, spec_sid, tr::trace_flags(1));
  tr::trace_state state;
  REQUIRE(tr::trace_state::parse("vendor=1", state));
  tr::span_context with_state = plain;
  with_state.set_trace_state(state);
  const tr::span_context invalid;
  const auto bag = tr::baggage().set("k", "v");
  const std::vector<std::vector<K>> lists = {{K::tracecontext, K::baggage}, {K::baggage, K::tracecontext},
                                             {K::tracecontext},             {K::baggage},
                                             {K::tracecontext, K::b3},      {K::tracecontext, K::tracecontext},
                                             {}};
  const std::map<std::string, std::string> stale = {{"TraceParent", "old"}, {"traceparent", "old"},
                                                    {"TRACESTATE", "a=b"}, {"Baggage", "x=y"},
                                                    {"baggage", "z=w"},    {"x-other", "kept"}};
  const std::multimap<std::string, std::string> stale_multi(stale.begin(), stale.end());
  const std::unordered_map<std::string, std::string> stale_unordered(stale.begin(), stale.end());
  for (const auto& kinds : lists) {
    for (const tr::span_context& ctx : std::vector<tr::span_context>{plain, with_state, invalid}) {
      for (const tr::baggage& use : std::vector<tr::baggage>{bag, tr::baggage()}) {
        check_inject_all_matches_sequence(kinds, ctx, use, stale);
        check_inject_all_matches_sequence(kinds, ctx, use, stale_multi);
        check_inject_all_matches_sequence(kinds, ctx, use, stale_unordered);
        check_inject_all_matches_sequence(kinds, ctx, use, std::map<std::string, std::string>{});
      }
    }
  }
}

TEST_CASE("tracer inject/extract with its precomputed shortcuts equal inject_all/extract_all over its propagators") {
  using K = tr::propagator_kind;
  const std::vector<std::pair<const char*, std::vector<K>>> lists = {
      {"tracecontext,baggage", {K::tracecontext, K::baggage}}, {"baggage,tracecontext", {K::baggage, K::tracecontext}},
      {"tracecontext", {K::tracecontext}},                      {"baggage", {K::baggage}},
      {"b3", {K::b3}},                                          {"tracecontext,b3multi", {K::tracecontext, K::b3multi}},
      {"jaeger,baggage", {K::jaeger, K::baggage}},              {"none", {}}};
  const std::map<std::string, std::string> stale = {{"TraceParent", "old"}, {"tracestate", "a=b"},
                                                    {"Baggage", "x=y"},     {"x-other", "kept"}};
  for (const auto& list : lists) {
    const char* const names = list.first;  // not a structured binding: clang 14 cannot capture those
    const std::vector<K>& kinds = list.second;
    CAPTURE(names);
    tr::config cfg;
    cfg.read_environment = false;
    cfg.exporter = "none";
    cfg.propagators = names;
    auto tracer = tr::tracer::create(cfg);
    REQUIRE(tracer.is_enabled());
    auto span = tracer.start("op");
    std::map<std::string, std::string> through_tracer = stale, through_function = stale;
    tracer.inject(through_tracer);
    tr::inject_all(kinds, span.context(), tr::baggage(), through_function);
    // The same, except that the context-only inject leaves the baggage header
    // alone, where inject_all with empty baggage removes it.
    through_function["Baggage"] = "x=y";
    CHECK(through_tracer == through_function);
    // extract: the tracer's answer is extract_all's context, for what each list wrote and for foreign headers
    for (const auto& carrier : {through_tracer, stale,
                                std::map<std::string, std::string>{
                                    {"traceparent", "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01"},
                                    {"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"}}}) {
      CHECK(tracer.extract(carrier) == tr::extract_all(kinds, carrier).first);
    }
  }
}

TEST_CASE("tracer.inject into a carrier whose writes start spans still sends the context current at the call") {
  tr::config cfg;
  cfg.read_environment = false;
  cfg.exporter = "none";
  cfg.propagators = "tracecontext,b3";  // b3 reads the context after traceparent was written
  auto tracer = tr::tracer::create(cfg);
  auto outer = tracer.start("outer");
  const std::string trace = outer.context().trace_id().to_hex(), span = outer.context().span_id().to_hex();
  user::traced_writes carrier;
  carrier.tracer = &tracer;
  tracer.inject(carrier);
  headers expected;
  tr::inject(outer.context(), expected);
  REQUIRE(carrier.items.size() == 2);
  CHECK(carrier.items[0].second == expected.at("traceparent"));
  CHECK(carrier.items[1].second == trace + "-" + span + "-1");
  while (!carrier.spans.empty()) carrier.spans.pop_back();  // innermost first
}

TEST_CASE("tracer.inject of a context leaves the carrier's baggage alone; inject with baggage writes exactly it") {
  for (const char* names : {"tracecontext,baggage", "tracecontext,baggage,jaeger", "b3multi,baggage"}) {
    CAPTURE(names);
    tr::config cfg;
    cfg.read_environment = false;
    cfg.exporter = "none";
    cfg.propagators = names;
    auto tracer = tr::tracer::create(cfg);
    auto span = tracer.start("op");
    // Baggage the caller put in for this request (OpenTelemetry's propagators
    // write nothing for empty baggage, and erase nothing either).
    std::map<std::string, std::string> headers{{"baggage", "tenant=acme"}, {"uberctx-user", "al"}};
    tracer.inject(headers);
    CHECK(headers["baggage"] == "tenant=acme");
    CHECK(headers["uberctx-user"] == "al");
    tracer.inject(span.context(), headers);
    CHECK(headers["baggage"] == "tenant=acme");
    CHECK(headers.size() >= 3);  // and the trace headers
    // With baggage given, the baggage header is exactly it.
    tracer.inject(span.context(), tr::baggage().set("hop", "a"), headers);
    CHECK(headers["baggage"] == "hop=a");
    tracer.inject(span.context(), tr::baggage(), headers);
    CHECK(headers.count("baggage") == 0);
  }
}
