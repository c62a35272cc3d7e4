// A test service for the W3C Trace Context test suite
// (github.com/w3c/trace-context, test/): it runs the harness's instructions
// as a participant that propagates the incoming trace context.
//
//   example_trace_context_service [--host ADDRESS] PORT
//       serves POST /test on ADDRESS (default 127.0.0.1) : PORT; then, e.g.
//       python test.py http://127.0.0.1:PORT/test
//   example_trace_context_service --self-test
//       checks itself against a small receiver on 127.0.0.1 and exits
//
// POST /test carries a JSON array of {"url": ..., "arguments": [...]}. For
// each element, in order, the service sends an HTTP POST to `url` with
// `arguments` (as JSON) as the body, then answers 200.
//
// What the outgoing requests carry is the library's W3C Trace Context
// (levels 1 and 2): the incoming request's SERVER span continues a valid
// incoming traceparent (same trace id, its own new span id) and each
// outgoing request has a CLIENT span of its own, whose id becomes the new
// parent-id. The sampled flag follows the caller (parent-based sampling)
// and the level 2 random flag is passed on as received; tracestate is
// carried as received. An invalid or missing traceparent starts a new trace
// (random flag set) and drops the incoming tracestate.
#include "../common/mini_json.hpp"

#include <streambus/tracing.hpp>
#include <streambus/tracing/http.hpp>
#include <streambus/tracing/otlp_http_exporter.hpp>  // so OTEL_TRACES_EXPORTER=otlp works

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tracing = streambus::tracing;
namespace sth = streambus::tracing::http;
using example_json::value;

namespace {

// ------------------------------------------------------------------ the service

/// "http://host:port/path" -> the client's "scheme://host:port" and the path.
bool split_url(const std::string& url, std::string& origin, std::string& path) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const std::size_t slash = url.find('/', scheme + 3);
  origin = url.substr(0, slash);
  path = slash == std::string::npos ? "/" : url.substr(slash);
  return origin.size() > scheme + 3;
}

void handle_test(tracing::tracer& tracer, const httplib::Request& req, httplib::Response& res) {
  value steps;
  if (!example_json::parse(req.body, steps) || !steps.is_array()) {
    res.status = 400;
    res.set_content("expected a JSON array of {\"url\": ..., \"arguments\": [...]}\n", "text/plain");
    return;
  }
  value results = value::make_array();
  for (const value& step : steps.items) {
    std::string origin, path;
    if (!step["url"].is_string() || !split_url(step["url"].text, origin, path)) {
      results.items.push_back(value::make_string("skipped: no usable url"));
      continue;
    }
    httplib::Client client(origin);
    client.set_connection_timeout(3, 0);
    client.set_read_timeout(10, 0);  // the element may be another /test that calls on in turn
    const value& arguments = step.find("arguments") != nullptr ? step["arguments"] : value::make_array();
    // A CLIENT span, child of this request's SERVER span: a new parent-id for the callee.
    const auto result = sth::post(tracer, client, path, example_json::to_string(arguments), "application/json");
    results.items.push_back(result ? value::make_number(result->status)
                                   : value::make_string(httplib::to_string(result.error())));
  }
  res.set_content(example_json::to_string(results), "application/json");
}

tracing::tracer make_tracer() {
  tracing::config cfg;
  cfg.service_name = "trace-context-service";
  // Export nothing unless asked (OTEL_TRACES_EXPORTER): the harness only looks at headers.
  if (std::getenv("OTEL_TRACES_EXPORTER") == nullptr) cfg.exporter = "none";
  return tracing::tracer::create(cfg);
}

void install(tracing::tracer& tracer, httplib::Server& server) {
  server.Post("/test", sth::traced(tracer, "/test", [&tracer](const httplib::Request& req, httplib::Response& res) {
                handle_test(tracer, req, res);
              }));
  server.set_keep_alive_timeout(1);
}

// A server on its own thread, stopped on destruction.
class running_server {
 public:
  explicit running_server(httplib::Server& s) : server_(s) {}
  running_server(const running_server&) = delete;
  running_server& operator=(const running_server&) = delete;
  ~running_server() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  int start() {
    const int port = server_.bind_to_any_port("127.0.0.1");
    if (port <= 0) return -1;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return server_.is_running() ? port : -1;
  }

 private:
  httplib::Server& server_;
  std::thread thread_;
};

// ------------------------------------------------------------------ self-test
//
// The cases of the W3C suite's test.py at its default STRICT_LEVEL 2, driven
// the way its harness drives a service: POST /test with the case's headers
// and callbacks to a receiver, then checks on the headers the callbacks
// carried. Plus the level 2 flags, a nested /test and a bad body.

struct callback {
  std::vector<std::string> traceparents;  // every traceparent header received
  std::vector<std::string> tracestates;   // every tracestate header received
  std::string body;
};

// Records the callbacks, by the id in their path.
class receiver {
 public:
  explicit receiver(httplib::Server& server) {
    server.Post(R"(/callback/(\w+))", [this](const httplib::Request& req, httplib::Response&) {
      callback cb;
      for (std::size_t i = 0; i < req.get_header_value_count("traceparent"); ++i)
        cb.traceparents.push_back(req.get_header_value("traceparent", i));
      for (std::size_t i = 0; i < req.get_header_value_count("tracestate"); ++i)
        cb.tracestates.push_back(req.get_header_value("tracestate", i));
      cb.body = req.body;
      std::lock_guard<std::mutex> lock(mutex_);
      got_[req.matches[1]] = std::move(cb);
      order_.push_back(req.matches[1]);
    });
  }
  /// The callbacks with these ids (empty ones for missing), and the order all arrived in.
  std::vector<callback> take(const std::vector<std::string>& ids, std::vector<std::string>& order) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<callback> out;
    for (const auto& id : ids) out.push_back(got_.count(id) != 0 ? got_[id] : callback());
    order = std::move(order_);
    order_.clear();
    got_.clear();
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, callback> got_;
  std::vector<std::string> order_;
};

struct traceparent {
  std::string version, trace_id, parent_id, flags;
};

// A version-00 traceparent, strictly (what a participant must send); false when malformed.
bool parse_traceparent(const std::string& text, traceparent& out) {
  const auto hex = [](const std::string& s) {
    for (char c : s)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return !s.empty();
  };
  if (text.size() != 55 || text[2] != '-' || text[35] != '-' || text[52] != '-') return false;
  out = {text.substr(0, 2), text.substr(3, 32), text.substr(36, 16), text.substr(53, 2)};
  return out.version == "00" && hex(out.trace_id) && hex(out.parent_id) && hex(out.flags) &&
         out.trace_id != std::string(32, '0') && out.parent_id != std::string(16, '0');
}

// The tracestate members as the harness reads them: headers joined, split at
// commas with optional whitespace, key and value at the first '='.
std::vector<std::pair<std::string, std::string>> tracestate_members(const std::vector<std::string>& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& header : headers) {
    std::size_t pos = 0;
    while (pos <= header.size()) {
      std::size_t comma = header.find(',', pos);
      if (comma == std::string::npos) comma = header.size();
      std::string member = header.substr(pos, comma - pos);
      const auto ows = [](char c) { return c == ' ' || c == '\t'; };
      while (!member.empty() && ows(member.front())) member.erase(member.begin());
      while (!member.empty() && ows(member.back())) member.pop_back();
      const std::size_t eq = member.find('=');
      if (!member.empty()) out.emplace_back(member.substr(0, eq), eq == std::string::npos ? "" : member.substr(eq + 1));
      pos = comma + 1;
    }
  }
  return out;
}

const std::string* member(const std::vector<std::pair<std::string, std::string>>& members, const std::string& key) {
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}

class self_test {
 public:
  int run() {
    httplib::Server service_server, receiver_server;
    tracing::tracer tracer = make_tracer();
    install(tracer, service_server);
    receiver sink(receiver_server);
    running_server service(service_server), target(receiver_server);
    sink_ = &sink;
    service_port_ = service.start();
    receiver_port_ = target.start();
    if (service_port_ <= 0 || receiver_port_ <= 0) {
      std::fprintf(stderr, "self-test: cannot listen on 127.0.0.1\n");
      return 1;
    }
    traceparent_cases();
    tracestate_cases();
    advanced_cases();
    own_cases();
    std::printf("self-test: %d cases (the W3C suite's, level 2, and ours), %d checks, %d failed\n", cases_, checks_,
                failures_);
    return failures_ == 0 ? 0 : 1;
  }

 private:
  using header_list = std::vector<std::pair<std::string, std::string>>;
  const std::string tid_ = "12345678901234567890123456789012";
  const std::string pid_ = "1234567890123456";

  std::string tp(const std::string& version, const std::string& flags = "01") const {
    return version + "-" + tid_ + "-" + pid_ + "-" + flags;
  }

  // One POST /test with `headers`, asking for `count` callbacks (or for `steps`
  // as given); the callbacks as received.
  std::vector<callback> exchange(const header_list& headers, int count = 1, const std::string& steps = "") {
    ++cases_;
    std::vector<std::string> ids;
    std::string body = steps;
    if (body.empty()) {
      body = "[";
      for (int i = 0; i < count; ++i) {
        ids.push_back("c" + std::to_string(cases_) + "n" + std::to_string(i));
        if (i != 0) body += ',';
        body += R"({"url":"http://127.0.0.1:)" + std::to_string(receiver_port_) + "/callback/" + ids.back() +
                R"(","arguments":[]})";
      }
      body += "]";
    }
    httplib::Headers h;
    for (const auto& kv : headers) h.emplace(kv.first, kv.second);
    httplib::Client client("127.0.0.1", service_port_);
    client.set_read_timeout(10, 0);
    const auto res = client.Post("/test", h, body, "application/json");
    check(res && res->status == 200, title_ + ": POST /test answered 200");
    return sink_->take(ids, order_);
  }

  traceparent single(const callback& cb) {
    traceparent out;
    check(cb.traceparents.size() == 1, title_ + ": exactly one traceparent (got " +
                                           std::to_string(cb.traceparents.size()) + ")");
    check(!cb.traceparents.empty() && parse_traceparent(cb.traceparents[0], out),
          title_ + ": a well-formed traceparent: " + (cb.traceparents.empty() ? "(none)" : cb.traceparents[0]));
    return out;
  }

  // The incoming trace continues: same trace id, a new parent-id.
  traceparent keeps(const std::string& title, const header_list& headers) {
    title_ = title;
    const traceparent out = single(exchange(headers)[0]);
    check(out.trace_id == tid_, title_ + ": keeps the trace id");
    check(out.parent_id != pid_, title_ + ": a new parent-id");
    return out;
  }

  // The incoming traceparent is rejected: a new trace id, none of `not_these`.
  void restarts(const std::string& title, const header_list& headers, std::vector<std::string> not_these = {}) {
    title_ = title;
    const traceparent out = single(exchange(headers)[0]);
    not_these.push_back(tid_);
    for (const auto& old : not_these) check(out.trace_id != old, title_ + ": a new trace id, not " + old);
  }

  std::vector<std::pair<std::string, std::string>> state_of(const std::string& title, const header_list& headers) {
    title_ = title;
    const callback cb = exchange(headers)[0];
    traceparent out = single(cb);
    check(out.trace_id == tid_, title_ + ": keeps the trace id");
    return tracestate_members(cb.tracestates);
  }

  void has(const std::vector<std::pair<std::string, std::string>>& members, const std::string& key,
           const std::string& value) {
    const std::string* v = member(members, key);
    check(v != nullptr && *v == value, title_ + ": tracestate has " + key.substr(0, 40) + "=" + value.substr(0, 40));
  }
  void lacks(const std::vector<std::pair<std::string, std::string>>& members, const std::string& key) {
    check(member(members, key) == nullptr, title_ + ": tracestate has no member " + key.substr(0, 40));
  }

  void traceparent_cases() {
    const std::string valid = tp("00");
    restarts("both traceparent and tracestate missing", {});
    keeps("traceparent included, tracestate missing", {{"traceparent", valid}});
    restarts("two traceparent headers", {{"traceparent", "00-12345678901234567890123456789011-" + pid_ + "-01"},
                                         {"traceparent", valid}},
             {"12345678901234567890123456789011"});
    for (const char* name : {"trace-parent", "trace.parent"})
      restarts(std::string("traceparent under the wrong name ") + name, {{name, valid}});
    for (const char* name : {"TraceParent", "TrAcEpArEnT", "TRACEPARENT"})
      keeps(std::string("traceparent name casing ") + name, {{name, valid}});
    restarts("version 00 with a trailing character", {{"traceparent", valid + "."}});
    restarts("version 00 with extra fields", {{"traceparent", valid + "-what-the-future-will-be-like"}});
    keeps("future version cc", {{"traceparent", tp("cc")}});
    keeps("future version cc with extra fields", {{"traceparent", tp("cc") + "-what-the-future-will-be-like"}});
    restarts("future version cc, extra text without a dash", {{"traceparent", tp("cc") + ".what-the-future-will-be-like"}});
    restarts("version ff", {{"traceparent", tp("ff")}});
    for (const char* v : {".0", "0.", "000", "0000", "0"})
      restarts(std::string("version '") + v + "'", {{"traceparent", tp(v)}});
    restarts("all-zero trace id", {{"traceparent", "00-" + std::string(32, '0') + "-" + pid_ + "-01"}},
             {std::string(32, '0')});
    for (const std::string& id : {std::string(".2345678901234567890123456789012"),
                                  std::string("1234567890123456789012345678901."),
                                  std::string("1234567890123456789012345678901")})
      restarts("trace id '" + id + "'", {{"traceparent", "00-" + id + "-" + pid_ + "-01"}});
    restarts("trace id of 33 digits", {{"traceparent", "00-123456789012345678901234567890123-" + pid_ + "-01"}},
             {"23456789012345678901234567890123"});
    for (const char* id : {"0000000000000000", ".234567890123456", "123456789012345.", "12345678901234567",
                           "123456789012345"})
      restarts(std::string("parent id '") + id + "'", {{"traceparent", "00-" + tid_ + "-" + id + "-01"}});
    for (const char* flags : {".0", "0.", "001", "1"})
      restarts(std::string("trace flags '") + flags + "'", {{"traceparent", tp("00", flags)}});
    for (const std::string& v : {" " + valid, "\t" + valid, valid + " ", valid + "\t", "\t " + valid + " \t"})
      keeps("traceparent with optional whitespace", {{"traceparent", v}});
  }

  void tracestate_cases() {
    const std::string unsampled = tp("00", "00");
    title_ = "tracestate without traceparent";
    const auto a = tracestate_members(exchange({{"tracestate", "foo=1"}})[0].tracestates);
    const auto b = tracestate_members(exchange({{"tracestate", "foo=1,bar=2"}})[0].tracestates);
    check(a.size() == b.size(), title_ + ": discarded, whatever it held");

    auto m = state_of("traceparent and tracestate", {{"traceparent", unsampled}, {"tracestate", "foo=1,bar=2"}});
    has(m, "foo", "1");
    has(m, "bar", "2");
    for (const char* name : {"trace-state", "trace.state"}) {
      m = state_of(std::string("tracestate under the wrong name ") + name, {{"traceparent", unsampled}, {name, "foo=1"}});
      lacks(m, "foo");
    }
    for (const char* name : {"TraceState", "TrAcEsTaTe", "TRACESTATE"}) {
      m = state_of(std::string("tracestate name casing ") + name, {{"traceparent", unsampled}, {name, "foo=1"}});
      has(m, "foo", "1");
    }
    m = state_of("empty tracestate", {{"traceparent", unsampled}, {"tracestate", ""}});
    check(m.empty(), title_ + ": no members");
    m = state_of("tracestate, then an empty one", {{"traceparent", unsampled}, {"tracestate", "foo=1"}, {"tracestate", ""}});
    has(m, "foo", "1");
    m = state_of("empty tracestate, then one", {{"traceparent", unsampled}, {"tracestate", ""}, {"tracestate", "foo=1"}});
    has(m, "foo", "1");

    title_ = "several tracestate headers";
    {
      const callback cb = exchange({{"traceparent", unsampled},
                                    {"tracestate", "foo=1,bar=2"},
                                    {"tracestate", "rojo=1,congo=2"},
                                    {"tracestate", "baz=3"}})[0];
      std::string joined;
      for (const auto& h : cb.tracestates) joined += (joined.empty() ? "" : ",") + h;
      std::size_t last = 0;
      bool in_order = true;
      for (const char* kv : {"foo=1", "bar=2", "rojo=1", "congo=2", "baz=3"}) {
        const std::size_t at = joined.find(kv);
        in_order = in_order && at != std::string::npos && at >= last;
        last = at == std::string::npos ? last : at;
      }
      check(in_order, title_ + ": combined, in order: " + joined);
    }

    const header_list duplicates[] = {{{"tracestate", "foo=1,foo=1"}},
                                      {{"tracestate", "foo=1,foo=2"}},
                                      {{"tracestate", "foo=1"}, {"tracestate", "foo=1"}},
                                      {{"tracestate", "foo=1"}, {"tracestate", "foo=2"}}};
    for (auto headers : duplicates) {
      headers.insert(headers.begin(), {"traceparent", unsampled});
      lacks(state_of("tracestate with a duplicated key", headers), "foo");
    }

    std::string key;
    for (char c = 'a'; c <= 'z'; ++c) key += c;
    key += "0123456789_-*/";
    std::string value;
    for (int c = 0x20; c <= 0x7E; ++c)
      if (c != 0x2C && c != 0x3D) value += static_cast<char>(c);
    for (const std::string& k : {key, key + "@a-z0-9_-*/"}) {
      m = state_of("tracestate with every allowed character", {{"traceparent", unsampled}, {"tracestate", k + "=" + value}});
      has(m, k, value);
    }

    for (const char* text : {"foo=1 \t , \t bar=2, \t baz=3", "foo=1\t \t,\t \tbar=2,\t \tbaz=3"}) {
      m = state_of("tracestate with optional whitespace", {{"traceparent", unsampled}, {"tracestate", text}});
      has(m, "foo", "1");
      has(m, "bar", "2");
      has(m, "baz", "3");
    }
    for (const char* text : {" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"}) {
      m = state_of("tracestate with optional whitespace", {{"traceparent", unsampled}, {"tracestate", text}});
      has(m, "foo", "1");
    }

    for (const char* text : {"foo =1", "FOO=1", "foo.bar=1"}) {
      m = state_of(std::string("tracestate key '") + text + "'", {{"traceparent", unsampled}, {"tracestate", text}});
      check(m.empty(), title_ + ": discarded");
    }
    for (const char* text : {"foo@=1,bar=2", "@foo=1,bar=2", "foo@@bar=1,bar=2", "foo@bar@baz=1,bar=2"}) {
      m = state_of(std::string("tracestate vendor key '") + text + "'", {{"traceparent", unsampled}, {"tracestate", text}});
      lacks(m, "bar");
    }

    const auto members = [](int from, int to) {
      std::string s;
      for (int i = from; i <= to; ++i) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "bar%02d=%02d", i, i);
        s += (s.empty() ? "" : ",") + std::string(buf);
      }
      return s;
    };
    const header_list thirty_two{{"traceparent", unsampled},   {"tracestate", members(1, 10)},
                                 {"tracestate", members(11, 20)}, {"tracestate", members(21, 30)},
                                 {"tracestate", members(31, 32)}};
    m = state_of("tracestate of 32 members", thirty_two);
    has(m, "bar01", "01");
    check(m.size() == 32, title_ + ": all 32 kept");
    header_list thirty_three = thirty_two;
    thirty_three.back().second = members(31, 33);
    lacks(state_of("tracestate of 33 members", thirty_three), "bar01");

    const std::pair<std::string, bool> keys[] = {{std::string(256, 'z'), true},
                                                 {std::string(257, 'z'), false},
                                                 {std::string(241, 't') + "@" + std::string(14, 'v'), true},
                                                 {std::string(242, 't') + "@v", false},
                                                 {"t@" + std::string(15, 'v'), false}};
    for (const auto& [k, allowed] : keys) {
      m = state_of("tracestate key of " + std::to_string(k.size()) + " characters",
                   {{"traceparent", unsampled}, {"tracestate", "foo=1"}, {"tracestate", k + "=1"}});
      if (allowed)
        has(m, "foo", "1");
      else
        lacks(m, "foo");
    }

    m = state_of("tracestate value 'bar=baz'", {{"traceparent", unsampled}, {"tracestate", "foo=bar=baz"}});
    lacks(m, "foo");
    m = state_of("tracestate with an empty value", {{"traceparent", unsampled}, {"tracestate", "foo=,bar=3"}});
    lacks(m, "foo");
    lacks(m, "bar");
  }

  void advanced_cases() {
    const auto three = [&](const std::string& title, const header_list& headers) {
      title_ = title;
      std::vector<std::string> traces, parents;
      for (const callback& cb : exchange(headers, 3)) {
        const traceparent out = single(cb);
        traces.push_back(out.trace_id);
        if (std::find(parents.begin(), parents.end(), out.parent_id) == parents.end()) parents.push_back(out.parent_id);
      }
      check(parents.size() == 3, title_ + ": a different parent-id on each callback");
      return traces;
    };
    for (const auto& t : three("three callbacks, valid traceparent", {{"traceparent", tp("00")}}))
      check(t == tid_, title_ + ": every callback keeps the trace id");
    three("three callbacks, no traceparent", {});
    for (const auto& t : three("three callbacks, invalid traceparent",
                               {{"traceparent", "00-" + std::string(32, '0') + "-" + pid_ + "-01"}}))
      check(t != std::string(32, '0'), title_ + ": a valid new trace id");
    check(order_.size() == 3, title_ + ": callbacks one after the other");
  }

  void own_cases() {
    // Flags: sampled follows the caller (parent-based sampling); the level 2
    // random flag is passed on as received, and set on traces started here.
    for (const char* flags : {"00", "01", "02", "03"})
      check(keeps(std::string("trace flags ") + flags + " passed on", {{"traceparent", tp("00", flags)}}).flags == flags,
            title_ + ": same flags");
    title_ = "a new trace sets the random flag";
    const traceparent fresh = single(exchange({})[0]);
    check(fresh.flags.size() == 2 && (std::stoi(fresh.flags, nullptr, 16) & 0x02) != 0, title_ + ": " + fresh.flags);

    title_ = "arguments posted as the body, callbacks in order";
    const std::string url = "http://127.0.0.1:" + std::to_string(receiver_port_) + "/callback/";
    {
      std::vector<std::string> ids{"own" + std::to_string(cases_) + "a", "own" + std::to_string(cases_) + "b"};
      const std::string steps = R"([{"url":")" + url + ids[0] + R"(","arguments":[1,"two",{"three":3}]},)" +
                                R"({"url":")" + url + ids[1] + R"(","arguments":[]}])";
      httplib::Headers h{{"traceparent", tp("00")}};
      httplib::Client client("127.0.0.1", service_port_);
      client.set_read_timeout(10, 0);
      const auto res = client.Post("/test", h, steps, "application/json");
      ++cases_;
      check(res && res->status == 200, title_ + ": answered 200");
      const auto got = sink_->take(ids, order_);
      check(got[0].body == R"([1,"two",{"three":3}])", title_ + ": body " + got[0].body);
      check(order_ == ids, title_ + ": in order");
    }

    title_ = "a nested /test call keeps the trace";
    {
      const std::string inner = "own" + std::to_string(cases_) + "inner";
      const std::string steps = R"([{"url":"http://127.0.0.1:)" + std::to_string(service_port_) +
                                R"(/test","arguments":[{"url":")" + url + inner + R"(","arguments":[]}]}])";
      httplib::Headers h{{"traceparent", tp("00")}};
      httplib::Client client("127.0.0.1", service_port_);
      client.set_read_timeout(10, 0);
      const auto res = client.Post("/test", h, steps, "application/json");
      ++cases_;
      check(res && res->status == 200, title_ + ": answered 200");
      const traceparent out = single(sink_->take({inner}, order_)[0]);
      check(out.trace_id == tid_ && out.parent_id != pid_, title_ + ": same trace, new parent-id");
    }

    title_ = "a body that is not a JSON array";
    {
      httplib::Client client("127.0.0.1", service_port_);
      const auto res = client.Post("/test", "{not json", "application/json");
      ++cases_;
      check(res && res->status == 400, title_ + ": 400");
    }
  }

  void check(bool ok, const std::string& what) {
    ++checks_;
    if (!ok) {
      ++failures_;
      std::printf("  FAILED: %s\n", what.c_str());
    }
  }

  receiver* sink_ = nullptr;
  int service_port_ = -1, receiver_port_ = -1;
  int cases_ = 0, checks_ = 0, failures_ = 0;
  std::string title_;
  std::vector<std::string> order_;
};

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--host ADDRESS] PORT\n       %s --self-test\n", argv0, argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::string host = "127.0.0.1";
  int port = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--self-test") {
      try {
        return self_test().run();
      } catch (const tracing::config_error& e) {
        std::fprintf(stderr, "bad tracing config: %s\n", e.what());
        return 1;
      }
    }
    if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else {
      char* end = nullptr;
      const long p = std::strtol(arg.c_str(), &end, 10);
      if (end == arg.c_str() || *end != '\0' || p <= 0 || p > 65535) return usage(argv[0]);
      port = static_cast<int>(p);
    }
  }
  if (port < 0) return usage(argv[0]);

  tracing::tracer tracer;
  try {
    tracer = make_tracer();
  } catch (const tracing::config_error& e) {
    std::fprintf(stderr, "bad tracing config: %s\n", e.what());
    return 1;
  }
  httplib::Server server;
  install(tracer, server);
  std::printf("trace context service: POST http://%s:%d/test (Ctrl-C to stop)\n", host.c_str(), port);
  std::fflush(stdout);
  if (!server.listen(host, port)) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  return 0;
}
